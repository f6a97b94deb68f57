"""Where the project lives, so outputs land in the same place whatever the working directory."""

from __future__ import annotations

import os
from pathlib import Path


def find_project_root(start: str | os.PathLike | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: cwd) holding ``_toc.yml`` and ``book/``."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file() and (folder / "book").is_dir():
            return folder
    return None


def results_dir() -> Path:
    """``SSLTS_RESULTS_DIR``, else ``results/`` of the project, else ``results/`` in the cwd."""
    if os.environ.get("SSLTS_RESULTS_DIR"):
        return Path(os.environ["SSLTS_RESULTS_DIR"])
    return (find_project_root() or Path.cwd()) / "results"
