"""Time-series augmentations on batches ``(B, C, L)`` and the pipeline that chains them.

Every augmentation is a pure function ``fn(x, generator, **strength) -> x_aug``:

* ``x`` is a floating-point tensor ``(B, C, L)`` on any device; the result has the same shape,
  dtype and device, is a new tensor, and ``x`` is never written to;
* all randomness comes from ``generator`` (a ``torch.Generator`` on ``x``'s device type), so the
  same seed gives the same output, and the number of random draws does not depend on the data;
  random numbers are drawn in float32 (float64 for float64 input, so no precision is lost);
* the batch is processed at once (no Python loop over samples);
* there is no probability argument: :class:`Compose` applies each step to each sample with
  probability ``p`` (a Bernoulli mask of shape ``(B,)`` and ``torch.where``).

Default strengths are the constants of :mod:`~sslts.augment.ops` (also importable from here);
they are also the functions' keyword defaults, so they exist in one place (:func:`default_params`
reads them back).

The package has one module per job: :mod:`~sslts.augment.ops` holds the thirteen operations
(:mod:`~sslts.augment.primitives` the checks, draws and resampling they share),
:mod:`~sslts.augment.pipeline` the registry, the steps and :func:`build_pipeline`, which can check
a pipeline against the data's shape ``(C, L)``, and :mod:`~sslts.augment.spec` the string form of
a spec. Everything public is importable from here.

References
----------
Um et al. (2017), "Data augmentation of wearable sensor data for Parkinson's disease monitoring
using convolutional neural networks", ICMI. Iwana & Uchida (2021), "An empirical survey of data
augmentation for time series classification with neural networks", PLOS ONE 16(7). Eldele et al.
(2021), "Time-series representation learning via temporal and contextual contrasting" (TS-TCC),
IJCAI. Lee & Aune (2021), "VIbCReg: Variance-invariance-better-covariance regularization for
self-supervised learning on time series", arXiv:2109.00783. Sarkar & Etemad (2020),
"Self-supervised ECG representation learning for emotion recognition", IEEE Trans. Affective
Computing.

Example
-------
>>> import torch
>>> pipe = build_pipeline([{"name": "jitter", "p": 0.8, "sigma": 0.03}, "scaling"])
>>> x = torch.zeros(4, 3, 16)                       # (B, C, L)
>>> pipe(x, default_generator(0)).shape
torch.Size([4, 3, 16])
>>> pipe.describe()[0]
{'name': 'jitter', 'p': 0.8, 'sigma': 0.03}
>>> pipe = build_pipeline("jitter,scaling", shape=(3, 16))   # checked against the data's shape
"""

from __future__ import annotations

from .window import WINDOW_WARP_RATIO, WINDOW_WARP_SCALE, window_warp
from .ops import (
    BLOCKOUT_RATIO, CHANNEL_NOISE_FACTOR, CROP_RESIZE_RATIO, JITTER_SIGMA, MAGNITUDE_WARP_KNOTS,
    MAGNITUDE_WARP_SIGMA, PERMUTATION_MAX_SEGMENTS, RANDOM_CROP_RATIO, SCALING_SIGMA,
    SMOOTHING_A_MAX, TIME_WARP_KNOTS, TIME_WARP_SIGMA, blockout,
    channel_noise, crop_resize, jitter, magnitude_warp, negation, permutation, random_crop, scaling,
    smoothing, time_flip, time_warp,
)
from .pipeline import (
    AUGMENTATIONS, AugmentationStep, Compose, build_pipeline, default_generator, default_params,
)
from .primitives import check_batch, resample

__all__ = [
    "AUGMENTATIONS", "AugmentationStep", "Compose", "build_pipeline", "default_generator",
    "default_params", "jitter", "channel_noise", "scaling", "magnitude_warp", "time_warp",
    "crop_resize", "random_crop", "blockout", "time_flip", "negation", "smoothing", "permutation",
    "window_warp",
]
