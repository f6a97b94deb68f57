"""Zero-shot classification of series by the nearest class description, CLIP-style.

Radford et al. (2021) classify an image without training on its class by embedding one text per
class ("a photo of a {label}") and taking the nearest. Here :class:`sslts.methods.clip.CLIPText`
aligns a series tower to frozen sentence embeddings of class descriptions (:mod:`sslts.text`),
trained through the one loop (:func:`sslts.train.pretrain`) on the training series of the *seen*
classes only; test series of the *held-out* classes are then assigned to the nearest description.

Two scores, as in the generalised zero-shot literature (Xian et al. 2019, "Zero-Shot Learning -
A Comprehensive Evaluation of the Good, the Bad and the Ugly", TPAMI):

- zero-shot: held-out test series, candidates = held-out descriptions only (chance = 1 / #held-out);
- generalised: every test series, candidates = all descriptions; accuracy on held-out (``u``) and
  seen (``s``) test series and their harmonic mean ``H = 2us / (u + s)``, which is zero when a model
  never predicts a held-out class (the usual failure: a bias towards the seen ones).

The module also holds the CLIP chapter's other evaluation, :func:`tower_evaluation`: the standard
probes on each tower of a trained :class:`sslts.methods.clip.CLIP` and on their concatenation.

Shapes: series ``(N, C, L)``, text-space embeddings ``(N, E)``, class texts ``(K, E)``.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from sslts.augment import build_pipeline
from sslts.data import cleaning
from sslts.data.registry import TimeSeriesData
from sslts.encoders import build_encoder
from sslts.evaluate import embed, evaluate_embeddings
from sslts.experiment import ExperimentConfig, build_model, stratified_subset
from sslts.methods.clip import CLIP, CLIPText, CLIPTextConfig
from sslts.train import TrainConfig, default_warmup, pretrain

__all__ = ["TowerEncoder", "ZeroShotResult", "nearest_description", "run_zero_shot", "split_classes",
           "tower_evaluation", "untrained_clip"]


def split_classes(class_names: Sequence[str], held_out: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Label indices of the seen and of the held-out classes, each sorted.

    Raises:
        ValueError: if ``held_out`` is empty, names an unknown class, or holds every class.
    """
    held = list(dict.fromkeys(held_out))
    unknown = [h for h in held if h not in class_names]
    if not held or unknown:
        raise ValueError(f"held_out must name one or more of {list(class_names)}, got {list(held_out)}")
    held_idx = np.array(sorted(class_names.index(h) for h in held), dtype=np.int64)
    seen_idx = np.array([i for i in range(len(class_names)) if i not in held_idx], dtype=np.int64)
    if seen_idx.size == 0:
        raise ValueError("held_out must leave at least one class to train on")
    return seen_idx, held_idx


def nearest_description(z: np.ndarray, class_text: np.ndarray, candidates: Sequence[int] | None = None) -> np.ndarray:
    """The class of the most cosine-similar description for each row of ``z``.

    Args:
        z: ``(N, E)`` series in the text space. class_text: ``(K, E)`` one embedding per class.
        candidates: label indices allowed as answers (``None``: all ``K``).

    Returns:
        ``(N,)`` int64 labels in ``0..K-1``.

    Raises:
        ValueError: if the widths differ or a candidate is outside ``[0, K)``.
    """
    z, class_text = np.asarray(z, dtype=np.float64), np.asarray(class_text, dtype=np.float64)
    if z.ndim != 2 or class_text.ndim != 2 or z.shape[1] != class_text.shape[1]:
        raise ValueError(f"z (N, E) and class_text (K, E) must share E, got {z.shape} and {class_text.shape}")
    allowed = np.arange(len(class_text)) if candidates is None else np.asarray(list(candidates), dtype=np.int64)
    if allowed.size == 0 or allowed.min() < 0 or allowed.max() >= len(class_text):
        raise ValueError(f"candidates must be label indices in [0, {len(class_text)}), got {list(allowed)}")
    zn = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    tn = class_text / np.maximum(np.linalg.norm(class_text, axis=1, keepdims=True), 1e-12)
    return allowed[np.argmax(zn @ tn[allowed].T, axis=1)]


