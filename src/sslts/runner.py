"""Execute chapters with papermill and build the book with jupyter-book.

``run_chapter`` reads ``book/<chapter>.md`` (a jupytext MyST notebook), injects validated
parameters, executes it into ``build/executed/<chapter>.ipynb`` (written to a temporary file, then
renamed, so a failed run never replaces a good notebook) and hides the injected-parameters cell.
``build_book`` executes every chapter listed in ``_toc.yml`` and renders HTML with execution off.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .params import ParameterError, resolve
from .paths import find_project_root

EXECUTED_DIR = Path("build") / "executed"


class ChapterError(RuntimeError):
    """A chapter could not be found or failed while executing."""


def project_root() -> Path:
    """The folder holding ``_toc.yml``: the working directory or one of its parents."""
    root = find_project_root()
    if root is None:
        raise ChapterError(f"No book project (a folder with _toc.yml and book/) at or above {Path.cwd()}; run from the project root.")
    return root


def chapters(root: Path | None = None) -> list[str]:
    """Executed chapters in ``_toc.yml`` order (entries under ``build/executed``; plain pages skipped)."""
    import yaml

    root = root or project_root()
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("chapters", "sections"):
                walk(entry.get(key, []))
            for part in entry.get("parts", []):
                walk(part.get("chapters", []))

    walk(toc.get("parts", []) + [{"chapters": toc.get("chapters", [])}])
    return [Path(f).stem for f in files if Path(f).parent == EXECUTED_DIR]


# Kernels talk to papermill over local IPC sockets rather than TCP: nothing is exposed on the
# network, and jupyter_client's "Kernel is running over TCP without encryption" warning goes.
IPC_KERNEL_MANAGER = "sslts.kernel.IPCKernelManager"


def _kernel_environment(root: Path) -> None:
    """Environment the chapter kernels inherit: absolute mirror paths, one commit, inline plots."""
    mirror = os.environ.get("SSLTS_DATA_MIRROR", "")
    if mirror:
        os.environ["SSLTS_DATA_MIRROR"] = os.pathsep.join(
            str(Path(p).expanduser().resolve()) for p in mirror.split(os.pathsep) if p
        )
    from .provenance import git_commit

    os.environ.setdefault("SSLTS_GIT_COMMIT", git_commit(root))
    os.environ.pop("MPLBACKEND", None)  # Agg would drop inline and glued figures


def run_chapter(
    chapter: str,
    profile: str = "quick",
    overrides: dict[str, Any] | None = None,
    output_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> Path:
    """Execute one chapter and return the path of the executed notebook.

    Raises:
        ParameterError: a parameter is unknown, of the wrong type or out of range (nothing runs).
        ChapterError: no such chapter, or a cell failed (the message quotes the error; the failed
            notebook is kept as ``<chapter>.failed.ipynb`` for inspection).
    """
    import jupytext
    import papermill

    root = project_root()
    source = root / "book" / f"{chapter}.md"
    if not source.is_file():
        raise ChapterError(f"No chapter '{chapter}' (looked for {source}). Chapters: {', '.join(chapters(root))}.")
    params = resolve(chapter, profile, **(overrides or {}))
    _kernel_environment(root)
    out_dir = Path(output_dir) if output_dir else root / EXECUTED_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{chapter}.ipynb"
    partial = out_dir / f".{chapter}.partial.ipynb"
    notebook = jupytext.read(source)
    started = time.perf_counter()
    try:
        executed = papermill.execute_notebook(
            notebook, str(partial), parameters=params, kernel_name="python3", cwd=str(root),
            progress_bar=progress, report_mode=False, kernel_manager_class=IPC_KERNEL_MANAGER,
        )
    except papermill.PapermillExecutionError as error:
        failed = out_dir / f"{chapter}.failed.ipynb"
        os.replace(partial, failed)
        raise ChapterError(
            f"Chapter '{chapter}' failed in cell {error.exec_count}: {error.ename}: {error.evalue}\n"
            f"The partly executed notebook is {failed}."
        ) from None
    # The book shows the parameters actually used in the run record at the end of each chapter; the
    # source defaults and papermill's injected overrides would only confuse a reader.
    for cell in executed.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags or "parameters" in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    executed.metadata["sslts"] = {"chapter": chapter, "parameters": params,
                                  "wall_time_s": round(time.perf_counter() - started, 1)}
    import nbformat

    nbformat.write(executed, str(partial))
    os.replace(partial, target)
    return target


def strip_to_checked_outputs(path: str | os.PathLike) -> None:
    """Keep only the outputs nbval checks (cells tagged ``nbval-check-output``) in a notebook.

    Used for the reference notebooks under ``tests/notebooks``: nbval in lax mode compares only
    those cells, so the others' outputs (figures, HTML tables) would be dead weight in git.
    """
    import nbformat

    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "nbval-check-output" not in cell.metadata.get("tags", []):
            cell.outputs = []
            cell.execution_count = None
    notebook.metadata.pop("papermill", None)
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, str(path))


def build_book(profile: str = "quick", execute: bool = True, strict: bool = False) -> Path:
    """Execute every chapter (unless ``execute`` is False) and render HTML into ``_build/html``."""
    root = project_root()
    timings = {}
    if execute:
        for chapter in chapters(root):
            started = time.perf_counter()
            print(f"[sslts] executing chapter '{chapter}' ({profile} profile)", flush=True)
            run_chapter(chapter, profile)
            timings[chapter] = time.perf_counter() - started
            print(f"[sslts] chapter '{chapter}' done in {timings[chapter]:.1f} s", flush=True)
    missing = [c for c in chapters(root) if not (root / EXECUTED_DIR / f"{c}.ipynb").is_file()]
    if missing:
        raise ChapterError(f"Chapters not executed yet: {', '.join(missing)}. Run 'sslts book' without --no-execute.")
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(root), "--path-output", str(root)]
    if strict:
        command += ["-W", "-n", "--keep-going"]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=root)
    if result.returncode != 0:
        raise ChapterError(f"jupyter-book build failed (exit {result.returncode}); see the messages above.")
    print(f"[sslts] jupyter-book build done in {time.perf_counter() - started:.1f} s", flush=True)
    for chapter, seconds in timings.items():
        print(f"[sslts]   {chapter:<16} {seconds:7.1f} s")
    return root / "_build" / "html" / "index.html"


__all__ = ["run_chapter", "build_book", "chapters", "ChapterError", "ParameterError"]
