"""Reader for UCI HAR's original ``UCI HAR Dataset`` layout (raw inertial signals only).

Anguita et al., "A Public Domain Dataset for Human Activity Recognition Using Smartphones",
ESANN 2013. Each window is 2.56 s at 50 Hz (128 steps) of nine signals; labels 1..6 and the
subject (1..30) of every window come from ``y_<split>.txt`` and ``subject_<split>.txt``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import MalformedFileError

HAR_CHANNELS = tuple(
    f"{kind}_{axis}" for kind in ("body_acc", "body_gyro", "total_acc") for axis in ("x", "y", "z")
)
HAR_LENGTH = 128


def _read_matrix(path: Path, columns: int | None) -> np.ndarray:
    try:
        data = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise MalformedFileError(f"{path}: {error}") from None
    if columns is not None and data.shape[1] != columns:
        raise MalformedFileError(f"{path}: {data.shape[1]} columns per line, expected {columns}.")
    return data


def read_har_split(root: Path, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Signals ``(n, 9, 128)`` float32, labels 0..5, subject ids and the six activity names."""
    folder = root / split
    signals = [
        _read_matrix(folder / "Inertial Signals" / f"{channel}_{split}.txt", HAR_LENGTH)
        for channel in HAR_CHANNELS
    ]
    counts = {s.shape[0] for s in signals}
    if len(counts) != 1:
        raise MalformedFileError(f"{folder}: the nine signal files have different numbers of windows {sorted(counts)}.")
    X = np.stack(signals, axis=1).astype(np.float32)  # (n, 9, 128)
    labels = _read_matrix(folder / f"y_{split}.txt", 1)[:, 0].astype(np.int64)
    subjects = _read_matrix(folder / f"subject_{split}.txt", 1)[:, 0].astype(np.int64)
    if not (len(labels) == len(subjects) == X.shape[0]):
        raise MalformedFileError(
            f"{folder}: {X.shape[0]} windows but {len(labels)} labels and {len(subjects)} subject ids."
        )
    names_file = root / "activity_labels.txt"
    pairs = [line.split() for line in names_file.read_text().splitlines() if line.strip()]
    names = tuple(name for _, name in sorted(pairs, key=lambda p: int(p[0])))
    if labels.min() < 1 or labels.max() > len(names):
        raise MalformedFileError(f"{folder}/y_{split}.txt: labels outside 1..{len(names)}.")
    return X, labels - 1, subjects, names
