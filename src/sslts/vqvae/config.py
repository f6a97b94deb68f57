"""The one source of NC-VQVAE's defaults: a frozen, validated configuration.

The defaults are **CPU-sized** for UWaveGestureLibraryAll (896 x 1 x 945) on one core: a 16x
downsampling gives 60 tokens per series, 32 codes of width 64, a 2-layer prior of width 128.
The thesis (Mathisen et al. 2024, on a GPU) trained far larger models for 1,800-4,200 s per
stage-1 run; these sizes trade fidelity for a few minutes per run. Measured on one thread of a
loaded 2-core machine: stage 1 about 10 s per epoch for NC-VQVAE (two views) on
UWaveGestureLibraryAll, stage 2 about 3.4 s per epoch; so 20 + 40 epochs take about 3.3 + 2.3 min.

Augmentations: the thesis uses window warp, amplitude resize, slice-and-resize and Gaussian
noise. :data:`AUGMENTATIONS` maps each to the project's operation (:mod:`sslts.augment`):
``window_warp`` is the project's :func:`~sslts.augment.window_warp` (one random window of 10 % of
the series played 2x slower or faster, then resampled to the series' length; Le Guennec et al.
2016, Iwana & Uchida 2021), the others their nearest operations.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from .ssl_branch import SSL_LOSSES

__all__ = ["AUGMENTATIONS", "VARIANTS", "VQVAEConfig"]

VARIANTS = ("naive", "nc")

# Thesis augmentation -> project pipeline spec (sslts.augment.build_pipeline).
AUGMENTATIONS = {
    "window_warp": "window_warp",
    "amplitude_resize": "scaling",
    "slice_and_resize": "crop_resize",
    "gaussian_noise": "jitter",
}

_POSITIVE_INTS = ("num_codes", "latent_dim", "hidden", "proj_dim", "stage1_epochs", "batch_size",
                  "prior_dim", "prior_depth", "prior_heads", "stage2_epochs", "sample_steps", "cas_epochs",
                  "fidelity_epochs")


@dataclass(frozen=True)
class VQVAEConfig:
    """Everything a naive VQ-VAE or NC-VQVAE run needs.

    Attributes:
        variant: ``"naive"`` (no SSL branch) or ``"nc"``.
        ssl_loss: ``"barlow_twins"`` or ``"vibcreg"`` (NC only).
        augmentation: a key of :data:`AUGMENTATIONS` (NC only).
        num_codes, latent_dim, hidden, downsamples: tokenizer sizes (``T = ceil(L / 2^downsamples)``).
        beta, decay: commitment weight and EMA decay (van den Oord et al. 2017).
        kmeans_init, dead_threshold: the remedies against codebook collapse: k-means start of the
            codebook on the first batch, restart of codes with an EMA count below the threshold
            (0: never); see :mod:`sslts.vqvae.quantizer`.
        proj_dim: SSL projector width. ssl_weight: weight of the SSL loss (None: the branch's default).
        recon_augmented: NC-VQVAE also reconstructs the augmented view.
        stage1_epochs, stage1_lr, batch_size: stage-1 training (Adam).
        prior_dim, prior_depth, prior_heads, class_dropout, stage2_epochs, stage2_lr: stage 2.
        sample_steps, temperature, guidance: MaskGIT decoding (guidance 0: no classifier-free guidance).
        cas_epochs, fidelity_epochs: training of the CAS classifier and of the feature extractor.
        seed: seeds models, shuffling, augmentations, masks and sampling. device: ``"auto"`` (CUDA
            when present) or a torch device string.

    Raises:
        ValueError: on any bad value, naming the field and what is allowed.
    """

    variant: str = "nc"
    ssl_loss: str = "vibcreg"
    augmentation: str = "window_warp"
    num_codes: int = 32
    latent_dim: int = 64
    hidden: int = 64
    downsamples: int = 4
    beta: float = 0.25
    decay: float = 0.99
    kmeans_init: bool = True
    dead_threshold: float = 1.0
    proj_dim: int = 256
    ssl_weight: float | None = None
    recon_augmented: bool = True
    stage1_epochs: int = 20
    stage1_lr: float = 1e-3
    batch_size: int = 64
    prior_dim: int = 128
    prior_depth: int = 2
    prior_heads: int = 4
    class_dropout: float = 0.1
    stage2_epochs: int = 40
    stage2_lr: float = 1e-3
    sample_steps: int = 8
    temperature: float = 1.0
    guidance: float = 0.0
    cas_epochs: int = 20
    fidelity_epochs: int = 20
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        if self.ssl_loss not in SSL_LOSSES:
            raise ValueError(f"ssl_loss must be one of {tuple(SSL_LOSSES)}, got {self.ssl_loss!r}")
        if self.augmentation not in AUGMENTATIONS:
            raise ValueError(f"augmentation must be one of {tuple(AUGMENTATIONS)}, got {self.augmentation!r}")
        for name in _POSITIVE_INTS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"VQVAEConfig.{name} must be a positive int, got {value!r}")
        if isinstance(self.downsamples, bool) or not isinstance(self.downsamples, int) or self.downsamples < 0:
            raise ValueError(f"VQVAEConfig.downsamples must be an int >= 0, got {self.downsamples!r}")
        if self.num_codes < 2:
            raise ValueError(f"VQVAEConfig.num_codes must be >= 2, got {self.num_codes}")
        if self.prior_dim % self.prior_heads:
            raise ValueError(f"VQVAEConfig.prior_dim ({self.prior_dim}) must be divisible by prior_heads "
                             f"({self.prior_heads})")
        for name in ("stage1_lr", "stage2_lr", "temperature"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"VQVAEConfig.{name} must be a finite number > 0, got {value!r}")
        for name in ("beta", "guidance"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"VQVAEConfig.{name} must be >= 0, got {getattr(self, name)!r}")
        if not isinstance(self.kmeans_init, bool):
            raise ValueError(f"VQVAEConfig.kmeans_init must be a bool, got {self.kmeans_init!r}")
        if not (isinstance(self.dead_threshold, (int, float)) and math.isfinite(self.dead_threshold)
                and self.dead_threshold >= 0) or isinstance(self.dead_threshold, bool):
            raise ValueError(f"VQVAEConfig.dead_threshold must be a finite number >= 0, got {self.dead_threshold!r}")
        if self.ssl_weight is not None and not self.ssl_weight >= 0:
            raise ValueError(f"VQVAEConfig.ssl_weight must be >= 0 or None, got {self.ssl_weight!r}")
        if not (0.0 <= self.decay < 1.0 and 0.0 <= self.class_dropout <= 1.0):
            raise ValueError(f"VQVAEConfig.decay must be in [0, 1) and class_dropout in [0, 1], got "
                             f"{self.decay!r} and {self.class_dropout!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"VQVAEConfig.seed must be an int, got {self.seed!r}")

    @property
    def method(self) -> str:
        """A short name: ``vqvae-naive`` or e.g. ``nc-vqvae-vibcreg-window_warp``."""
        return "vqvae-naive" if self.variant == "naive" else f"nc-vqvae-{self.ssl_loss}-{self.augmentation}"

    def augmentation_spec(self) -> str:
        """The project pipeline spec of :attr:`augmentation`."""
        return AUGMENTATIONS[self.augmentation]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def replace(self, **changes: Any) -> "VQVAEConfig":
        """A copy with ``changes`` (validated); unknown names raise ValueError listing the fields."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown VQVAEConfig fields {unknown}; known: {', '.join(sorted(known))}")
        return VQVAEConfig(**{**self.to_dict(), **changes})
