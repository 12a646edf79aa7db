"""The session types every region has (plugins add their own, e.g. equity workshops)."""

from copnet import hookimpl

COPNET_HOOKSPEC_VERSION = 2
# copnet's own defaults: on in every region unless a region's (or county office's) configuration
# switches them off.
COPNET_ENABLED_BY_DEFAULT = True

# The student groups measures are broken down by (copnet.reflection.reference; a unit test keeps
# them equal).
MEASURE_STUDENT_GROUPS = (
    "all", "el", "not_el", "swd", "not_swd", "sed", "not_sed", "foster", "not_foster", "homeless", "not_homeless",
    "african_american", "american_indian", "asian", "filipino", "hispanic", "pacific_islander", "white",
    "two_or_more", "race_not_reported")

CORE_SESSION_TYPES = [
    {"key": "regular_convening", "title": "Regular convening", "default_duration_minutes": 180,
     "description": "The community's monthly meeting, virtual or in person."},
    {"key": "kick_off", "title": "Kick-off", "default_duration_minutes": 90,
     "description": "Opens the cycle: norms, goals and the commitment to attend every meeting."},
    {"key": "in_person_deep_dive", "title": "In-person deep dive", "default_duration_minutes": 360,
     "description": "A full day together at a venue."},
    {"key": "leaders_only_convening", "title": "Leaders-only convening", "default_duration_minutes": 120,
     "description": "Quarterly meeting of school and district leaders."},
    {"key": "orientation", "title": "Orientation", "default_duration_minutes": 60,
     "description": "Onboarding for new participants."},
    {"key": "lesson_study", "title": "Lesson study", "default_duration_minutes": 180,
     "description": "Plan, teach and observe a research lesson, then debrief."},
    {"key": "data_reflection", "title": "Data reflection", "default_duration_minutes": 120,
     "description": "Analyse class data by student group, set goals, plan the next cycle.",
     # The published measures the preparation shows (GET /api/v1/sessions/{id}/data-preparation);
     # each teacher's own students are theirs alone (GET /api/v1/me/student-results).
     "fields": {
         "type": "object", "additionalProperties": False,
         "properties": {
             "tests": {"type": "array", "maxItems": 5, "uniqueItems": True, "title": "Tests",
                       "items": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,62}$"},
                       "description": "The tests to look at, e.g. sbac-math; empty: every test."},
             "school_years": {"type": "array", "maxItems": 5, "uniqueItems": True, "title": "School years",
                              "items": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                              "description": "e.g. 2025-26; empty: every year."},
             "windows": {"type": "array", "uniqueItems": True, "title": "Test windows",
                         "items": {"type": "string", "enum": ["fall", "winter", "spring"]}},
             "student_groups": {"type": "array", "maxItems": 30, "uniqueItems": True, "title": "Student groups",
                                "items": {"type": "string", "enum": list(MEASURE_STUDENT_GROUPS)},
                                "description": "The groups to compare, as the measures name them (el: English "
                                               "learners, swd, sed, ...); empty: every group."},
             "grades": {"type": "array", "maxItems": 14, "uniqueItems": True, "title": "Grades",
                        "items": {"type": "string", "enum": ["K", "1", "2", "3", "4", "5", "6", "7", "8", "9",
                                                             "10", "11", "12", "all"]}},
             "include_schools": {"type": "boolean", "title": "Include schools",
                                 "description": "Also each school below the community's host organization."},
             "focus_question": {"type": "string", "maxLength": 500, "title": "Focus question",
                                "description": "The question the session looks at the data with."},
         },
     },
     "preparation_prompts": [
         ("Look at your students' results by student group before the session (your own students only, at "
          "/me/student-results): which groups are furthest from standard?"),
         ("Look at the community's measures for the same test and window: where do your students follow the "
          "pattern, and where not?"),
         "Bring one piece of student work that shows what the numbers cannot.",
         "Write down one question about a student group you would like the community to help you answer.",
     ],
     "reflection_prompts": [
         "Which gap did we choose to work on, and why that one?",
         "What goal did we set (measure, group, target and date), and how will we know we reached it?",
         "What will each of us try in class before the next session, and what evidence will we bring?",
         "What in the data surprised us, and what do we still not know about these students?",
     ]},
    {"key": "site_follow_up", "title": "Site follow-up visit", "default_duration_minutes": 240,
     "description": "A facilitator's half-day support visit at a school."},
]


@hookimpl(trylast=True)
def register_session_types():
    return [dict(item) for item in CORE_SESSION_TYPES]
