"""SS-GAN's losses (Chen, Zhai, Ritter, Lucic & Houlsby 2019): adversarial and transformation.

The adversarial losses act on the discriminator's real/fake logits ``(N,)``; the transformation
loss on the logits of its transformation head ``(N, K)``. Used by :mod:`sslts.methods.ssgan`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

GAN_LOSSES = ("non_saturating", "hinge")


def _check_logits(logits: object, name: str) -> None:
    if not isinstance(logits, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (N,), got {type(logits).__name__}")
    if logits.ndim != 1 or logits.shape[0] < 1:
        raise ValueError(f"{name} must be a non-empty 1-D tensor of logits (N,), got shape {tuple(logits.shape)}")


def _check_gan_kind(kind: object) -> None:
    if kind not in GAN_LOSSES:
        raise ValueError(f"kind must be one of {list(GAN_LOSSES)}, got {kind!r}")


def gan_discriminator_loss(real_logits: Tensor, fake_logits: Tensor, kind: str = "non_saturating") -> Tensor:
    """The discriminator's adversarial loss on real and generated samples' logits.

    ``"non_saturating"``: the original GAN objective (Goodfellow et al. 2014) as a binary
    cross-entropy, with ``sp(t) = log(1 + e^t)``::

        L_D = mean_i sp(-d(x_i)) + mean_j sp(d(G(z_j)))

    ``"hinge"`` (Lim & Ye 2017; Miyato et al. 2018)::

        L_D = mean_i relu(1 - d(x_i)) + mean_j relu(1 + d(G(z_j)))

    Args:
        real_logits: ``(N,)`` logits ``d(x)`` of real series. fake_logits: ``(M,)`` of generated ones.
        kind: ``"non_saturating"`` (SS-GAN's choice) or ``"hinge"``.

    Returns:
        Scalar tensor. At ``d = 0`` everywhere it is ``2 log 2`` (non-saturating) or ``2`` (hinge).

    Raises:
        TypeError: if a logits argument is not a tensor.
        ValueError: if a logits tensor is not a non-empty 1-D tensor, or ``kind`` is unknown.

    Example:
        >>> round(gan_discriminator_loss(torch.zeros(2), torch.zeros(3)).item(), 4)  # 2 log 2
        1.3863
    """
    _check_logits(real_logits, "real_logits")
    _check_logits(fake_logits, "fake_logits")
    _check_gan_kind(kind)
    if kind == "hinge":
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def gan_generator_loss(fake_logits: Tensor, kind: str = "non_saturating") -> Tensor:
    """The generator's adversarial loss on the logits of its samples.

    ``"non_saturating"``: ``L_G = mean_j sp(-d(G(z_j)))`` = ``-mean log sigmoid(d)``, the
    non-saturating heuristic of Goodfellow et al. (2014), whose gradient does not vanish while the
    discriminator rejects the samples confidently. ``"hinge"``: ``L_G = -mean_j d(G(z_j))``.

    Args:
        fake_logits: ``(M,)`` discriminator logits of generated series.
        kind: ``"non_saturating"`` or ``"hinge"``.

    Returns:
        Scalar tensor.

    Raises:
        TypeError, ValueError: as :func:`gan_discriminator_loss`.

    Example:
        >>> round(gan_generator_loss(torch.zeros(4)).item(), 4)  # log 2
        0.6931
    """
    _check_logits(fake_logits, "fake_logits")
    _check_gan_kind(kind)
    if kind == "hinge":
        return -fake_logits.mean()
    return F.softplus(-fake_logits).mean()


def r1_penalty(real_logits: Tensor, real_inputs: Tensor) -> Tensor:
    """R1 gradient penalty: the mean squared gradient norm of the discriminator on real samples.

    Mescheder, Geiger & Nowozin (2018), "Which Training Methods for GANs do actually Converge?",
    ICML: penalising ``||grad_x d(x)||^2`` on the data makes the GAN game locally convergent; the
    discriminator may not carve a cliff around the few real series it has seen::

        R1 = 1/N sum_i ||d d(x_i) / d x_i||^2

    (the discriminator's loss adds ``gamma / 2 * R1``). Built with ``create_graph=True``, so the
    penalty itself can be differentiated with respect to the discriminator's weights.

    Args:
        real_logits: ``(N,)`` logits computed from ``real_inputs``. real_inputs: ``(N, ...)`` real
            samples with ``requires_grad`` set before the forward pass.

    Returns:
        Scalar tensor.

    Raises:
        TypeError: if an argument is not a tensor. ValueError: if ``real_logits`` is not a non-empty
            1-D tensor or ``real_inputs`` does not require gradients.

    Example:
        >>> x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> r1_penalty(x @ torch.tensor([3.0, 4.0]), x).item()  # a linear d(x) = w.x: ||w||^2
        25.0
    """
    _check_logits(real_logits, "real_logits")
    if not isinstance(real_inputs, Tensor):
        raise TypeError(f"real_inputs must be a torch.Tensor, got {type(real_inputs).__name__}")
    if not real_inputs.requires_grad:
        raise ValueError("real_inputs must require gradients (set requires_grad_() before the forward pass)")
    (grad,) = torch.autograd.grad(real_logits.sum(), real_inputs, create_graph=True)
    # The gradient of the sum is each sample's own gradient when samples do not interact; BatchNorm
    # in training mode couples them a little, as in every GAN that uses both.
    return grad.pow(2).reshape(grad.shape[0], -1).sum(dim=1).mean()


def transformation_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """SS-GAN's auxiliary loss: cross-entropy of predicting which transformation was applied.

    Chen et al. (2019) predict the rotation of an image among ``K = 4``; the time-series analogue in
    :func:`sslts.methods.ssgan.transform_group` uses identity, time reversal, negation and both::

        L = -1/N sum_i log softmax(logits_i)[labels_i]

    A head that cannot tell the transformations apart (equal logits) gives ``log K``.

    Args:
        logits: ``(N, K)`` transformation-head logits. labels: ``(N,)`` integers in ``[0, K)``.

    Returns:
        Scalar tensor.

    Raises:
        TypeError: if an argument is not a tensor, or ``labels`` is not an integer tensor.
        ValueError: on mismatched shapes or labels outside ``[0, K)``.

    Example:
        >>> round(transformation_loss(torch.zeros(2, 4), torch.tensor([0, 3])).item(), 4)  # log 4
        1.3863
    """
    if not isinstance(logits, Tensor) or not isinstance(labels, Tensor):
        raise TypeError("logits and labels must be torch.Tensors")
    if logits.ndim != 2 or logits.shape[0] < 1 or logits.shape[1] < 2:
        raise ValueError(f"logits must have shape (N, K) with N >= 1, K >= 2, got {tuple(logits.shape)}")
    if labels.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        raise TypeError(f"labels must be an integer tensor, got dtype {labels.dtype}")
    if labels.shape != (logits.shape[0],):
        raise ValueError(f"labels must have shape ({logits.shape[0]},) to match logits, got {tuple(labels.shape)}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(f"labels must lie in [0, {logits.shape[1]}), got values in "
                         f"[{labels.min().item()}, {labels.max().item()}]")
    return F.cross_entropy(logits, labels.long())
