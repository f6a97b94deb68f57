"""The benchmarks of the study: the cross-dataset encoder on problems it never saw.

Two groups of problems (:data:`GROUPS`): ``ucr``, the cheapest UCR problems (:func:`problems`), and
``suite``, the UEA problems of the book's comparison (:data:`SUITE`, UWave and HAR apart: they are the
study's targets with their own pools), each evaluated with the corpus fold it is not in. For each
problem and each system, one record with the frozen-encoder SVM protocol
on every training label (TS2Vec's, :func:`sslts.evaluate.protocols.svm_probe`) and the few-label rows
of :func:`sslts.scarce.fewlabel.few_label_rows`, the problem's own training split serving as the
unlabelled pool. Systems:

- ``xd``: VICReg pre-trained on the cross-dataset corpus of the *other* fold (leave-fold-out), at
  :data:`sslts.scarce.sweep.MAIN_BUDGET` passes, seed 0;
- ``own``: VICReg pre-trained on the problem's own training split (``train:<problem>``),
  :data:`OWN_BUDGET` passes: the per-dataset SSL of the comparison, at a budget this CPU affords;
- ``untrained``: the same CNN with its initial weights;
- ``minirocket``: MiniRocket's own classifier on the labelled series (original length).

Every encoder sees the channel-independent view (each series resampled to 128 steps and
z-normalised; a multivariate problem's channels are embedded one by one and concatenated), so the
three encoders differ only in their weights. The SVM's search of C runs on at most
:data:`SEARCH_MAX` training series, as in the comparison (no UCR problem of the benchmark has more).
"""

from __future__ import annotations

import csv
import functools
import time
from typing import Any

import numpy as np
import torch

from ..baselines import FIT_PREDICT
from ..evaluate.protocols import svm_probe
from ..provenance import data_checksums, environment
from ..data.sources import find_in_mirrors
from .corpora import UCR_LIST, UEA_PROBLEMS, channel_independent, corpus_for, training_split
from .evaluate import encode
from .fewlabel import few_label_rows
from .scale import ScaleRun, load_snapshot, snapshot_path, untrained_encoder

N_PROBLEMS = 30
OWN_BUDGET = 20_000
SYSTEMS = ("xd", "own", "untrained", "minirocket")
SUITE = UEA_PROBLEMS  # the comparison's suite without its two targets
GROUPS = ("ucr", "suite")
SEARCH_MAX = 1000


@functools.lru_cache(maxsize=2)
def problems(n: int = N_PROBLEMS) -> tuple[str, ...]:
    """The ``n`` cheapest UCR problems of the mirror, fixed before any run by size alone: equal length,
    not a UWave variant (a target of the book), no missing value, ordered by (train + test) x length."""
    path = find_in_mirrors(UCR_LIST)
    if path is None:
        raise FileNotFoundError(f"'{UCR_LIST}' is in no mirror directory: set SSLTS_DATA_MIRROR")
    with open(path, newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["equal_length"] == "true" and not r["name"].startswith("UWave")]
    rows.sort(key=lambda r: ((int(r["train_cases"]) + int(r["test_cases"])) * int(float(r["length"])), r["name"]))
    chosen = []
    from ..data import load_dataset

    for row in rows:
        if len(chosen) == n:
            break
        if not any(np.isnan(load_dataset(row["name"], s).X).any() for s in ("train", "test")):
            chosen.append(row["name"])
    return tuple(chosen)


def group_problems(group: str) -> tuple[str, ...]:
    """The problems of a benchmark group (:data:`GROUPS`)."""
    if group not in GROUPS:
        raise ValueError(f"unknown benchmark group {group!r}; groups: {', '.join(GROUPS)}")
    return problems() if group == "ucr" else SUITE


def own_run(problem: str, seed: int = 0) -> ScaleRun:
    return ScaleRun("vicreg", f"train:{problem}", seed=seed, budget=OWN_BUDGET, snapshots=(OWN_BUDGET,))


def xd_run(problem: str) -> ScaleRun:
    """The seed-0 VICReg run on the fold that does not hold ``problem`` (its main-budget snapshot)."""
    from .sweep import CURVE_BUDGET, MAIN_BUDGET

    if corpus_for(problem) == "xd-a":  # the sweep's own seed-0 run (sslts.scarce.sweep.runs)
        return ScaleRun("vicreg", "xd-a", seed=0, budget=CURVE_BUDGET, snapshots=(20_000, MAIN_BUDGET, CURVE_BUDGET))
    return ScaleRun("vicreg", "xd-b", seed=0, budget=MAIN_BUDGET, snapshots=(MAIN_BUDGET,))


def evaluate_problem(problem: str, system: str, snapshots, seed: int = 0) -> dict[str, Any]:
    """One record: ``system`` on ``problem`` (SVM protocol on all labels, few-label rows)."""
    from ..data import load_dataset
    from .sweep import MAIN_BUDGET

    started = time.perf_counter()
    train, test = load_dataset(problem, "train"), load_dataset(problem, "test")
    rows: list[dict[str, Any]] = []
    if system == "minirocket":
        predicted = FIT_PREDICT["minirocket"](train.X, train.y, test.X, test.y, seed, "auto")
        rows.append({"shots": "all", "readout": "own", "n_labelled": len(train.y),
                     "accuracy": float(np.mean(predicted == test.y))})
    else:
        if system == "untrained":
            model = untrained_encoder("cnn", 1, seed)
        else:
            run, passes = (xd_run(problem), MAIN_BUDGET) if system == "xd" else (own_run(problem, seed), OWN_BUDGET)
            model = load_snapshot(snapshot_path(snapshots, run, passes), "cnn", 1)
        torch.manual_seed(seed)
        Z_train, Z_test = encode(model, train.X, True), encode(model, test.X, True)
        rows = few_label_rows(Z_train, train.y, Z_train, Z_test, test.y, seed)
        svm = svm_probe(Z_train, train.y, Z_test, test.y, seed=seed, search_max=SEARCH_MAX)
        rows = [r for r in rows if r["readout"] != "svm"]
        rows.append({"shots": "all", "readout": "svm", "n_labelled": len(train.y), "accuracy": float(svm.accuracy)})
    return {"kind": "scale-ucr", "config": {"problem": problem, "system": system, "seed": seed,
                                            **({"corpus": corpus_for(problem)} if system == "xd" else {})},
            "rows": rows, "data": {"sha256": data_checksums(train, test), "train_shape": list(train.X.shape),
                                   "test_shape": list(test.X.shape)},
            "timing": {"total_s": round(time.perf_counter() - started, 1)},
            **environment("cpu" if not torch.cuda.is_available() else None)}


def own_corpus(problem: str):
    """The unlabelled corpus ``train:<problem>``: its training split, channel-independent."""
    from .corpora import Corpus, _split_members

    train = training_split(problem)
    return Corpus(f"train:{problem}", channel_independent(train.X), _split_members([train]), True)
