"""Barlow Twins: make the cross-correlation of two views' projections the identity.

Zbontar, Jing, Misra, LeCun & Deny (2021), "Barlow Twins: Self-Supervised Learning via Redundancy
Reduction", ICML. The projector's outputs for the two views are standardised over the batch; the
diagonal of their cross-correlation matrix is pushed to 1 (invariance) and the off-diagonal to 0
(redundancy reduction). Evaluation uses the encoder output, not the projection.

Shapes::

    x1, x2 (B, C, L) --encoder--> h1, h2 (B, D) --projector--> z1, z2 (B, proj_dim)
    --barlow_twins_loss--> loss (), terms {"on_diag", "off_diag"}
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from sslts.heads import projection_mlp
from sslts.losses import barlow_twins_loss
from sslts.methods.base import MethodConfig, SSLMethod, loss_in_float32, require_positive

__all__ = ["BarlowTwins", "BarlowConfig"]


@dataclass(frozen=True)
class BarlowConfig(MethodConfig):
    """Barlow Twins hyper-parameters: Zbontar et al. (2021, Section 4), but a narrower projector.

    Attributes:
        proj_hidden: hidden width of the projector (1024 for the 128-wide encoder; 8192 in the paper).
        proj_dim: output width of the projector (1024; 8192 in the paper, which finds larger is better).
        proj_layers: linear layers in the projector (3: two Linear-BN-ReLU blocks, then Linear).
        lambda_offdiag: ``lambda``, weight of the off-diagonal (redundancy) term (5e-3).
    """

    proj_hidden: int = 1024
    proj_dim: int = 1024
    proj_layers: int = 3
    lambda_offdiag: float = 5e-3

    def __post_init__(self) -> None:
        super().__post_init__()  # field types
        require_positive(self, "proj_hidden", "proj_dim", "proj_layers")
        if self.lambda_offdiag < 0:
            raise ValueError(
                f"BarlowConfig.lambda_offdiag must be >= 0, got {self.lambda_offdiag!r}"
            )


class BarlowTwins(SSLMethod):
    """Barlow Twins on time series.

    Args:
        encoder: module ``(B, C, L) -> (B, D)`` with attribute ``out_dim = D``.
        config: :class:`BarlowConfig`; the paper's defaults when ``None``.

    Example:
        >>> import torch
        >>> from sslts.encoders import build_encoder
        >>> cfg = BarlowConfig(proj_hidden=64, proj_dim=64)
        >>> method = BarlowTwins(build_encoder("cnn", in_channels=3), cfg)
        >>> x = torch.randn(8, 3, 32)
        >>> loss, terms = method.training_step(x, x + 0.01 * torch.randn_like(x))
        >>> sorted(terms)
        ['off_diag', 'on_diag']
    """

    name = "barlow_twins"
    config_class = BarlowConfig
    config: BarlowConfig

    def __init__(self, encoder: nn.Module, config: BarlowConfig | None = None) -> None:
        super().__init__(encoder, config)
        c = self.config
        self.projector = projection_mlp(
            encoder.out_dim, c.proj_hidden, c.proj_dim, num_layers=c.proj_layers
        )

    def training_step(self, x1: Tensor, x2: Tensor) -> tuple[Tensor, dict[str, float]]:
        """Barlow Twins loss between the projections of two views ``(B, C, L)`` and its terms."""
        z1 = self.projector(self.encoder(x1))  # (B, proj_dim)
        z2 = self.projector(self.encoder(x2))  # (B, proj_dim)
        loss, terms = loss_in_float32(
            barlow_twins_loss, z1, z2, lambda_offdiag=self.config.lambda_offdiag
        )
        return loss, {k: v.item() for k, v in terms.items()}
