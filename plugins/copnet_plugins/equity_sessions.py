"""Equity sessions: workshop types for culturally responsive, anti-bias math teaching.

Adds session types a community can schedule — culturally responsive math tasks, examining bias
in grouping and tracking, student voice and belonging, and language-rich math for multilingual
learners — each with the fields a facilitator fills in, preparation prompts for participants and
reflection prompts for the debrief. A region can hide any of them and add its own.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from copnet import GRADE_BANDS, PluginSettings, SessionType, hookimpl
from copnet_plugins.core_session_types import CORE_SESSION_TYPES

COPNET_HOOKSPEC_VERSION = 2

STUDENT_GROUPS = ["english_learners", "students_with_disabilities", "socioeconomically_disadvantaged",
                  "foster_youth", "homeless_youth", "black_students", "latino_students",
                  "american_indian_alaska_native_students", "pacific_islander_students", "girls", "other"]

_GRADE_BANDS_FIELD = {"type": "array", "items": {"type": "string", "enum": list(GRADE_BANDS)}, "uniqueItems": True,
                      "title": "Grade bands", "description": "The grade bands the session's examples come from."}
_FOCUS_GROUPS_FIELD = {
    "type": "array", "items": {"type": "string", "enum": STUDENT_GROUPS}, "uniqueItems": True,
    "title": "Focus student groups",
    "description": "The student groups whose experience of math this session centres (as in the region's data).",
}
_STANDARDS_FIELD = {
    "type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 20,
    "title": "Math standards", "description": "CCSS-M standards or practices in focus, e.g. 5.NF.A.1 or MP3.",
}


def _fields(properties: dict, required: list[str] = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


BUILT_IN_SESSION_TYPES: tuple[SessionType, ...] = (
    SessionType(
        key="equity_culturally_responsive_tasks",
        title="Culturally responsive math tasks",
        description=("Participants bring a task they teach and revise it together so that it draws on students' "
                     "lives, languages and communities, keeps the mathematics rigorous, and offers several "
                     "ways in and several ways to show understanding."),
        default_duration_minutes=150,
        fields=_fields({
            "focus_student_groups": _FOCUS_GROUPS_FIELD,
            "grade_bands": _GRADE_BANDS_FIELD,
            "standards": _STANDARDS_FIELD,
            "task_to_bring": {"type": "string", "maxLength": 1000, "title": "Task to bring",
                              "description": "What each participant brings: a task from an upcoming unit, "
                                             "with two or three samples of student work."},
            "reading": {"type": "string", "maxLength": 500, "title": "Shared reading",
                        "description": "An optional short reading everyone does beforehand."},
        }, required=["task_to_bring"]),
        preparation_prompts=[
            "Choose a task from a unit you will teach in the next month and bring it with two or three samples "
            "of student work, including one from a student the task did not reach.",
            "Whose experiences, contexts and ways of knowing does this task assume? Whose does it leave out?",
            "What do you know about your students' interests, home languages and community — and how did you "
            "learn it? Note one thing you would like to learn.",
            "Where is the mathematical demand of the task? Mark the part you would never want to water down.",
        ],
        reflection_prompts=[
            "What did you change in your task, and what stayed exactly as rigorous as before?",
            "Which students do you expect to engage differently with the revised task, and what will you look "
            "for in their work to know?",
            "Where did our conversation drift toward 'making it easier' instead of 'making it accessible'? "
            "How did we notice?",
            "What will you try with your class before we meet again, and what student work will you bring back?",
        ],
    ),
    SessionType(
        key="equity_grouping_and_tracking",
        title="Examining bias in grouping and tracking",
        description=("Looks at who ends up in which group, course or pathway — in participants' own classes and "
                     "schools — and at the beliefs about ability behind those decisions, then plans one change "
                     "toward heterogeneous grouping and open access to advanced mathematics."),
        default_duration_minutes=180,
        fields=_fields({
            "focus_student_groups": _FOCUS_GROUPS_FIELD,
            "grade_bands": _GRADE_BANDS_FIELD,
            "data_to_bring": {"type": "string", "maxLength": 1000, "title": "Data to bring",
                              "description": "Aggregated counts only, never a student's record: e.g. enrollment "
                                             "in each course or group by student group."},
            "placement_policy": {"type": "string", "maxLength": 1000, "title": "Placement policy in focus",
                                 "description": "The course-placement or grouping practice the session examines, "
                                                "e.g. grade 8 algebra placement, reading-level groups in math."},
        }, required=["data_to_bring"]),
        preparation_prompts=[
            "Bring your school's or class's grouping or course-placement counts by student group — aggregated "
            "numbers only, with groups under ten students left out.",
            "How are students placed in groups or courses today? List every input to that decision (test scores, "
            "teacher recommendation, parent request, prior course) and who decides.",
            "Think of a student who was placed lower than you now believe they should have been. What told you "
            "so, and when?",
            "Which words do colleagues (and you) use for students — 'low', 'high', 'bubble', 'strong'? Write down "
            "the ones you hear most.",
        ],
        reflection_prompts=[
            "What pattern in the placement data surprised you, and which student groups does it affect most?",
            "Which beliefs about mathematical ability did we hear behind today's practices, and what evidence "
            "challenges them?",
            "What is one grouping or placement decision you can change yourself before the next session?",
            "Who else (counselors, administrators, families) needs to be part of changing the policy, and how "
            "will you bring them in?",
        ],
    ),
    SessionType(
        key="equity_student_voice_belonging",
        title="Student voice and belonging in math",
        description=("Centres students' own accounts of math class — through surveys, interviews or a student "
                     "panel — to understand who feels they belong as a doer of mathematics, and plans classroom "
                     "routines that distribute authority and make every student's thinking count."),
        default_duration_minutes=120,
        fields=_fields({
            "focus_student_groups": _FOCUS_GROUPS_FIELD,
            "grade_bands": _GRADE_BANDS_FIELD,
            "student_input": {"type": "string", "enum": ["survey", "interviews", "student_panel", "exit_tickets",
                                                         "none"],
                              "title": "Student input",
                              "description": "How students' voices come into the session."},
            "routine_in_focus": {"type": "string", "maxLength": 500, "title": "Routine in focus",
                                 "description": "A classroom routine to examine, e.g. number talks, "
                                                "think-pair-share, how answers are checked."},
        }),
        preparation_prompts=[
            "Ask your students (anonymously) two questions: 'When do you feel smart in math class?' and 'When do "
            "you feel like you don't belong?'. Bring a summary of the answers, not the answers themselves.",
            "During one lesson this week, tally whose ideas are discussed by the whole class. Who talks, who is "
            "called on, whose ideas get named?",
            "Which students are rarely seen as 'good at math' in your class? What strengths do they show outside "
            "math class?",
        ],
        reflection_prompts=[
            "What did students tell us that we would not have heard without asking?",
            "Whose mathematical ideas get status in your classroom, and how could you assign competence to a "
            "student whose thinking is often overlooked?",
            "Which routine will you change so that more students explain, question and decide in math class?",
            "How will you ask students, in a month, whether anything changed for them?",
        ],
    ),
    SessionType(
        key="equity_multilingual_learners",
        title="Language-rich math for multilingual learners",
        description=("Plans mathematical discourse that supports English learners' language development without "
                     "lowering the mathematics: language demands of a task, sentence frames that invite "
                     "reasoning rather than recall, home languages as a resource, and participation structures "
                     "that give time to talk."),
        default_duration_minutes=150,
        fields=_fields({
            "grade_bands": _GRADE_BANDS_FIELD,
            "standards": _STANDARDS_FIELD,
            "task_to_bring": {"type": "string", "maxLength": 1000, "title": "Task to bring",
                              "description": "A task with rich language demands (a word problem, an "
                                             "explain-your-reasoning item) from an upcoming lesson."},
            "english_language_development_levels": {
                "type": "array", "items": {"type": "string", "enum": ["emerging", "expanding", "bridging"]},
                "uniqueItems": True, "title": "ELD proficiency levels",
                "description": "The English language development levels of the learners in focus."},
        }, required=["task_to_bring"]),
        preparation_prompts=[
            "Bring a task from an upcoming lesson and underline every word or phrase a student must understand or "
            "produce to do the mathematics.",
            "Which home languages do your students speak? Where could a student reason in one language and "
            "explain in another?",
            "Bring one sample of a multilingual learner's written or recorded explanation — anonymised — that "
            "shows more mathematical understanding than its English suggests.",
        ],
        reflection_prompts=[
            "Which language demands of your task were mathematical, and which were incidental and could be "
            "removed?",
            "What talk structure (e.g. stronger-and-clearer, three reads, partner rehearsal) will you use, and "
            "when in the lesson?",
            "How will you tell a language-development need from a mathematical misunderstanding in your "
            "students' next work?",
            "What did we assume about multilingual learners today that we should check with the students "
            "themselves?",
        ],
    ),
)
BUILT_IN_KEYS = frozenset(item.key for item in BUILT_IN_SESSION_TYPES)
CORE_KEYS = frozenset(item["key"] for item in CORE_SESSION_TYPES)


class Settings(PluginSettings):
    """A region's equity sessions: hide built-in types, add its own."""

    hidden: list[str] = Field(
        default_factory=list,
        description="Keys of built-in equity session types this region does not offer "
                    f"(any of: {', '.join(sorted(BUILT_IN_KEYS))}).")
    extra_session_types: list[SessionType] = Field(
        default_factory=list, max_length=50,
        description="The region's own session types, each shaped like a session type (key, title, description, "
                    "default_duration_minutes, fields, preparation_prompts, reflection_prompts). Keys must "
                    "differ from the built-in and core ones and from each other.")

    @field_validator("hidden")
    @classmethod
    def _hidden_are_built_in(cls, keys: list[str]) -> list[str]:
        unknown = [key for key in keys if key not in BUILT_IN_KEYS]
        if unknown:
            raise ValueError(f"not a built-in equity session type: {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(BUILT_IN_KEYS))})")
        return list(dict.fromkeys(keys))

    @field_validator("extra_session_types")
    @classmethod
    def _extra_keys_are_new(cls, items: list[SessionType]) -> list[SessionType]:
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item.key in BUILT_IN_KEYS or item.key in CORE_KEYS:
                raise ValueError(f"[{index}].key {item.key!r} is already a built-in session type; choose another")
            if item.key in seen:
                raise ValueError(f"[{index}].key {item.key!r} appears twice")
            seen.add(item.key)
            if item.fields.get("type") != "object":
                raise ValueError(f"[{index}].fields must be a JSON schema of type 'object'")
        return items


def session_types(settings: Settings | None) -> list[SessionType]:
    """The session types offered under these settings: built-ins not hidden, then the region's own."""
    settings = settings or Settings()
    hidden = set(settings.hidden)
    offered = [item.model_copy(deep=True) for item in BUILT_IN_SESSION_TYPES if item.key not in hidden]
    offered.extend(item.model_copy(deep=True) for item in settings.extra_session_types)
    return offered


@hookimpl
def register_session_types(settings, context):
    return session_types(settings)
