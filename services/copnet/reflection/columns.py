"""The columns of what importers read and of what reflection keeps, as pyarrow schemas.

Importers (plugins) yield batches in one of the IMPORT schemas; reflection pseudonymises,
checks and stores them, and keeps per data set the roll-up cells below (sums, never means, so
cells of several data sets add up and a deleted data set's cells are simply left out).
"""

import pyarrow as pa

# -- what an importer yields, per kind (copnet.ASSESSMENT_KINDS) ---------------------------------
STUDENT_SCORES = pa.schema([
    ("row", pa.int64()),                 # the row's number in its file (a CSV header is row 1)
    ("student_id", pa.string()),         # as in the file; pseudonymised before anything is stored
    ("school_code", pa.string()),        # the school's code (a CDS code), as organizations carry it
    ("grade", pa.string()),              # "K", "1" .. "12"
    ("test", pa.string()),               # reference.TESTS key, or a local benchmark's name
    ("school_year", pa.string()),        # "2024-25"
    ("window", pa.string()),             # "fall", "winter", "spring" (the state summative: "spring")
    ("test_date", pa.date32()),          # may be null
    ("scale_score", pa.float64()),
    ("achievement_level", pa.int8()),    # 1..4; null: derived from the cut scores when the test has them
    ("percentile", pa.float64()),        # may be null
    ("proficiency_band", pa.string()),   # a vendor's band, may be null
    ("teacher_id", pa.string()),         # copnet person id of the student's teacher, may be null
    ("english_learner", pa.bool_()),
    ("disability", pa.bool_()),
    ("economically_disadvantaged", pa.bool_()),
    ("foster", pa.bool_()),
    ("homeless", pa.bool_()),
    ("race_ethnicity", pa.string()),     # reference.RACE_ETHNICITIES
])

AGGREGATE_RESULTS = pa.schema([
    ("row", pa.int64()),
    ("entity_code", pa.string()),        # the state ("00"), a county, district or school CDS code
    ("entity_level", pa.string()),       # "state", "county", "district", "school"
    ("student_group", pa.string()),      # reference.STUDENT_GROUPS
    ("grade", pa.string()),              # "3".."11" or "all"
    ("test", pa.string()),
    ("school_year", pa.string()),
    ("students_tested", pa.int64()),     # null: suppressed by the source
    ("mean_scale_score", pa.float64()),
    ("percent_level_1", pa.float64()),
    ("percent_level_2", pa.float64()),
    ("percent_level_3", pa.float64()),
    ("percent_level_4", pa.float64()),
    ("percent_met_or_exceeded", pa.float64()),
    ("suppressed_by_source", pa.bool_()),
])

CLASS_ENROLLMENTS = pa.schema([
    ("row", pa.int64()),
    ("student_id", pa.string()),         # pseudonymised before anything is stored
    ("teacher_id", pa.string()),         # copnet person id
    ("class_id", pa.string()),
    ("school_code", pa.string()),
    ("school_year", pa.string()),        # may be null: the enrollment holds for any year
])

IMPORT_SCHEMAS = {"student_scores": STUDENT_SCORES, "aggregate_results": AGGREGATE_RESULTS,
                  "class_enrollments": CLASS_ENROLLMENTS}

# -- what reflection keeps per data set ------------------------------------------------------------
CELL_KEYS = ("organization_id", "level", "student_group", "grade", "test", "school_year", "window")

# One cell: the students of one organization (school, district, county office, region) in one
# student group, grade ("all" for every grade) and test window, as sums.
MEASURE_CELLS = pa.schema([
    ("organization_id", pa.string()),
    ("level", pa.string()),              # "school", "district", "county_office", "region"
    ("student_group", pa.string()),
    ("grade", pa.string()),
    ("test", pa.string()),
    ("school_year", pa.string()),
    ("window", pa.string()),
    ("students", pa.int64()),
    ("scale_sum", pa.float64()),
    ("scale_square_sum", pa.float64()),
    ("level_1", pa.int64()),
    ("level_2", pa.int64()),
    ("level_3", pa.int64()),
    ("level_4", pa.int64()),
    ("dfs_students", pa.int64()),        # students whose grade has a Level 3 cut score
    ("dfs_sum", pa.float64()),           # sum of (scale score - the grade's Level 3 minimum)
])

# The same students in two windows (matched by pseudonym), grouped by the later window's cell.
GROWTH_CELLS = pa.schema([
    ("organization_id", pa.string()),
    ("level", pa.string()),
    ("student_group", pa.string()),
    ("grade", pa.string()),
    ("test", pa.string()),
    ("from_school_year", pa.string()),
    ("from_window", pa.string()),
    ("to_school_year", pa.string()),
    ("to_window", pa.string()),
    ("students", pa.int64()),
    ("change_sum", pa.float64()),
    ("change_square_sum", pa.float64()),
])

# Per teacher: their students' results by group and grade, the input of a community's measures
# (its participating teachers' students) and of effect sizes; never shown per teacher.
TEACHER_CELLS = pa.schema([
    ("teacher_id", pa.string()),
    ("school_id", pa.string()),
    ("student_group", pa.string()),
    ("grade", pa.string()),
    ("test", pa.string()),
    ("school_year", pa.string()),
    ("window", pa.string()),
    ("students", pa.int64()),
    ("scale_sum", pa.float64()),
    ("scale_square_sum", pa.float64()),
    ("level_1", pa.int64()),
    ("level_2", pa.int64()),
    ("level_3", pa.int64()),
    ("level_4", pa.int64()),
    ("dfs_students", pa.int64()),
    ("dfs_sum", pa.float64()),
    # The effect-size outcome: distance from standard where the grade has cut scores, else the scale score.
    ("outcome_sum", pa.float64()),
    ("outcome_square_sum", pa.float64()),
])

# What one data set's student rows are kept as (students.parquet): pseudonymous, placed in the
# organization tree, never a name or the id as the file had it.
STUDENT_ROWS = pa.schema([
    ("pseudonym", pa.string()),          # keyed hash of the student id (hex)
    ("school_id", pa.string()),
    ("district_id", pa.string()),
    ("county_office_id", pa.string()),
    ("region_id", pa.string()),
    ("grade", pa.string()),
    ("test", pa.string()),
    ("school_year", pa.string()),
    ("window", pa.string()),
    ("test_date", pa.date32()),
    ("scale_score", pa.float64()),
    ("achievement_level", pa.int8()),
    ("distance_from_standard", pa.float64()),
    ("percentile", pa.float64()),
    ("proficiency_band", pa.string()),
    ("teacher_id", pa.string()),
    ("english_learner", pa.bool_()),
    ("disability", pa.bool_()),
    ("economically_disadvantaged", pa.bool_()),
    ("foster", pa.bool_()),
    ("homeless", pa.bool_()),
    ("race_ethnicity", pa.string()),
    ("row", pa.int64()),
])

# Which teacher taught which student (enrollments.parquet of a class-enrollments data set).
ENROLLMENTS = pa.schema([
    ("pseudonym", pa.string()),
    ("teacher_id", pa.string()),
    ("class_id", pa.string()),
    ("school_id", pa.string()),
    ("school_year", pa.string()),
])