class TowerEncoder(nn.Module):
    """A trained model's ``encode`` as an encoder module (``out_dim`` from a probe batch).

    Lets the zero-shot series tower start from the CLIP-aligned towers (both modalities,
    concatenated) instead of random weights; the model is deep-copied, the original is untouched.
    """

    def __init__(self, model: nn.Module, input_shape: tuple[int, int]) -> None:
        super().__init__()
        self.model = copy.deepcopy(model).cpu()
        was_training = self.model.training
        self.model.eval()
        with torch.no_grad():
            self.out_dim = int(self.model.encode(torch.zeros(2, *input_shape)).shape[1])
        self.model.train(was_training)

    def forward(self, x: Tensor) -> Tensor:
        return self.model.encode(x)


class _TextSpace(nn.Module):
    """Adapter so :func:`sslts.evaluate.embed` maps series into the text space of a CLIPText."""

    def __init__(self, method: CLIPText) -> None:
        super().__init__()
        self.method = method

    def encode(self, x: Tensor) -> Tensor:
        return self.method.text_space(x)


@dataclass
class ZeroShotResult:
    """Scores of one zero-shot run (accuracies in ``[0, 1]``) and what the chapter plots."""

    held_out: tuple[str, ...]
    class_names: tuple[str, ...]
    setting: dict[str, Any]
    accuracy: float  # held-out test series among held-out descriptions
    chance: float
    gzsl_unseen: float  # generalised: held-out series among all descriptions
    gzsl_seen: float
    gzsl_harmonic: float
    confusion: list[list[int]]  # (#held, #held), rows true
    gzsl_confusion: list[list[int]]  # (K, K)
    class_text: np.ndarray
    n_train: int
    train_labels: tuple[int, ...]  # distinct labels that reached training (a leak check)
    train_s: float
    history: list[float] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        """A flat table row."""
        return {**self.setting, "held_out": "+".join(self.held_out), "zero_shot_acc": self.accuracy,
                "chance": self.chance, "gzsl_unseen": self.gzsl_unseen, "gzsl_seen": self.gzsl_seen,
                "gzsl_H": self.gzsl_harmonic, "train_series": self.n_train, "train_s": round(self.train_s, 1)}


def _confusion(y: np.ndarray, pred: np.ndarray, labels: Sequence[int]) -> list[list[int]]:
    """Counts of (true, predicted) over ``labels`` in that order (a 1 x 1 matrix is fine here)."""
    labels = np.asarray(list(labels))
    position = np.zeros(labels.max() + 1, dtype=np.int64)
    position[labels] = np.arange(len(labels))
    counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(counts, (position[np.asarray(y)], position[np.asarray(pred)]), 1)
    return counts.tolist()


