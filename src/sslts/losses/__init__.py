"""Self-supervised losses as pure functions, one module per family.

Over the embeddings of two views, ``(B, D)`` each (row ``i`` of ``z1`` and of ``z2`` come from the
same series), every function returns a scalar tensor; the composite losses also return their
unweighted terms, for logging. Nothing mutates its inputs.

- :mod:`~sslts.losses.contrastive`: :func:`nt_xent` (SimCLR), :func:`clip_loss` (CLIP, UniCL).
- :mod:`~sslts.losses.variance_covariance`: VICReg's terms and :func:`vicreg_loss`;
  :func:`normalized_covariance_term` and :func:`vibcreg_loss`, which swaps only the covariance term.
- :mod:`~sslts.losses.redundancy`: :func:`cross_correlation`, :func:`barlow_twins_loss`.
- :mod:`~sslts.losses.gan`: SS-GAN's adversarial, R1 and transformation losses.
- :mod:`~sslts.losses.reconstruction`: MAE's :func:`normalize_patches` and :func:`mae_loss`.

The two-view losses raise ``TypeError`` for non-tensors and ``ValueError`` unless the inputs are
2-D, of equal shape and hold at least two rows.

Example:
    >>> import math, torch
    >>> from sslts.losses import nt_xent
    >>> z = torch.ones(3, 4)  # a fully collapsed batch of N = 3: log(2N - 1)
    >>> abs(nt_xent(z, z).item() - math.log(5)) < 1e-6
    True
"""

from __future__ import annotations

from sslts.losses.contrastive import clip_loss, nt_xent
from sslts.losses.gan import (
    GAN_LOSSES,
    gan_discriminator_loss,
    gan_generator_loss,
    r1_penalty,
    transformation_loss,
)
from sslts.losses.reconstruction import mae_loss, normalize_patches
from sslts.losses.redundancy import barlow_twins_loss, cross_correlation
from sslts.losses.variance_covariance import (
    covariance_term,
    invariance_term,
    normalized_covariance_term,
    variance_term,
    vibcreg_loss,
    vicreg_loss,
)

__all__ = [
    "GAN_LOSSES",
    "barlow_twins_loss",
    "clip_loss",
    "covariance_term",
    "cross_correlation",
    "gan_discriminator_loss",
    "gan_generator_loss",
    "invariance_term",
    "mae_loss",
    "normalize_patches",
    "normalized_covariance_term",
    "nt_xent",
    "r1_penalty",
    "transformation_loss",
    "variance_term",
    "vibcreg_loss",
    "vicreg_loss",
]
