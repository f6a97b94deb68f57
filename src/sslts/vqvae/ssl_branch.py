"""NC-VQVAE's self-supervised branch: a projector and the project's non-contrastive loss.

Mathisen, Lokna, Lee & Aune (2024), arXiv:2408.16613: the tokenizer's encoder is also trained so
that the pooled latents of two views of a series agree under a non-contrastive loss, Barlow Twins
(Zbontar et al. 2021) or VIbCReg (Lee & Aune 2021). Nothing is re-implemented here: the losses are
:func:`sslts.losses.barlow_twins_loss` and :func:`sslts.losses.vibcreg_loss` and the projector is
:func:`sslts.heads.projection_mlp` (followed by :class:`sslts.heads.IterNorm` for VIbCReg, as the
project's VIbCReg method does).

Shapes::

    h1, h2 (B, D) pooled encoder latents --projector--> z1, z2 (B, P) --loss--> (), terms

Weights: the losses' scales differ (Barlow Twins' diagonal sum grows with ``P``; VIbCReg starts
near ``25 * 2 = 50``) while the reconstruction MSE of standardised series starts near 1, so
:data:`DEFAULT_WEIGHTS` scales each to start at about the reconstruction's size. They are this
project's choice, not the paper's.
"""

from __future__ import annotations

from typing import Callable

from torch import Tensor, nn

from sslts.heads import IterNorm, projection_mlp
from sslts.losses import barlow_twins_loss, vibcreg_loss

__all__ = ["DEFAULT_WEIGHTS", "SSL_LOSSES", "SSLBranch", "default_weight"]

SSL_LOSSES: dict[str, Callable[[Tensor, Tensor], tuple[Tensor, dict[str, Tensor]]]] = {
    "barlow_twins": barlow_twins_loss,
    "vibcreg": vibcreg_loss,
}

# Weight of the SSL loss in the stage-1 sum, by loss; "1/P" means one over the projector width.
DEFAULT_WEIGHTS = {"barlow_twins": "1/P", "vibcreg": 0.01}


def default_weight(loss: str, proj_dim: int) -> float:
    """The default SSL weight of ``loss`` for projector width ``proj_dim`` (see module)."""
    if loss not in SSL_LOSSES:
        raise ValueError(f"unknown SSL loss {loss!r}; known: {', '.join(SSL_LOSSES)}")
    weight = DEFAULT_WEIGHTS[loss]
    return 1.0 / proj_dim if weight == "1/P" else float(weight)


class SSLBranch(nn.Module):
    """Projector plus one of :data:`SSL_LOSSES`, applied to two pooled latents ``(B, D)``.

    Args:
        loss: ``"barlow_twins"`` or ``"vibcreg"``.
        in_dim: ``D``, the latent width. proj_hidden, proj_dim: projector widths.
        weight: weight of the loss in the stage-1 sum; :func:`default_weight` when ``None``.
        iternorm_groups: IterNorm groups at the end of VIbCReg's projector (must divide ``proj_dim``).

    Raises:
        ValueError: an unknown loss (the message lists the known ones), a negative weight, or sizes
            that do not fit.

    Example:
        >>> import torch
        >>> branch = SSLBranch("barlow_twins", in_dim=8, proj_hidden=16, proj_dim=16)
        >>> loss, terms = branch(torch.randn(6, 8), torch.randn(6, 8))
        >>> sorted(terms)
        ['off_diag', 'on_diag']
    """

    def __init__(self, loss: str, in_dim: int, proj_hidden: int = 256, proj_dim: int = 256,
                 weight: float | None = None, iternorm_groups: int = 16) -> None:
        super().__init__()
        if loss not in SSL_LOSSES:
            raise ValueError(f"unknown SSL loss {loss!r}; known: {', '.join(SSL_LOSSES)}")
        if weight is not None and not weight >= 0:
            raise ValueError(f"weight must be >= 0 (or None for the default), got {weight!r}")
        self.loss_name = loss
        self.weight = default_weight(loss, proj_dim) if weight is None else float(weight)
        head = projection_mlp(in_dim, proj_hidden, proj_dim, num_layers=3)
        if loss == "vibcreg":
            if proj_dim % iternorm_groups:
                raise ValueError(f"iternorm_groups ({iternorm_groups}) must divide proj_dim ({proj_dim})")
            self.projector = nn.Sequential(head, IterNorm(proj_dim, num_groups=iternorm_groups))
        else:
            self.projector = head

    def project(self, h: Tensor) -> Tensor:
        """Projector output ``(B, P)`` of pooled latents ``(B, D)``."""
        return self.projector(h)

    def forward(self, h1: Tensor, h2: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """The unweighted SSL loss of two views' pooled latents and its terms."""
        z1, z2 = self.project(h1), self.project(h2)  # (B, P) each
        return SSL_LOSSES[self.loss_name](z1.float(), z2.float())
