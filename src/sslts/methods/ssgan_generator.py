"""SS-GAN's generator: a DCGAN-style 1-D network from Gaussian noise to series of the data's shape.

Radford, Metz & Chintala (2016), "Unsupervised Representation Learning with Deep Convolutional
Generative Adversarial Networks", ICLR, with transposed convolutions replaced by nearest-neighbour
upsampling and a convolution. Used by :class:`sslts.methods.ssgan.SSGAN`; its discriminator's
trunk is the experiment's encoder.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["SeriesGenerator"]


class SeriesGenerator(nn.Module):
    """DCGAN-style 1-D generator: ``z (B, latent_dim) -> series (B, C, L)``.

    ``Linear -> (B, width, L0)``, then ``upsamplings`` blocks ``Upsample(x2, nearest) -> Conv1d(k=5)
    -> BatchNorm -> ReLU`` halving the channels, then ``Conv1d(k=5)`` to ``C`` channels and a crop
    to ``L``; ``L0 = ceil(L / 2**upsamplings)``. The output is linear (no tanh): the series it
    imitates are z-scored per channel, not bounded.

    Args:
        latent_dim: size of ``z``. out_channels: C. length: L.
        width: channels of the first block. upsamplings: number of x2 blocks.

    Raises:
        ValueError: if a size is not positive or ``upsamplings`` is negative.

    Example:
        >>> SeriesGenerator(16, out_channels=3, length=315)(torch.randn(2, 16)).shape
        torch.Size([2, 3, 315])
    """

    def __init__(self, latent_dim: int, out_channels: int, length: int, width: int = 128,
                 upsamplings: int = 3) -> None:
        super().__init__()
        if min(latent_dim, out_channels, length, width) < 1 or upsamplings < 0:
            raise ValueError(
                "latent_dim, out_channels, length and width must be positive and upsamplings >= 0, got "
                f"{latent_dim}, {out_channels}, {length}, {width}, {upsamplings}"
            )
        self.latent_dim, self.out_channels, self.length = latent_dim, out_channels, length
        self.base_length = math.ceil(length / 2**upsamplings)
        self.width = width
        self.project = nn.Linear(latent_dim, width * self.base_length)
        layers: list[nn.Module] = [nn.BatchNorm1d(width), nn.ReLU()]
        channels = width
        for _ in range(upsamplings):
            out = max(16, channels // 2)
            layers += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv1d(channels, out, 5, padding=2, bias=False),  # BN follows: no bias
                nn.BatchNorm1d(out),
                nn.ReLU(),
            ]
            channels = out
        layers.append(nn.Conv1d(channels, out_channels, 5, padding=2))
        self.blocks = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        """Series ``(B, C, L)`` from latent codes ``z`` of shape ``(B, latent_dim)``."""
        if not isinstance(z, Tensor) or z.ndim != 2 or z.shape[1] != self.latent_dim:
            shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {shape}")
        h = self.project(z).view(z.shape[0], self.width, self.base_length)  # (B, width, L0)
        return self.blocks(h)[..., : self.length]  # (B, C, L0 * 2**upsamplings) -> (B, C, L)


    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, batch_size: int = 512) -> Tensor:
        """``n`` generated series ``(n, C, L)`` on the CPU, computed in eval mode (mode restored after).

        Args:
            n: number of series (>= 1). generator: a CPU ``torch.Generator`` for ``z`` (seeded
                sampling); the global RNG when ``None``. batch_size: series per forward pass.

        Raises:
            ValueError: if ``n`` or ``batch_size`` is not a positive int.

        Example:
            >>> gen = SeriesGenerator(8, out_channels=2, length=20, width=16)
            >>> gen.sample(3, torch.Generator().manual_seed(0)).shape
            torch.Size([3, 2, 20])
        """
        for name, value in (("n", n), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        was_training = self.training
        self.eval()  # BatchNorm running statistics: a sample does not depend on its batch
        device = next(self.parameters()).device
        try:
            z = torch.randn(n, self.latent_dim, generator=generator)  # (n, latent_dim), CPU
            parts = [self(z[i : i + batch_size].to(device)).float().cpu() for i in range(0, n, batch_size)]
        finally:
            self.train(was_training)
        return torch.cat(parts)  # (n, C, L)
