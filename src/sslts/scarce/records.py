"""Run records of the study: JSON files under one root, written atomically, read back by kind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from ..atomic import atomic_write_json

ROOT = Path("results/scarce")


def write(root: str | Path, relative: str, record: dict[str, Any]) -> Path:
    """Write ``record`` at ``root/relative`` atomically (an interrupted write leaves no half file)."""
    return atomic_write_json(Path(root) / relative, record)


def exists(root: str | Path, relative: str) -> bool:
    return (Path(root) / relative).exists()


def read_all(root: str | Path, kind: str) -> Iterator[dict[str, Any]]:
    """Every record of ``kind`` (``"pretrain"``, ``"fewlabel"``, ``"ucr"``) under ``root``, in path order."""
    for path in sorted((Path(root) / kind).rglob("*.json")):
        yield json.loads(path.read_text())
