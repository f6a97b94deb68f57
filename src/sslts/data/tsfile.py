"""Parser for the ``.ts`` format of the UEA/UCR archive (equal-length problems).

We parse the format ourselves rather than depend on sktime or aeon: those pull in numba and a large
dependency tree for what is a 150-line reader, and their readers return nested pandas objects we
would convert anyway. The format (Bagnall et al. 2018): ``#`` comment lines, ``@key value`` header
lines ending with ``@data``, then one case per line with dimensions separated by ``:`` and values by
``,``; the last field is the class label. ``?`` (or ``NaN``) marks a missing value.

Supported: univariate and multivariate, equal length, missing values, string class labels.
Rejected with a clear message: time stamps, unequal lengths, regression targets, malformed lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import MalformedFileError


@dataclass(frozen=True)
class TsFile:
    """Contents of one ``.ts`` file.

    Attributes:
        X: float32 array ``(n, channels, length)``; NaN where the file had ``?``.
        labels: the class label string of each case, shape ``(n,)``.
        class_labels: the labels declared by ``@classLabel`` (file order), or those seen.
        header: every ``@key value`` pair of the header (lower-case keys).
    """

    X: np.ndarray
    labels: np.ndarray
    class_labels: tuple[str, ...]
    header: dict[str, str] = field(default_factory=dict)


def _parse_value(token: str, path: Path, line_no: int) -> float:
    token = token.strip()
    if token in ("?", "", "NaN", "nan"):
        return float("nan")
    try:
        return float(token)
    except ValueError:
        raise MalformedFileError(f"{path}, line {line_no}: '{token[:30]}' is not a number.") from None


def read_ts(path: str | Path, pad_unequal: bool = False) -> TsFile:
    """Read a ``.ts`` file into a :class:`TsFile`.

    With ``pad_unequal``, a file of unequal-length series (``@equalLength false``) is read too: every
    series is padded with NaN at its end to the longest length (callers resample or drop the NaNs).

    Raises:
        MalformedFileError: unsupported feature or malformed/truncated content; the message names
            the file and line.
    """
    path = Path(path)
    header: dict[str, str] = {}
    rows: list[np.ndarray] = []
    labels: list[str] = []
    label_lines: list[int] = []  # file line of each case, for error messages
    in_data = False
    n_dims = None
    length = None
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line_no, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                if not line.startswith("@"):
                    raise MalformedFileError(f"{path}, line {line_no}: expected a '@key value' header line or '@data'.")
                key, _, value = line[1:].partition(" ")
                key = key.lower()
                if key == "data":
                    in_data = True
                    _check_header(header, path, pad_unequal)
                    continue
                header[key] = value.strip()
                continue
            fields = line.split(":")
            *dims, label = fields
            if n_dims is None:
                n_dims = len(dims)
                declared = header.get("dimensions")
                if declared is not None and declared.isdigit() and int(declared) != n_dims and header.get("univariate", "").lower() != "true":
                    raise MalformedFileError(
                        f"{path}, line {line_no}: {n_dims} dimensions, but the header declares {declared}."
                    )
            if len(dims) != n_dims or n_dims == 0:
                raise MalformedFileError(
                    f"{path}, line {line_no}: {len(dims)} dimensions where earlier cases have {n_dims} "
                    "(truncated or malformed line)."
                )
            values = [[_parse_value(t, path, line_no) for t in dim.split(",")] for dim in dims]
            lengths = {len(v) for v in values}
            if length is None:
                length = next(iter(lengths)) if len(lengths) == 1 else -1
            if pad_unequal:
                longest = max(lengths)
                values = [v + [float("nan")] * (longest - len(v)) for v in values]
            elif lengths != {length}:
                raise MalformedFileError(
                    f"{path}, line {line_no}: series lengths {sorted(lengths)} differ from {length}. "
                    "Unequal-length problems are not supported; resample or pad them first."
                )
            rows.append(np.asarray(values, dtype=np.float32))
            labels.append(label.strip())
            label_lines.append(line_no)
    if not in_data:
        raise MalformedFileError(f"{path}: no '@data' line; the file is truncated or not a .ts file.")
    if not rows:
        raise MalformedFileError(f"{path}: the '@data' section is empty.")
    declared_labels = header.get("classlabel", "true").split()[1:]
    class_labels = tuple(declared_labels) if declared_labels else tuple(sorted(set(labels)))
    unknown = sorted(set(labels) - set(class_labels))
    if unknown:
        case = labels.index(unknown[0])
        raise MalformedFileError(
            f"{path}, line {label_lines[case]}: case {case + 1} has class label '{unknown[0]}', which "
            f"@classLabel does not declare ({' '.join(class_labels)})."
        )
    if pad_unequal:
        longest = max(r.shape[1] for r in rows)
        rows = [np.pad(r, ((0, 0), (0, longest - r.shape[1])), constant_values=np.nan) for r in rows]
    return TsFile(np.stack(rows), np.asarray(labels), class_labels, header)


def _check_header(header: dict[str, str], path: Path, pad_unequal: bool = False) -> None:
    header = {k: v.lower() for k, v in header.items()}  # flags are case-insensitive (True/true)
    if header.get("timestamps", "false") == "true":
        raise MalformedFileError(f"{path}: time-stamped .ts files are not supported.")
    if header.get("equallength", "true") == "false" and not pad_unequal:
        raise MalformedFileError(
            f"{path}: unequal-length series (@equalLength false) are not supported; resample or pad them first."
        )
    if "targetlabel" in header and header["targetlabel"].startswith("true"):
        raise MalformedFileError(f"{path}: regression problems (@targetLabel true) are not supported.")
    if header.get("classlabel", "true").split()[:1] == ["false"]:
        raise MalformedFileError(f"{path}: the file has no class labels (@classLabel false).")
