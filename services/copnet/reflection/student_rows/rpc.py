"""student rows RPCs of ReflectionService."""


class StudentRowsRpcs:
    ctx = None  # the ServiceContext, set by ReflectionServicer
