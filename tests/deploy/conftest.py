"""The registered model every deploy test uses (tests/deployproject.py)."""

from deployproject import project

__all__ = ["project"]
