"""Network dissection for 1-D encoders: which units of the last convolution detect which concept.

Bau, Zhou, Khosla, Oliva & Torralba (2017), "Network Dissection: Quantifying Interpretability of
Deep Visual Representations", CVPR. For each unit ``u`` (a channel of a feature map), its
activations over the whole dataset are thresholded at their top quantile ``T_u`` (Bau et al.: the
top 0.5 % of all activation values), giving a binary map ``M_u`` of where the unit fires; each
*concept* ``c`` is a binary map ``C_c`` over the same positions; the unit's score for the concept
is the dataset-wide intersection over union

    IoU(u, c) = |M_u and C_c| / |M_u or C_c|,

and the unit is a *detector* of its best concept when that IoU exceeds a threshold (0.04 in Bau
et al.).

What the adaptation to time series changes:

- positions are the time steps of the feature map ``(N, U, L')`` instead of pixels, and a concept
  mask at the input's resolution ``(N, L)`` is brought to ``L'`` by averaging over each output
  step's stretch of time and keeping the steps where the concept covers at least half;
- the concepts are defined by the data rather than by a labelled segmentation set: the *class* of
  the series (every step of its series), the *phase* (first, middle, last third of a series), the
  *channel* with the largest absolute value at a step, the *frequency band* holding most of the
  short-time energy at a step, and *motion* against *rest* (the local spread of the signal's
  magnitude above or below its median);
- with few time steps per series (``L'`` is about ``L / 8``), the top quantile defaults to 2 % (not
  0.5 %), so that each unit fires at a few positions of a few series at least.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .readouts import feature_maps

DETECTOR_IOU = 0.04  # Bau et al.'s threshold
TOP_QUANTILE = 0.98


def unit_masks(activations: np.ndarray, quantile: float = TOP_QUANTILE) -> np.ndarray:
    """Where each unit fires: ``activations > T_u``, ``T_u`` its ``quantile`` over all series and steps.

    Args:
        activations: ``(N, U, L')`` feature maps.

    Returns:
        ``(N, U, L')`` booleans.
    """
    a = np.asarray(activations, dtype=np.float64)
    if a.ndim != 3:
        raise ValueError(f"activations must be (N, U, L'), got shape {a.shape}")
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    thresholds = np.quantile(a.transpose(1, 0, 2).reshape(a.shape[1], -1), quantile, axis=1)  # (U,)
    return a > thresholds[None, :, None]


def iou(unit_mask: np.ndarray, concept_masks: dict[str, np.ndarray]) -> dict[str, float]:
    """Dataset-wide IoU of one unit's mask ``(N, L')`` with each concept mask ``(N, L')``.

    Example:
        >>> m = np.array([[1, 1, 0, 0]], bool)
        >>> iou(m, {"start": np.array([[1, 0, 0, 0]], bool)})["start"]
        0.5
    """
    out = {}
    for name, concept in concept_masks.items():
        union = np.logical_or(unit_mask, concept).sum()
        out[name] = float(np.logical_and(unit_mask, concept).sum() / union) if union else 0.0
    return out


def to_feature_steps(mask: np.ndarray, steps: int) -> np.ndarray:
    """An input-resolution mask ``(N, L)`` at the feature map's ``steps``: covered at least half."""
    t = torch.as_tensor(np.asarray(mask, dtype=np.float32))[:, None, :]  # (N, 1, L)
    return (F.adaptive_avg_pool1d(t, steps)[:, 0, :] >= 0.5).numpy()


def concept_masks(X: np.ndarray, y: np.ndarray, steps: int, class_names: list[str] | None = None,
                  bands: int = 3, window: int = 16) -> dict[tuple[str, str], np.ndarray]:
    """The data's concepts as ``{(type, name): (N, steps) mask}`` for series ``X`` ``(N, C, L)``.

    Types: ``class`` (one per label), ``phase`` (start, middle, end), ``channel`` (the channel with the
    largest absolute z-scored value), ``band`` (low/mid/high thirds of the spectrum of a ``window``-step
    sliding window: the band with the most energy), ``motion`` (motion where the local standard
    deviation of the magnitude over ``window`` steps exceeds its dataset median, else rest).
    """
    X = np.asarray(X, dtype=np.float64)
    n, c, length = X.shape
    out: dict[tuple[str, str], np.ndarray] = {}
    labels = np.asarray(y)
    for k in np.unique(labels):
        name = class_names[k] if class_names is not None else str(k)
        out[("class", name)] = np.repeat((labels == k)[:, None], steps, axis=1)
    position = np.arange(length)[None, :].repeat(n, axis=0)
    for i, name in enumerate(("start", "middle", "end")):
        out[("phase", name)] = to_feature_steps((position * 3 // length) == i, steps)
    if c > 1:
        dominant = np.abs(X).argmax(axis=1)  # (N, L)
        for channel in range(c):
            out[("channel", f"channel {channel}")] = to_feature_steps(dominant == channel, steps)
    energy = _band_energy(X, bands, window)  # (N, bands, L)
    names = ("low", "mid", "high") if bands == 3 else tuple(f"band {b}" for b in range(bands))
    for b, name in enumerate(names):
        out[("band", name)] = to_feature_steps(energy.argmax(axis=1) == b, steps)
    spread = _local_std(np.linalg.norm(X, axis=1), window)  # (N, L)
    moving = spread > np.median(spread)
    out[("motion", "motion")] = to_feature_steps(moving, steps)
    out[("motion", "rest")] = to_feature_steps(~moving, steps)
    return out


def _windows(x: np.ndarray, window: int) -> np.ndarray:
    """Centred sliding windows ``(..., L, window)`` of ``x`` ``(..., L)`` (edges padded by reflection)."""
    window = max(2, min(window, x.shape[-1]))
    left = window // 2
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(left, window - 1 - left)], mode="reflect" if x.shape[-1] > window else "edge")
    return np.lib.stride_tricks.sliding_window_view(padded, window, axis=-1)


def _local_std(x: np.ndarray, window: int) -> np.ndarray:
    return _windows(x, window).std(axis=-1)


def _band_energy(X: np.ndarray, bands: int, window: int) -> np.ndarray:
    """Short-time energy ``(N, bands, L)`` summed over channels, in equal thirds of the window's spectrum."""
    w = _windows(X, window)  # (N, C, L, window)
    spectrum = np.abs(np.fft.rfft(w - w.mean(axis=-1, keepdims=True), axis=-1)) ** 2  # (N, C, L, F)
    edges = np.linspace(1, spectrum.shape[-1], bands + 1).astype(int)  # the constant term (0) left out
    per_band = [spectrum[..., lo:max(hi, lo + 1)].sum(axis=-1) for lo, hi in zip(edges[:-1], edges[1:])]
    return np.stack(per_band, axis=1).sum(axis=2)  # (N, bands, L)


def max_achievable_iou(concept_coverage: float, unit_coverage: float = 1.0 - TOP_QUANTILE) -> float:
    """The highest IoU any unit can reach with a concept: a unit mask of ``unit_coverage`` (the share
    of positions above its top quantile) inside or around a concept mask of ``concept_coverage``,
    ``min(q, c) / max(q, c)``. A concept covering half of all positions caps every unit's IoU at
    0.02 / 0.5 = 0.04, Bau et al.'s threshold, so it can never yield a detector.

    >>> max_achievable_iou(0.5), max_achievable_iou(0.125), max_achievable_iou(0.01)
    (0.04, 0.16, 0.5)
    """
    if not (0.0 < concept_coverage <= 1.0 and 0.0 < unit_coverage <= 1.0):
        raise ValueError(f"coverages must be in (0, 1], got {concept_coverage} and {unit_coverage}")
    return round(min(concept_coverage, unit_coverage) / max(concept_coverage, unit_coverage), 12)


def concept_ceilings(concepts: dict[tuple[str, str], np.ndarray], quantile: float = TOP_QUANTILE,
                     threshold: float = DETECTOR_IOU) -> list[dict[str, Any]]:
    """Each concept's coverage (share of positions), the highest IoU a unit could reach with it
    (:func:`max_achievable_iou`) and whether that ceiling clears the detector ``threshold``: the
    control that says which concepts the criterion can detect at all."""
    rows = []
    for (kind, name), mask in concepts.items():
        coverage = float(np.mean(mask))
        ceiling = max_achievable_iou(coverage, 1.0 - quantile) if coverage > 0 else 0.0
        rows.append({"concept_type": kind, "concept": name, "coverage": coverage, "max_iou": ceiling,
                     "can_detect": ceiling > threshold})
    return rows


def dissect(activations: np.ndarray, concepts: dict[tuple[str, str], np.ndarray], quantile: float = TOP_QUANTILE,
            threshold: float = DETECTOR_IOU) -> list[dict[str, Any]]:
    """Each unit's best concept and its IoU; ``detector`` when the IoU exceeds ``threshold``.

    Returns:
        One dict per unit: ``unit``, ``concept_type``, ``concept``, ``iou``, ``detector``.
    """
    masks = unit_masks(activations, quantile)
    flat = {f"{t}\u241f{n}": m for (t, n), m in concepts.items()}
    rows = []
    for u in range(masks.shape[1]):
        scores = iou(masks[:, u, :], flat)
        best = max(scores, key=scores.get)
        kind, name = best.split("\u241f")
        rows.append({"unit": u, "concept_type": kind, "concept": name, "iou": scores[best],
                     "detector": scores[best] > threshold})
    return rows


def block_maps(encoder: torch.nn.Module, X: np.ndarray, block: int, batch_size: int = 256) -> np.ndarray:
    """The feature maps ``(N, U, L')`` after the first ``block`` convolution blocks of a CNN encoder.

    ``block`` counts :class:`~sslts.encoders.CNNEncoder`'s blocks (conv, norm, ReLU, pool) from 1;
    its last block gives the map :func:`sslts.evaluate.readouts.feature_maps` reads. The encoder is
    run in eval mode and given back in its former mode.

    Raises:
        TypeError: an encoder without ``blocks`` of pooled convolutions. ValueError: no such block.
    """
    blocks = getattr(encoder, "blocks", None)
    ends = [i for i, m in enumerate(blocks or ()) if isinstance(m, torch.nn.MaxPool1d)]
    if not ends:
        raise TypeError(f"{type(encoder).__name__} has no convolution blocks to dissect; use the CNN encoder")
    if not 1 <= block <= len(ends):
        raise ValueError(f"block must be in 1..{len(ends)}, got {block}")
    return feature_maps(encoder, X, batch_size, through=blocks[:ends[block - 1] + 1]).numpy()


def detector_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """How many units detect each concept type (``none`` for units below the threshold)."""
    counts: dict[str, int] = {}
    for row in rows:
        key = row["concept_type"] if row["detector"] else "none"
        counts[key] = counts.get(key, 0) + 1
    return counts
