"""Errors shared across layers (the core library raises them; the parameter layer re-exports them).

The data layer's own errors are in :mod:`sslts.data.errors`.
"""

from __future__ import annotations


class ParameterError(ValueError):
    """A chapter parameter is unknown, of the wrong type or out of range."""
