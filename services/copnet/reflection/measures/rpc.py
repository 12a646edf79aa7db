"""measures RPCs of ReflectionService."""


class MeasuresRpcs:
    ctx = None  # the ServiceContext, set by ReflectionServicer
