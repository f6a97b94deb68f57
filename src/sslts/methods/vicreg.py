"""VICReg: variance-invariance-covariance regularisation of an expander's output.

Bardes, Ponce & LeCun (2022), "VICReg: Variance-Invariance-Covariance Regularization for
Self-Supervised Learning", ICLR. No negatives and no momentum encoder: collapse is prevented by
keeping each expander dimension's batch standard deviation above 1 (variance term) and by
decorrelating the dimensions (covariance term), while the invariance term pulls the two views
together. Evaluation uses the encoder output, not the expander's.

Shapes::

    x1, x2 (B, C, L) --encoder--> h1, h2 (B, D) --expander--> z1, z2 (B, expander_dim)
    --vicreg_loss--> loss (), terms {"invariance", "variance", "covariance"}
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from sslts.heads import projection_mlp
from sslts.losses import vicreg_loss
from sslts.methods.base import MethodConfig, SSLMethod, loss_in_float32, require_positive

__all__ = ["VICReg", "VICRegConfig"]


@dataclass(frozen=True)
class VICRegConfig(MethodConfig):
    """VICReg hyper-parameters: Bardes et al. (2022, Section 4.1 and Appendix), but a narrower expander.

    Attributes:
        expander_dim: width of every expander layer (1024 for the 128-wide encoder; 8192 in the paper,
            where the loss improves with it, at about 60x the projector's compute here).
        expander_layers: linear layers in the expander (3: two Linear-BN-ReLU blocks, then Linear).
        sim_weight: ``lambda``, weight of the invariance term (25).
        var_weight: ``mu``, weight of the variance term (25).
        cov_weight: ``nu``, weight of the covariance term (1).
    """

    expander_dim: int = 1024
    expander_layers: int = 3
    sim_weight: float = 25.0
    var_weight: float = 25.0
    cov_weight: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()  # field types
        require_positive(self, "expander_dim", "expander_layers")
        for name in ("sim_weight", "var_weight", "cov_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"VICRegConfig.{name} must be >= 0, got {getattr(self, name)!r}")


class VICReg(SSLMethod):
    """VICReg on time series.

    Args:
        encoder: module ``(B, C, L) -> (B, D)`` with attribute ``out_dim = D``.
        config: :class:`VICRegConfig`; the paper's defaults when ``None``.

    Example:
        >>> import torch
        >>> from sslts.encoders import build_encoder
        >>> method = VICReg(build_encoder("cnn", in_channels=3), VICRegConfig(expander_dim=64))
        >>> x = torch.randn(8, 3, 32)
        >>> loss, terms = method.training_step(x, x + 0.01 * torch.randn_like(x))
        >>> sorted(terms)
        ['covariance', 'invariance', 'variance']
    """

    name = "vicreg"
    config_class = VICRegConfig
    config: VICRegConfig

    def __init__(self, encoder: nn.Module, config: VICRegConfig | None = None) -> None:
        super().__init__(encoder, config)
        c = self.config
        self.expander = projection_mlp(
            encoder.out_dim, c.expander_dim, c.expander_dim, num_layers=c.expander_layers
        )

    def training_step(self, x1: Tensor, x2: Tensor) -> tuple[Tensor, dict[str, float]]:
        """VICReg loss of two views ``(B, C, L)`` (on their expansions) and its unweighted terms."""
        z1 = self.expander(self.encoder(x1))  # (B, expander_dim)
        z2 = self.expander(self.encoder(x2))  # (B, expander_dim)
        c = self.config
        loss, terms = loss_in_float32(
            vicreg_loss, z1, z2,
            sim_weight=c.sim_weight, var_weight=c.var_weight, cov_weight=c.cov_weight,
        )  # fmt: skip
        return loss, {k: v.item() for k, v in terms.items()}
