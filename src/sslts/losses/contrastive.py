"""Contrastive losses over the embeddings of two views, ``(B, D)`` each: NT-Xent (SimCLR) and CLIP.

Row ``i`` of the first and of the second view come from the same series (or pair); every other
row is a negative. Every function raises ``TypeError`` for non-tensors and ``ValueError`` unless the inputs are
2-D, of equal shape and hold at least two rows.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from sslts.losses._checks import _check_pair

def nt_xent(z1: Tensor, z2: Tensor, temperature: float = 0.5) -> Tensor:
    """Normalized temperature-scaled cross entropy (NT-Xent), the SimCLR loss.

    Chen, Kornblith, Norouzi & Hinton (2020), "A Simple Framework for Contrastive Learning of Visual
    Representations", ICML. Each of the 2N views is an anchor; its positive is the other view of the
    same sample, the other 2N - 2 views are its negatives. With cosine similarity ``s_ij``::

        l(i, j) = -log( exp(s_ij / tau) / sum_{k != i} exp(s_ik / tau) )
        L = 1/(2N) * sum over positive pairs (i, j) of [ l(i, j) + l(j, i) ]

    A fully collapsed batch (all embeddings equal) gives ``L = log(2N - 1)``.

    Args:
        z1: ``(N, D)`` first view. z2: ``(N, D)`` second view; ``z2[i]`` is the positive of ``z1[i]``.
        temperature: ``tau > 0``; 0.5 is the paper's best value for its main setting (Table 5).

    Returns:
        Scalar tensor: the mean loss over all 2N anchors.

    Raises:
        TypeError, ValueError: on bad inputs (see module), or if ``temperature <= 0``.

    Example:
        >>> round(nt_xent(torch.eye(2), torch.eye(2), temperature=1.0).item(), 4)  # log(e + 2) - 1
        0.5514
    """
    _check_pair(z1, z2)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)  # (2N, D) unit rows, so dot = cosine
    logits = z @ z.T / temperature  # (2N, 2N)
    # An anchor is never its own negative: drop self-similarity from the softmax denominator.
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))
    positives = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)  # (2N,)
    return F.cross_entropy(logits, positives)


def clip_loss(
    za: Tensor, zb: Tensor, logit_scale: float | Tensor, labels: Tensor | None = None
) -> Tensor:
    """CLIP's symmetric InfoNCE over the ``B x B`` similarity matrix of two towers' embeddings.

    Radford et al. (2021), "Learning Transferable Visual Models From Natural Language Supervision",
    ICML, Figure 3. Rows are L2-normalised, ``S = s * za_n @ zb_n^T`` (``s = exp(t)``, the learned
    inverse temperature), and the loss averages the cross-entropy of every row of ``S`` (tower A to
    B) and of every column (B to A)::

        L = 1/2 * [ CE(S, T) + CE(S^T, T^T) ],   T = I  (row i is paired with column i only)

    With ``labels`` the targets become UniCL's (Yang et al. 2022, "Unified Contrastive Learning in
    Image-Text-Label Space", CVPR): ``T_ij = [y_i = y_j] / #{k: y_k = y_i}``, so two series of the
    same class that are matched to the same class description are not pushed apart as negatives
    (the loss's floor is then the mean entropy of the target rows, not 0). ``labels = arange(B)``
    gives exactly the CLIP loss. A fully collapsed batch gives ``log B``.

    Args:
        za: ``(B, D)`` embeddings of tower A. zb: ``(B, D)`` embeddings of tower B; ``zb[i]`` is the
            partner of ``za[i]``.
        logit_scale: ``s > 0``, the multiplier of the cosine similarities (CLIP initialises it to
            ``1 / 0.07`` and clips it at 100), a float or a 0-dim tensor (learnable).
        labels: optional ``(B,)`` integer tensor; rows with equal labels are all positives.

    Returns:
        Scalar tensor: the mean of the two directions.

    Raises:
        TypeError, ValueError: on bad inputs (see module), if ``logit_scale`` is not positive, or if
            ``labels`` is not a ``(B,)`` integer tensor.

    Example:
        >>> round(clip_loss(torch.eye(2), torch.eye(2), 1.0).item(), 4)  # log(1 + e^-1)
        0.3133
    """
    _check_pair(za, zb)
    scale = torch.as_tensor(logit_scale, dtype=za.dtype, device=za.device)
    if scale.ndim != 0 or not bool(scale.detach() > 0):
        raise ValueError(f"logit_scale must be a positive scalar, got {logit_scale!r}")
    n = za.shape[0]
    logits = scale * F.normalize(za, dim=1) @ F.normalize(zb, dim=1).T  # (B, B)
    if labels is None:
        targets: Tensor = torch.arange(n, device=za.device)  # (B,) the diagonal
        return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets))
    if not isinstance(labels, Tensor) or labels.shape != (n,) or labels.is_floating_point():
        raise ValueError(f"labels must be an integer tensor of shape ({n},), got {labels!r}")
    same = (labels[:, None] == labels[None, :]).to(logits.dtype)  # (B, B), symmetric
    soft = same / same.sum(dim=1, keepdim=True)  # each row sums to 1
    return 0.5 * (F.cross_entropy(logits, soft) + F.cross_entropy(logits.T, soft))
