"""VIbCReg: VICReg with an IterNorm-whitened projector and a normalised covariance term.

Lee & Aune (2021), "VIbCReg: Variance-Invariance-better-Covariance Regularization for
Self-Supervised Learning on Time Series", arXiv:2109.00783. Two changes to VICReg: the projector
ends with IterNorm (iterative group whitening), and the covariance term is computed on the
correlation matrix (scale-free, bounded), which is why its weight is 200 rather than 1. The
invariance and variance terms are VICReg's. Evaluation uses the encoder output.

Shapes::

    x1, x2 (B, C, L) --encoder--> h1, h2 (B, D) --projector (MLP + IterNorm)--> z1, z2 (B, proj_dim)
    --vibcreg_loss--> loss (), terms {"invariance", "variance", "covariance"}
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from sslts.heads import IterNorm, projection_mlp
from sslts.losses import vibcreg_loss
from sslts.methods.base import MethodConfig, SSLMethod, loss_in_float32, require_positive

__all__ = ["VIbCReg", "VIbCRegConfig"]


@dataclass(frozen=True)
class VIbCRegConfig(MethodConfig):
    """VIbCReg hyper-parameters: Lee & Aune (2021) and the authors' code, but a narrower projector.

    Attributes:
        proj_hidden: hidden width of the projector (1024 for the 128-wide encoder; 4096 in the paper).
        proj_dim: output width of the projector (1024; 4096 in the paper).
        proj_layers: linear layers before IterNorm (3: two Linear-BN-ReLU blocks, then Linear).
        iternorm_groups: IterNorm whitens ``proj_dim / iternorm_groups``-wide groups (64 groups).
        iternorm_iters: Newton iterations of IterNorm's inverse square root (5).
        sim_weight: ``lambda``, weight of the invariance term (25).
        var_weight: ``mu``, weight of the variance term (25).
        cov_weight: ``nu``, weight of the normalised covariance term (200).
    """

    proj_hidden: int = 1024
    proj_dim: int = 1024
    proj_layers: int = 3
    iternorm_groups: int = 64
    iternorm_iters: int = 5
    sim_weight: float = 25.0
    var_weight: float = 25.0
    cov_weight: float = 200.0

    def __post_init__(self) -> None:
        super().__post_init__()  # field types
        require_positive(
            self, "proj_hidden", "proj_dim", "proj_layers", "iternorm_groups", "iternorm_iters"
        )
        if self.proj_dim % self.iternorm_groups:
            raise ValueError(
                f"VIbCRegConfig.proj_dim ({self.proj_dim}) must be divisible by "
                f"iternorm_groups ({self.iternorm_groups})"
            )
        for name in ("sim_weight", "var_weight", "cov_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"VIbCRegConfig.{name} must be >= 0, got {getattr(self, name)!r}")


class VIbCReg(SSLMethod):
    """VIbCReg on time series.

    Args:
        encoder: module ``(B, C, L) -> (B, D)`` with attribute ``out_dim = D``.
        config: :class:`VIbCRegConfig`; the paper's defaults when ``None``.

    Example:
        >>> import torch
        >>> from sslts.encoders import build_encoder
        >>> cfg = VIbCRegConfig(proj_hidden=64, proj_dim=64, iternorm_groups=4)
        >>> method = VIbCReg(build_encoder("cnn", in_channels=3), cfg)
        >>> x = torch.randn(8, 3, 32)
        >>> loss, terms = method.training_step(x, x + 0.01 * torch.randn_like(x))
        >>> sorted(terms)
        ['covariance', 'invariance', 'variance']
    """

    name = "vibcreg"
    config_class = VIbCRegConfig
    config: VIbCRegConfig

    def __init__(self, encoder: nn.Module, config: VIbCRegConfig | None = None) -> None:
        super().__init__(encoder, config)
        c = self.config
        self.projector = nn.Sequential(
            projection_mlp(encoder.out_dim, c.proj_hidden, c.proj_dim, num_layers=c.proj_layers),
            IterNorm(c.proj_dim, num_groups=c.iternorm_groups, T=c.iternorm_iters),
        )

    def training_step(self, x1: Tensor, x2: Tensor) -> tuple[Tensor, dict[str, float]]:
        """VIbCReg loss of two views ``(B, C, L)`` (on whitened projections) and its terms."""
        z1 = self.projector(self.encoder(x1))  # (B, proj_dim), whitened per group
        z2 = self.projector(self.encoder(x2))  # (B, proj_dim)
        c = self.config
        loss, terms = loss_in_float32(
            vibcreg_loss, z1, z2,
            sim_weight=c.sim_weight, var_weight=c.var_weight, cov_weight=c.cov_weight,
        )  # fmt: skip
        return loss, {k: v.item() for k, v in terms.items()}
