"""cycles RPCs of ReflectionService."""


class CyclesRpcs:
    ctx = None  # the ServiceContext, set by ReflectionServicer
