"""datasets RPCs of ReflectionService."""


class DatasetsRpcs:
    ctx = None  # the ServiceContext, set by ReflectionServicer
