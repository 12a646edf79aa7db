"""The built-in instrument: a mathematics teaching efficacy scale modelled on the Mathematics
Teaching Efficacy Beliefs Instrument (MTEBI; Enochs, Smith & Huinker, 2000, School Science and
Mathematics 100(4), 194-202).

Its structure follows the MTEBI: 21 five-point Likert items in two subscales, personal mathematics
teaching efficacy (PMTE, 13 items: 2, 3, 5, 6, 8, 11, 15-21) and mathematics teaching outcome
expectancy (MTOE, 8 items: 1, 4, 7, 9, 10, 12-14), with the negatively worded items 3, 6, 8, 15,
17, 18, 19 and 21 reverse-scored. The item texts are copnet's own paraphrases for practising
teachers, not the published wording: a region that holds permission to use the published items
can define them as its own instrument (docs/reflection/surveys.md).
"""

from __future__ import annotations

from copnet.reflection.surveys.instruments import Instrument, Item, Subscale

PMTE, MTOE = "pmte", "mtoe"

_ITEMS: tuple[tuple[str, str, bool], ...] = (
    (MTOE, "When a student does better in mathematics than usual, it is often because the teacher put in "
           "extra effort.", False),
    (PMTE, "I keep finding better ways to teach mathematics.", False),
    (PMTE, "However hard I try, I do not teach mathematics as well as I teach most other subjects.", True),
    (MTOE, "When students' mathematics grades improve, it is often because their teacher found a more "
           "effective way to teach.", False),
    (PMTE, "I know how to teach mathematical concepts effectively.", False),
    (PMTE, "I am not very effective at monitoring students' work during mathematics activities.", True),
    (MTOE, "When students underachieve in mathematics, the most likely reason is ineffective mathematics "
           "teaching.", False),
    (PMTE, "On the whole, I teach mathematics ineffectively.", True),
    (MTOE, "Good teaching can make up for gaps in a student's mathematics background.", False),
    (MTOE, "When a low-achieving student makes progress in mathematics, it is usually because the teacher "
           "gave them extra attention.", False),
    (PMTE, "I understand mathematical concepts well enough to teach mathematics effectively at my grade "
           "level.", False),
    (MTOE, "The teacher is largely responsible for how well students achieve in mathematics.", False),
    (MTOE, "How much students achieve in mathematics depends directly on how effectively their teacher "
           "teaches it.", False),
    (MTOE, "When families say their child is more interested in mathematics at school, it is probably "
           "thanks to the child's teacher.", False),
    (PMTE, "I find it hard to use manipulatives or models to show students why the mathematics works.", True),
    (PMTE, "I can usually answer students' mathematics questions.", False),
    (PMTE, "I wonder whether I have the skills I need to teach mathematics.", True),
    (PMTE, "Given the choice, I would not invite my principal or a colleague to observe my mathematics "
           "teaching.", True),
    (PMTE, "When a student struggles to understand a mathematical concept, I am usually at a loss for how to "
           "help them understand it better.", True),
    (PMTE, "When I teach mathematics, I welcome students' questions.", False),
    (PMTE, "I do not know what to do to get students interested in mathematics.", True),
)

MTEBI = Instrument(
    id="math-teaching-efficacy",
    version=1,
    name="Mathematics teaching efficacy scale",
    description="How teachers see their own ability to teach mathematics (personal mathematics teaching "
                "efficacy) and how much they expect good teaching to change students' learning (mathematics "
                "teaching outcome expectancy). Give it before and after the program year.",
    source="Modelled on the Mathematics Teaching Efficacy Beliefs Instrument (MTEBI): Enochs, L. G., Smith, P. L., "
           "& Huinker, D. (2000). Establishing factorial validity of the Mathematics Teaching Efficacy Beliefs "
           "Instrument. School Science and Mathematics, 100(4), 194-202. Item wording paraphrased by copnet.",
    scale_points=5,
    scale_labels=("Strongly disagree", "Disagree", "Uncertain", "Agree", "Strongly agree"),
    subscales=(
        Subscale(PMTE, "Personal mathematics teaching efficacy",
                 "Belief in one's own ability to teach mathematics well."),
        Subscale(MTOE, "Mathematics teaching outcome expectancy",
                 "Belief that effective mathematics teaching improves students' learning."),
    ),
    items=tuple(Item(f"q{number}", text, subscale, reverse)
                for number, (subscale, text, reverse) in enumerate(_ITEMS, start=1)),
    builtin=True,
)

BUILTIN: tuple[Instrument, ...] = (MTEBI,)
