"""copnet: statewide networks of math Communities of Practice."""

from copnet.kernel.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["hookimpl", "__version__"]
