"""Resolving a chapter's parameters for a profile: the schema, overrides, a parameter cell, the table."""

from __future__ import annotations

import difflib
from typing import Any, Mapping

from .chapters import CHAPTERS, COMMON
from .schema import Param, ParameterError, coerce


def chapter_schema(chapter: str) -> dict[str, Param]:
    """All parameters of ``chapter`` (common ones first).

    Raises:
        ParameterError: unknown chapter (the message lists the known ones).
    """
    if chapter not in CHAPTERS:
        raise ParameterError(f"Unknown chapter '{chapter}'. Known chapters: {', '.join(CHAPTERS)}.")
    return {**COMMON, **CHAPTERS[chapter]}


def resolve(chapter: str, profile: str = "quick", **overrides: Any) -> dict[str, Any]:
    """The chapter's parameters for ``profile`` with ``overrides`` applied and validated.

    An override of ``None`` means "the profile's default".

    Raises:
        ParameterError: unknown chapter or parameter, wrong type or value out of range; one message
            naming the parameter and the allowed values.

    Example:
        >>> resolve("data", "smoke", dataset="BasicMotions")["dataset"]
        ['BasicMotions']
    """
    schema = chapter_schema(chapter)
    profile = coerce("profile", COMMON["profile"], profile)
    unknown = [k for k in overrides if k not in schema]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(schema), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ParameterError(
            f"Unknown parameter '{unknown[0]}' for chapter '{chapter}'.{hint} "
            f"Allowed: {', '.join(schema)}."
        )
    resolved = {"profile": profile}
    for name, spec in schema.items():
        if name == "profile":
            continue
        value = overrides.get(name)
        resolved[name] = coerce(name, spec, spec.default_for(profile) if value is None else value)
    return resolved


def resolve_cell(chapter: str, namespace: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`resolve` with the values of a chapter's parameter cell, read from ``namespace``.

    A chapter calls ``resolve_cell("simclr", globals())`` after its papermill parameter cell, so
    every parameter the cell defines (or papermill injects) reaches :func:`resolve` and none can be
    forgotten in a hand-written call.

    Raises:
        ParameterError: if the namespace lacks one of the chapter's parameters (the parameter cell
            is out of date), or as :func:`resolve`.
    """
    schema = chapter_schema(chapter)
    missing = [name for name in schema if name not in namespace]
    if missing:
        raise ParameterError(f"Chapter '{chapter}' defines no value for {', '.join(missing)}: add "
                             f"them to its parameter cell (None means the profile's default).")
    return resolve(chapter, namespace["profile"], **{name: namespace[name] for name in schema if name != "profile"})


def describe(chapter: str) -> str:
    """A table of the chapter's parameters, for ``sslts params CHAPTER``."""
    lines = [f"Parameters of chapter '{chapter}':"]
    for name, spec in chapter_schema(chapter).items():
        base = spec.method_default() if spec.targets else spec.default
        default = base if not spec.by_profile else f"{base} (" + ", ".join(
            f"{p}: {v}" for p, v in spec.by_profile.items()) + ")"
        lines.append(f"  {name:<20} {spec.allowed():<40} default {default}  -- {spec.help}")
    return "\n".join(lines)
