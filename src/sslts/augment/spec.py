"""The string form of a pipeline spec, as chapter parameters write it.

``"jitter(p=0.8,sigma=0.05),scaling"`` is read into the list-of-dicts form that
:func:`sslts.augment.build_pipeline` accepts; names and values are checked there, not here.
"""

from __future__ import annotations

import re
from typing import Any

# One step: a name, optionally "(key=value,...)", then a comma or the end of the spec.
_STEP = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:\(([^()]*)\))?\s*(?:,|$)")


def _literal(text: str) -> Any:
    """``"0.8"`` -> 0.8, ``"3"`` -> 3, ``"true"`` -> True; anything else stays a string."""
    text = text.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _parse_spec(spec: str) -> list[dict[str, Any]]:
    """``"jitter(p=0.8,sigma=0.05),scaling"`` -> ``[{"name": "jitter", "p": 0.8, "sigma": 0.05}, {"name": "scaling"}]``."""
    steps, position = [], 0
    while position < len(spec):
        match = _STEP.match(spec, position)
        if match is None or match.end() == position:
            raise ValueError(
                f"cannot read the augmentation spec {spec!r} at position {position}: expected "
                "'name' or 'name(key=value,...)' separated by commas, e.g. 'jitter(p=0.8,sigma=0.05),scaling'"
            )
        step: dict[str, Any] = {"name": match.group(1)}
        for pair in filter(str.strip, (match.group(2) or "").split(",")):
            key, sep, value = pair.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"in augmentation {match.group(1)!r}: expected key=value, got {pair.strip()!r}")
            step[key.strip()] = _literal(value)
        steps.append(step)
        position = match.end()
    if not steps:
        raise ValueError(f"empty augmentation spec {spec!r}")
    return steps

