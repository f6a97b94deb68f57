"""sslts: self-supervised learning for time-series classification.

The library behind the book: data loading and cleaning (:mod:`sslts.data`), chapter parameters and
the papermill runner (:mod:`sslts.params`, :mod:`sslts.runner`), and the SSL harness.
"""

import os

__version__ = "0.1.0"

# A process pinned to N OpenMP threads (a sweep lane, a Ray task) pins numba's OpenMP pool too.
# Unpinned, the pool that MiniRocket and DTW (aeon, numba) start keeps a libgomp worker per extra
# core spinning through every later torch call: after one MiniRocket fit, a CNN's training loop
# ran 3.6x slower on 2 cores with half of the CPU in that worker. Results do not change (both
# transforms are computed per series; the same hashes with 1 and 2 threads).
if "OMP_NUM_THREADS" in os.environ:
    os.environ.setdefault("NUMBA_NUM_THREADS", os.environ["OMP_NUM_THREADS"])
