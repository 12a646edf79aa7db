"""surveys RPCs of ReflectionService."""


class SurveysRpcs:
    ctx = None  # the ServiceContext, set by ReflectionServicer
