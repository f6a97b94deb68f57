"""Shared fixtures: an isolated, offline data environment and writers of tiny data files.

No test may touch the network or the user's cache: data tests request ``data_env``, which points
``SSLTS_CACHE_DIR`` at a temporary folder, sets ``SSLTS_OFFLINE=1`` and clears
``SSLTS_DATA_MIRROR``. Tests that need the real dataset mirror request ``mirror`` and are skipped
with a reason when it is absent.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pytest

# Captured at import time, before any test's monkeypatch changes the environment.
_MIRROR_ENV = os.environ.get("SSLTS_DATA_MIRROR", "")
DEFAULT_MIRROR = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def data_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder (returned), offline mode and no mirror."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SSLTS_CACHE_DIR", str(cache))
    monkeypatch.setenv("SSLTS_OFFLINE", "1")
    monkeypatch.delenv("SSLTS_DATA_MIRROR", raising=False)
    return cache


def ts_text(
    cases: Sequence[tuple[Sequence[Sequence[object]], str]],
    class_labels: Sequence[str] | None = None,
    extra_header: Sequence[str] = (),
    equal_length: str = "true",
    timestamps: str = "false",
) -> str:
    """Text of a ``.ts`` file: each case is (list of dimensions, each a list of values, label)."""
    n_dims = len(cases[0][0]) if cases else 1
    labels = class_labels if class_labels is not None else sorted({label for _, label in cases})
    lines = [
        "# tiny file written by the tests",
        "@problemName Toy",
        f"@timeStamps {timestamps}",
        "@missing true",
        f"@univariate {'true' if n_dims == 1 else 'false'}",
        f"@dimensions {n_dims}",
        f"@equalLength {equal_length}",
        f"@classLabel true {' '.join(labels)}",
        *extra_header,
        "@data",
    ]
    for dims, label in cases:
        lines.append(":".join(",".join(str(v) for v in dim) for dim in dims) + f":{label}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def write_ts(tmp_path: Path) -> Callable[..., Path]:
    """``write_ts(text_or_cases, name="toy.ts", **ts_text_kwargs)`` -> path of the written file."""

    def write(content: str | Sequence, name: str = "toy.ts", **kwargs) -> Path:
        path = tmp_path / name
        text = content if isinstance(content, str) else ts_text(content, **kwargs)
        path.write_text(text, encoding="utf-8")
        return path

    return write


def write_zip(path: Path, members: Mapping[str, str | bytes]) -> Path:
    """A zip at ``path`` holding ``members`` (archive name -> text or bytes), stored uncompressed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


@pytest.fixture
def make_zip() -> Callable[[Path, Mapping[str, str | bytes]], Path]:
    return write_zip


# Toy UEA-style problem: 2 dims x 4 steps, string labels declared in a non-alphabetical order.
TOY_TRAIN_CASES = [
    ([[1.0, 2.0, 3.0, 4.0], [0.5, 0.25, 0.0, -1.0]], "walk"),
    ([[5.0, 6.0, "?", 8.0], [1.5, 1.5, 1.5, 1.5]], "run"),
    ([[-1.0, -2.0, -3.0, -4.0], [2.0, 2.0, 2.0, 2.0]], "walk"),
]
TOY_TEST_CASES = [
    ([[9.0, 9.0, 9.0, 9.0], [0.0, 0.0, 0.0, 0.0]], "run"),
    ([[7.0, 7.0, 7.0, 7.0], [1.0, 1.0, 1.0, 1.0]], "walk"),
]
TOY_LABELS = ("walk", "run")


def toy_files() -> dict[str, str]:
    return {
        "Toy_TRAIN.ts": ts_text(TOY_TRAIN_CASES, class_labels=TOY_LABELS),
        "Toy_TEST.ts": ts_text(TOY_TEST_CASES, class_labels=TOY_LABELS),
    }


@pytest.fixture
def toy_mirror(tmp_path: Path, data_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A mirror folder holding ``Toy.zip``, selected through ``SSLTS_DATA_MIRROR``; returns the folder."""
    folder = tmp_path / "mirror"
    write_zip(folder / "Toy.zip", toy_files())
    monkeypatch.setenv("SSLTS_DATA_MIRROR", str(folder))
    return folder


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The real data mirror (``SSLTS_DATA_MIRROR`` if set, else ``<project>/../shared/data``)."""
    candidates = [Path(p).expanduser().resolve() for p in _MIRROR_ENV.split(os.pathsep) if p.strip()]
    candidates.append(DEFAULT_MIRROR)
    for folder in candidates:
        if (folder / "SHA256SUMS").is_file():
            return folder
    pytest.skip(
        "real data mirror not found (looked in SSLTS_DATA_MIRROR and "
        f"{DEFAULT_MIRROR}); set SSLTS_DATA_MIRROR to the folder holding the dataset zips"
    )


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for a module of tests on tiny tensors (restored afterwards): more threads
    only oversubscribe a small shared CPU."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _waves(n: int, rng: np.random.Generator) -> list:
    """Two classes told apart by frequency: 1 vs 3 cycles over 32 steps, random phase, 2 channels."""
    t = np.linspace(0, 1, 32, endpoint=False)
    cases = []
    for i in range(n):
        label = i % 2
        phase = rng.uniform(0, 2 * np.pi)
        base = np.sin(2 * np.pi * (1 + 2 * label) * t + phase)
        dims = [np.round(base + 0.05 * rng.normal(size=32), 4).tolist(), np.round(-base, 4).tolist()]
        cases.append((dims, "slow" if label == 0 else "fast"))
    return cases


@pytest.fixture
def waves(tmp_path, data_env, monkeypatch):
    rng = np.random.default_rng(0)
    folder = tmp_path / "mirror"
    write_zip(folder / "Waves.zip", {
        "Waves_TRAIN.ts": ts_text(_waves(40, rng), class_labels=("slow", "fast")),
        "Waves_TEST.ts": ts_text(_waves(40, rng), class_labels=("slow", "fast")),
    })
    monkeypatch.setenv("SSLTS_DATA_MIRROR", str(folder))
    return folder
