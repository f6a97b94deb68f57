"""A process pinned to one OpenMP thread pins numba's pool too (MiniRocket and DTW run on numba)."""

from __future__ import annotations

import os
import subprocess
import sys


def _numba_threads(env: dict[str, str]) -> str:
    code = "import sslts, numba; print(numba.config.NUMBA_NUM_THREADS)"
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS")}
    return subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_omp_num_threads_sets_numbas_pool_unless_numba_is_told_otherwise():
    assert _numba_threads({"OMP_NUM_THREADS": "1"}) == "1"
    assert _numba_threads({"OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "2"}) == "2"
