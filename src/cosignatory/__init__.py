"""cosignatory: no order takes effect until its cosignatories confirm it."""

__version__ = "0.1.0"
__all__ = ["__version__"]
