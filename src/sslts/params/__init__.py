"""Typed chapter parameters and run profiles, validated before any compute.

Every chapter declares its parameters here, once: type, default, allowed values and a per-profile
default where the profile matters. The papermill ``parameters`` cell of a chapter holds plain
literals (``None`` meaning "the profile's default"); the next cell calls :func:`resolve` so a
chapter executed directly with papermill is validated the same way as one run by ``sslts run``.

Profiles: ``smoke`` runs in seconds (CI, nbval), ``quick`` is the ``make book`` default (the whole
book in minutes on a 2-core CPU), ``full`` is the paper-grade setting.
"""

from .chapters import CHAPTERS, COMMON, DATASET_PATTERN
from .resolution import chapter_schema, describe, resolve, resolve_cell
from .schema import PROFILES, Param, ParameterError, coerce, method_param

__all__ = ["CHAPTERS", "COMMON", "DATASET_PATTERN", "PROFILES", "Param", "ParameterError", "chapter_schema", "coerce",
           "describe", "method_param", "resolve", "resolve_cell"]
