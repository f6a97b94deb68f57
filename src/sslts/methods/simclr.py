"""SimCLR: contrastive learning with a projection head and the NT-Xent loss.

Chen, Kornblith, Norouzi & Hinton (2020), "A Simple Framework for Contrastive Learning of Visual
Representations", ICML. Two augmented views of each series go through the shared encoder and a
small MLP projection head; NT-Xent pulls the two views of a series together and pushes the other
``2B - 2`` views of the batch away. Evaluation uses the encoder output, not the projection.

Shapes::

    x1, x2 (B, C, L) --encoder--> h1, h2 (B, D) --projector--> z1, z2 (B, proj_dim)
    --nt_xent--> loss (), terms {"nt_xent"}
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from sslts.heads import projection_mlp
from sslts.losses import nt_xent
from sslts.methods.base import MethodConfig, SSLMethod, loss_in_float32, require_positive

__all__ = ["SimCLR", "SimCLRConfig"]


@dataclass(frozen=True)
class SimCLRConfig(MethodConfig):
    """SimCLR hyper-parameters: the book's defaults, with Chen et al. (2020)'s values where they differ.

    Attributes:
        proj_hidden: hidden width of the projection head (512, four times the encoder's 128; the paper
            uses 2048, the ResNet-50 width).
        proj_dim: output width of the projection head (128 in the paper).
        proj_layers: number of linear layers in the head (2: Linear-BN-ReLU-Linear).
        temperature: NT-Xent temperature ``tau`` (0.2 at the book's batch of 128; 0.5 is the paper's
            best at large batch, Table 5, and the comparison's grid tries both).
    """

    proj_hidden: int = 512
    proj_dim: int = 128
    proj_layers: int = 2
    temperature: float = 0.2

    def __post_init__(self) -> None:
        super().__post_init__()  # field types
        require_positive(self, "proj_hidden", "proj_dim", "proj_layers", "temperature")


class SimCLR(SSLMethod):
    """SimCLR on time series.

    Args:
        encoder: module ``(B, C, L) -> (B, D)`` with attribute ``out_dim = D``.
        config: :class:`SimCLRConfig`; the paper's defaults when ``None``.

    Example:
        >>> import torch
        >>> from sslts.encoders import build_encoder
        >>> method = SimCLR(build_encoder("cnn", in_channels=3), SimCLRConfig(proj_hidden=64))
        >>> x = torch.randn(8, 3, 32)
        >>> loss, terms = method.training_step(x, x + 0.01 * torch.randn_like(x))
        >>> sorted(terms)
        ['nt_xent']
    """

    name = "simclr"
    config_class = SimCLRConfig
    config: SimCLRConfig

    def __init__(self, encoder: nn.Module, config: SimCLRConfig | None = None) -> None:
        super().__init__(encoder, config)
        c = self.config
        self.projector = projection_mlp(
            encoder.out_dim, c.proj_hidden, c.proj_dim, num_layers=c.proj_layers
        )

    def training_step(self, x1: Tensor, x2: Tensor) -> tuple[Tensor, dict[str, float]]:
        """NT-Xent between the projections of two views ``(B, C, L)``; terms ``{"nt_xent"}``."""
        z1 = self.projector(self.encoder(x1))  # (B, proj_dim)
        z2 = self.projector(self.encoder(x2))  # (B, proj_dim)
        loss = loss_in_float32(nt_xent, z1, z2, temperature=self.config.temperature)
        return loss, {"nt_xent": loss.item()}