def run_zero_shot(
    train: TimeSeriesData,
    test: TimeSeriesData,
    held_out: Sequence[str],
    *,
    descriptions: str = "har",
    text_model: str = "all-MiniLM-L6-v2",
    prompts: str = "description",
    encoder: str = "cnn",
    init: nn.Module | None = None,
    train_encoder: bool = True,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    augmentations: str = "jitter,scaling",
    seed: int = 0,
    max_train: int = 0,
    device: str = "auto",
    progress: bool = False,
) -> ZeroShotResult:
    """Train a series tower on the seen classes' training series, test zero-shot on the held-out.

    Args:
        train, test: splits of a dataset with class descriptions (label order must match them).
        held_out: class names that no training step may see (neither series nor label).
        descriptions, text_model, prompts: the text tower (see :class:`CLIPTextConfig`).
        encoder: architecture of a fresh series tower, unless ``init`` (a model with ``encode``,
            e.g. a trained :class:`sslts.methods.clip.CLIP`) seeds it.
        train_encoder: train the tower too (``False``: only the projection into the text space).
        epochs, batch_size, lr, augmentations, seed, device, progress: the training loop's settings.
        max_train: cap on seen training series (stratified, seeded; ``0`` keeps all).

    Raises:
        ValueError: if the class names differ from the descriptions' or ``held_out`` is invalid.
    """
    from sslts import text

    names = text.class_names(descriptions)
    if tuple(train.class_names) != names or tuple(test.class_names) != names:
        raise ValueError(f"the data's classes {train.class_names} differ from the descriptions' {names}")
    seen, held = split_classes(names, held_out)
    seen_train = train.subset(np.isin(train.y, seen))  # held-out series never enter training
    seen_train = stratified_subset(seen_train, max_train, seed)
    scaler = cleaning.ChannelStandardScaler().fit(seen_train.X)  # seen training series only
    X_train = scaler.transform(seen_train.X).astype(np.float32)
    X_test = scaler.transform(test.X).astype(np.float32)

    torch.manual_seed(seed)
    tower = TowerEncoder(init, X_train.shape[1:]) if init is not None else build_encoder(encoder, X_train.shape[1])
    config = CLIPTextConfig(descriptions=descriptions, text_model=text_model, prompts=prompts,
                            held_out=",".join(names[i] for i in held), train_encoder=train_encoder)
    method = CLIPText(tower, config)
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device, progress=progress,
                      warmup_epochs=default_warmup(epochs))
    started = time.perf_counter()
    result = pretrain(method, X_train, build_pipeline(augmentations, shape=X_train.shape[1:]), cfg, y=seen_train.y)
    train_s = time.perf_counter() - started

    z = embed(_TextSpace(method), X_test)  # (N, E) unit rows
    class_text = method.class_text.cpu().numpy()
    is_held = np.isin(test.y, held)
    pred_held = nearest_description(z[is_held], class_text, held)
    pred_all = nearest_description(z, class_text)
    correct = pred_all == test.y
    u, s = float(correct[is_held].mean()), float(correct[~is_held].mean())
    return ZeroShotResult(
        held_out=tuple(names[i] for i in held), class_names=names,
        setting={"text_model": text_model, "prompts": prompts, "init": "none" if init is None else "clip",
                 "train_encoder": train_encoder},
        accuracy=float((pred_held == test.y[is_held]).mean()), chance=1.0 / len(held),
        gzsl_unseen=u, gzsl_seen=s, gzsl_harmonic=0.0 if u + s == 0 else 2 * u * s / (u + s),
        confusion=_confusion(test.y[is_held], pred_held, held.tolist()),
        gzsl_confusion=_confusion(test.y, pred_all, range(len(names))),
        class_text=class_text, n_train=len(seen_train.y),
        train_labels=tuple(sorted({int(v) for v in seen_train.y})), train_s=train_s,
        history=list(result.loss_history),
    )


# ----------------------------------------------------------------------------- the towers' probes
def untrained_clip(config: ExperimentConfig, input_shape: tuple[int, int]) -> CLIP:
    """The CLIP model of ``config`` before pre-training, with the initial weights of its run
    (:func:`sslts.experiment.build_model`), for random-tower baselines."""
    with torch.random.fork_rng():
        return build_model(config, input_shape).eval()


def tower_evaluation(model: CLIP, train: TimeSeriesData, test: TimeSeriesData,
                     protocols: Sequence[str] = ("linear", "svm", "knn"), seed: int = 0) -> list[dict[str, Any]]:
    """Test accuracy of the probes on tower A, tower B and both (``encode``), one row each.

    The series are z-scored per channel with statistics of ``train`` (as the experiment does), the
    probes are fitted on ``train`` only (:func:`sslts.evaluate.evaluate_embeddings`).
    """
    scaler = cleaning.ChannelStandardScaler().fit(train.X)
    X_train, X_test = scaler.transform(train.X).astype(np.float32), scaler.transform(test.X).astype(np.float32)
    model.eval()
    a = [embed(lambda x: model.encode_tower(x, "a"), X) for X in (X_train, X_test)]
    b = [embed(lambda x: model.encode_tower(x, "b"), X) for X in (X_train, X_test)]
    both = [np.hstack(pair) for pair in zip(a, b)]  # what model.encode returns, without a third pass
    towers = {("A", model.views[0]): a, ("B", model.views[1]): b, ("A+B", "both, concatenated"): both}
    rows = []
    for (tower, modality), (train_z, test_z) in towers.items():
        for protocol, probe in evaluate_embeddings(train_z, train.y, test_z, test.y, protocols, seed).items():
            rows.append({"tower": tower, "modality": modality, "protocol": protocol,
                         "accuracy": probe.metrics()["accuracy"]})
    return rows
