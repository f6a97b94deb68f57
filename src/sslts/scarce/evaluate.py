"""One few-label evaluation: a feature extractor on a target, every ``k`` and read-out, one seed.

The *target space* of a target is its unlabelled pool's (:data:`sslts.scarce.corpora.TARGET_POOLS`):
training and test series are z-scored with the pool's per-channel statistics, and the pool is the
unlabelled data of the semi-supervised read-out for every method alike, MiniRocket included.

Feature extractors (``features`` in a record's config):

- ``ssl``: a snapshot of a :mod:`sslts.scarce.scale` run, its encoder's feature map pooled as
  :data:`POOLING` says; a channel-independent corpus's encoder embeds each channel and concatenates;
- ``untrained``: the same encoder with its initial weights (seeded), the control for pre-training;
- ``minirocket``: MiniRocket's features (Dempster, Schmidt & Webb 2021, KDD), its transform fitted on
  the pool (unsupervised), so ``spread`` on it is *MiniRocket + pool*;
- ``minirocket-ridge`` and ``supervised_cnn``: classifiers fitted on the ``k`` labelled series alone
  (MiniRocket's own ridge classifier; the book's CNN trained from scratch), read-out ``own``.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..baselines import FIT_PREDICT
from ..data import load_dataset
from ..evaluate.fractions import label_shot_indices
from ..evaluate.readouts import feature_maps, readout
from ..provenance import data_checksums, environment
from .corpora import TARGET_POOLS, channel_independent, load_corpus
from .fewlabel import ALL, ALL_MAX_TRAIN, SHOTS, few_label_rows
from .scale import load_snapshot, untrained_encoder

# Fixed before any run of the study: four equal stretches of time, each averaged, keep the order of
# a gesture's strokes that a global average loses (sslts.evaluate.readouts); no label chose it.
POOLING = "bins4-avg"
OWN_CLASSIFIERS = {"minirocket-ridge": FIT_PREDICT["minirocket"], "supervised_cnn": FIT_PREDICT["supervised_cnn"]}


def target_space(target: str) -> tuple[Any, Any, np.ndarray, np.ndarray, Any]:
    """``(train, test, X_train, X_test, pool)`` of a target, the arrays z-scored with the pool's statistics."""
    if target not in TARGET_POOLS:
        raise ValueError(f"no unlabelled pool for target {target!r}; targets: {', '.join(TARGET_POOLS)}")
    pool = load_corpus(TARGET_POOLS[target])
    train, test = load_dataset(target, "train"), load_dataset(target, "test")
    return train, test, pool.prepare(train.X), pool.prepare(test.X), pool


def encode(model: torch.nn.Module, X: np.ndarray, independent: bool = False) -> np.ndarray:
    """``(n, C, L)`` target-space series -> ``(n, D)``; with ``independent`` (an encoder of a
    channel-independent corpus) each channel is embedded alone and the channels' embeddings concatenated."""
    if independent:
        n, channels = X.shape[:2]
        z = readout(feature_maps(model, channel_independent(X)), POOLING).numpy()  # (n * C, D)
        return z.reshape(n, channels * z.shape[1])
    return readout(feature_maps(model, X), POOLING).numpy()


def extractor(config: dict[str, Any], in_channels: int) -> tuple[torch.nn.Module, bool]:
    """The encoder of an ``ssl`` or ``untrained`` config, and whether it sees one channel at a time."""
    if config["features"] == "ssl":
        independent = load_corpus(config["corpus"]).channel_independent
        return load_snapshot(config["snapshot"], config["encoder"], 1 if independent else in_channels), independent
    return untrained_encoder(config["encoder"], in_channels, config["seed"]), False


def _minirocket_features(X_pool, X_train, X_test, seed):
    from aeon.transformations.collection.convolution_based import MiniRocket

    transform = MiniRocket(random_state=seed, n_jobs=1).fit(X_pool.astype(np.float64))  # unsupervised fit
    return [np.asarray(transform.transform(X.astype(np.float64)), dtype=np.float32) for X in (X_pool, X_train, X_test)]


def _own_rows(config, X_train, y_train, X_test, y_test) -> list[dict[str, Any]]:
    rows = []
    draws = [(k, label_shot_indices(y_train, k, config["seed"])) for k in SHOTS]
    if len(y_train) <= ALL_MAX_TRAIN:
        draws.append((ALL, np.arange(len(y_train))))
    for k, picked in draws:
        predicted = OWN_CLASSIFIERS[config["features"]](X_train[picked], y_train[picked], X_test, y_test,
                                                        config["seed"], "auto")
        rows.append({"shots": k, "readout": "own", "n_labelled": int(picked.size),
                     "accuracy": float(np.mean(predicted == y_test))})
    return rows


def evaluate(config: dict[str, Any]) -> dict[str, Any]:
    """Run one few-label evaluation (``config``: target, features, seed and the extractor's keys); its record."""
    started, started_at = time.perf_counter(), datetime.now(timezone.utc).isoformat(timespec="seconds")
    train, test, X_train, X_test, pool = target_space(config["target"])
    torch.manual_seed(config["seed"])
    if config["features"] in OWN_CLASSIFIERS:
        rows = _own_rows(config, X_train, train.y, X_test, test.y)
    else:
        if config["features"] == "minirocket":
            Z_pool, Z_train, Z_test = _minirocket_features(pool.X, X_train, X_test, config["seed"])
        else:
            model, independent = extractor(config, X_train.shape[1])
            Z_pool, Z_train, Z_test = (encode(model, X, independent) for X in (pool.X, X_train, X_test))
        rows = few_label_rows(Z_train, train.y, Z_pool, Z_test, test.y, config["seed"])
    return {"kind": "scale-fewlabel", "config": config, "pooling": POOLING, "rows": rows,
            "data": {"target_pool": pool.describe(), "sha256": data_checksums(train, test),
                     "train_shape": list(train.X.shape), "test_shape": list(test.X.shape)},
            "timing": {"total_s": round(time.perf_counter() - started, 1)}, "started_at": started_at,
            **environment("cpu" if not torch.cuda.is_available() else None)}


def record_name(config: dict[str, Any]) -> str:
    """``fewlabel/<target>/<extractor>-s<seed>.json``, the extractor named by its config."""
    if config["features"] == "ssl":
        label = f"{config['run']}-p{config['passes']}"
    elif config["features"] == "untrained":
        label = f"untrained-{config['encoder']}"
    else:
        label = config["features"]
    return f"fewlabel/{config['target']}/{label}-s{config['seed']}.json"
