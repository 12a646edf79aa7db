"""The session types every region has (plugins add their own, e.g. equity workshops)."""

from copnet import hookimpl

COPNET_HOOKSPEC_VERSION = 2
# copnet's own defaults: on in every region unless a region's (or county office's) configuration
# switches them off.
COPNET_ENABLED_BY_DEFAULT = True

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
     "description": "Analyse class data by student group, set goals, plan the next cycle."},
    {"key": "site_follow_up", "title": "Site follow-up visit", "default_duration_minutes": 240,
     "description": "A facilitator's half-day support visit at a school."},
]


@hookimpl(trylast=True)
def register_session_types():
    return [dict(item) for item in CORE_SESSION_TYPES]
