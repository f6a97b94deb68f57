"""The baselines a practitioner would try before self-supervision, run on the same splits and seeds.

- ``minirocket``: MiniRocket (Dempster, Schmidt & Webb 2021, "MiniRocket: A Very Fast (Almost)
  Deterministic Transform for Time Series Classification", KDD), from ``aeon``: random convolutional
  features and a ridge classifier with its regularisation chosen by leave-one-out on the training
  split. It needs no GPU and takes seconds to a minute per dataset here.
- ``dtw``: the 1-nearest-neighbour classifier under dependent dynamic time warping (all channels
  warped together; DTW_D of Shokoohi-Yekta et al. 2017), full window, from ``aeon``. It has no
  randomness and no hyper-parameter, so only seed 0 is run.
- ``supervised_cnn``: the encoder every SSL method pre-trains (the TS-TCC CNN) trained from scratch
  on the labels with a linear head, by the same fine-tuning loop the method chapters use.

Each writes a run record like :func:`sslts.experiment.run_experiment`'s (``kind: "experiment"``,
the same identity fields and provenance), with one evaluation row per label fraction: the
classifier is refitted on the same stratified, seeded label subsets the linear probes of the SSL
methods use (:func:`sslts.evaluate.label_fraction_indices`). Every series is z-scored per channel
with statistics of the training split, as for the SSL methods.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from .data import cleaning, load_dataset
from .encoders import build_encoder
from .evaluate import epochs_for_min_steps, finetune, label_fraction_indices, label_shot_indices
from .evaluate.metrics import classification_metrics
from .provenance import data_checksums, environment
from .results import write_record

BASELINE_METHODS = ("minirocket", "dtw", "supervised_cnn")
# Seeds do not change a 1-NN DTW classifier: one run stands for all.
DETERMINISTIC = ("dtw",)
MINIROCKET_MIN_LENGTH = 9
SUPERVISED_EPOCHS, SUPERVISED_MIN_STEPS, SUPERVISED_BATCH = 30, 200, 64


@dataclass(frozen=True)
class BaselineConfig:
    """What defines one baseline run (stored in its record)."""

    method: str
    dataset: str
    seed: int = 0
    profile: str = "compare"
    label_fractions: tuple[float, ...] = (0.01, 0.05, 0.1, 1.0)
    device: str = "auto"
    # Few-shot rows: fitted on this many labelled training series per class (added after records
    # were committed, so it stays out of a record's identity while empty).
    label_shots: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.method not in BASELINE_METHODS:
            raise ValueError(f"unknown baseline {self.method!r}; known: {', '.join(BASELINE_METHODS)}")

    @property
    def encoder(self) -> str:
        return "cnn" if self.method == "supervised_cnn" else "none"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["label_fractions"] = list(self.label_fractions)
        if self.label_shots:
            out["label_shots"] = list(self.label_shots)
        else:
            del out["label_shots"]
        out["encoder"] = self.encoder
        return out


def _fit_predict_minirocket(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
                            seed: int, device: str) -> np.ndarray:
    from aeon.classification.convolution_based import MiniRocketClassifier  # numba: import on use

    # MiniRocket's kernels span 9 steps: shorter series (PenDigits: 8) are zero-padded at the end to
    # 9, as aeon asks; after the z-score, zero is each channel's training mean.
    pad = ((0, 0), (0, 0), (0, max(0, MINIROCKET_MIN_LENGTH - X_train.shape[-1])))
    X_train, X_test = np.pad(X_train, pad), np.pad(X_test, pad)
    clf = MiniRocketClassifier(random_state=seed, n_jobs=1).fit(X_train.astype(np.float64), y_train)
    return clf.predict(X_test.astype(np.float64))


def _fit_predict_dtw(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
                     seed: int, device: str) -> np.ndarray:
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    clf = KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw", n_jobs=1)
    return clf.fit(X_train.astype(np.float64), y_train).predict(X_test.astype(np.float64))


def _fit_predict_cnn(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
                     seed: int, device: str) -> np.ndarray:
    torch.manual_seed(seed)
    encoder = build_encoder("cnn", X_train.shape[1])
    epochs = epochs_for_min_steps(SUPERVISED_EPOCHS, SUPERVISED_MIN_STEPS, len(y_train), SUPERVISED_BATCH)
    # The test labels only score the finished model (fine-tuning never looks at them while training).
    tuned = finetune(encoder, X_train, y_train, X_test, y_test, epochs=epochs,
                     batch_size=SUPERVISED_BATCH, seed=seed, device=None if device == "auto" else device,
                     progress=False)
    return tuned.y_pred


FIT_PREDICT: dict[str, Callable[..., np.ndarray]] = {
    "minirocket": _fit_predict_minirocket,
    "dtw": _fit_predict_dtw,
    "supervised_cnn": _fit_predict_cnn,
}


def run_baseline(config: BaselineConfig, results_root: str | Path | None = None,
                 prepare: Callable[..., tuple[Any, Any, Any]] | None = None) -> dict[str, Any]:
    """Fit the baseline on each label fraction of the training split, score the test split once each.

    Returns the run record (written atomically under ``results_root`` when given). ``prepare``
    (:data:`sslts.experiment.Prepare`: ``(train, test) -> (train, test, scaler)``) transforms the
    loaded splits and supplies the scaler fitted on training; the default is the z-score.

    Raises:
        sslts.data.DataError: the data cannot be loaded.
    """
    started = time.perf_counter()
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    train, test = load_dataset(config.dataset, "train"), load_dataset(config.dataset, "test")
    if prepare is not None:
        train, test, scaler = prepare(train, test)
    else:
        scaler = cleaning.ChannelStandardScaler().fit(train.X)  # training split only
    X_train, X_test = scaler.transform(train.X).astype(np.float32), scaler.transform(test.X).astype(np.float32)
    n_classes = int(max(train.y.max(), test.y.max())) + 1
    budgets = [({"label_fraction": float(f)}, label_fraction_indices(train.y, f, config.seed))
               for f in config.label_fractions]
    budgets += [({"label_fraction": None, "label_shots": int(k)}, label_shot_indices(train.y, k, config.seed))
                for k in config.label_shots]
    evaluations = []
    for budget, keep in budgets:
        fit_started = time.perf_counter()
        y_pred = FIT_PREDICT[config.method](X_train[keep], train.y[keep], X_test, test.y, config.seed, config.device)
        # Hard predictions only: no AUROC (NaN), which would need class scores.
        metrics = classification_metrics(test.y, np.asarray(y_pred, dtype=np.int64), None, n_classes)
        evaluations.append({"protocol": "supervised", **budget, "n_labelled": int(keep.size),
                            "accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"], "auroc": metrics["auroc"],
                            **({"confusion": metrics["confusion"]} if budget["label_fraction"] == 1.0 else {}),
                            "fit_s": round(time.perf_counter() - fit_started, 2)})
    total = round(time.perf_counter() - started, 2)
    record = {
        "kind": "experiment",
        "config": config.to_dict(),
        "evaluations": evaluations,
        "timing": {"pretrain_s": 0.0, "eval_s": total, "total_s": total},
        "data": {"train_shape": list(train.X.shape), "test_shape": list(test.X.shape),
                 "sha256": data_checksums(train, test)},
        "started_at": started_at,
        **environment(config.device if config.device != "auto" else None),
    }
    if results_root is not None:
        write_record(results_root, record)
    return record
