"""participation RPCs of ReflectionService."""


class ParticipationRpcs:
    ctx = None  # the ServiceContext, set by ReflectionServicer
