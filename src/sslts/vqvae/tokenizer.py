"""The stage-1 tokenizer: a convolutional encoder to a downsampled latent sequence, a vector
quantiser and a decoder, with the optional self-supervised branch of NC-VQVAE.

van den Oord et al. (2017) VQ-VAE; Lee, Malacarne & Aune (2023), "Vector Quantized Time Series
Generation with a Bidirectional Prior Model" (TimeVQVAE), AISTATS; Mathisen, Lokna, Lee & Aune
(2024), "Blending Low and High-Level Semantics of Time Series for Better Masked Time Series
Generation", arXiv:2408.16613 (NC-VQVAE).

Reconstruction is in the **time domain** only. TimeVQVAE splits the series into low- and
high-frequency parts with an STFT and tokenises each; that doubles the models and the cost, and
the question this chapter asks (does the SSL branch make the tokens more expressive?) is about the
encoder, not the frequency split. The split is the natural next step.

The naive VQ-VAE and NC-VQVAE are the same :class:`VQTokenizer`; NC-VQVAE has an
:class:`~sslts.vqvae.ssl_branch.SSLBranch` and receives an augmented view in :meth:`VQTokenizer.loss`.

Shapes::

    x (B, C, L) --pad to T * 2^n--> encoder --> z_e (B, D, T), T = ceil(L / 2^n)
    z_e --quantiser--> z_q (B, D, T), tokens (B, T) --decoder--> (B, C, T * 2^n) --crop--> x_hat (B, C, L)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .quantizer import VectorQuantizer
from .ssl_branch import SSLBranch

__all__ = ["VQTokenizer", "build_tokenizer", "conv_decoder", "conv_encoder", "reconstruction_loss"]


def _block(channels: int) -> nn.Module:
    return nn.Sequential(nn.BatchNorm1d(channels), nn.ReLU())


def conv_encoder(in_channels: int, hidden: int, latent_dim: int, downsamples: int) -> nn.Sequential:
    """``Conv(k=3)`` then ``downsamples`` strided ``Conv(k=4, s=2)`` blocks, then ``Conv(k=1)`` to ``D``.

    Maps ``(B, C, L)`` with ``L`` a multiple of ``2^downsamples`` to ``(B, D, L / 2^downsamples)``.
    """
    layers: list[nn.Module] = [nn.Conv1d(in_channels, hidden, 3, padding=1), _block(hidden)]
    for _ in range(downsamples):
        layers += [nn.Conv1d(hidden, hidden, 4, stride=2, padding=1), _block(hidden)]
    layers += [nn.Conv1d(hidden, hidden, 3, padding=1), _block(hidden), nn.Conv1d(hidden, latent_dim, 1)]
    return nn.Sequential(*layers)


def conv_decoder(out_channels: int, hidden: int, latent_dim: int, downsamples: int) -> nn.Sequential:
    """The mirror of :func:`conv_encoder`: ``(B, D, T)`` to ``(B, C, T * 2^downsamples)``."""
    layers: list[nn.Module] = [nn.Conv1d(latent_dim, hidden, 3, padding=1), _block(hidden)]
    for _ in range(downsamples):
        layers += [nn.ConvTranspose1d(hidden, hidden, 4, stride=2, padding=1), _block(hidden)]
    layers += [nn.Conv1d(hidden, out_channels, 3, padding=1)]
    return nn.Sequential(*layers)


def reconstruction_loss(x: Tensor, x_hat: Tensor) -> Tensor:
    """Mean squared error ``1/(B C L) * sum (x - x_hat)^2`` of a reconstruction ``(B, C, L)``."""
    if x.shape != x_hat.shape:
        raise ValueError(f"x and x_hat must have the same shape, got {tuple(x.shape)} and {tuple(x_hat.shape)}")
    return F.mse_loss(x_hat, x)


class VQTokenizer(nn.Module):
    """Encoder, vector quantiser, decoder and (for NC-VQVAE) the SSL branch.

    Args:
        encoder: ``(B, C, T * f) -> (B, D, T)``. decoder: ``(B, D, T) -> (B, C, T * f)``.
        quantizer: a :class:`VectorQuantizer` of width ``D``.
        downsample: ``f``, the encoder's length reduction (inputs are padded to a multiple of it).
        ssl: the NC-VQVAE branch, or ``None`` for the naive VQ-VAE.
        recon_augmented: NC-VQVAE also reconstructs the augmented view (Mathisen et al. 2024), so
            the codebook covers augmented series too; ignored without ``ssl``.

    Raises:
        ValueError: ``downsample < 1`` or a quantiser that is not a :class:`VectorQuantizer`.
    """

    def __init__(self, encoder: nn.Module, quantizer: VectorQuantizer, decoder: nn.Module, downsample: int,
                 ssl: SSLBranch | None = None, recon_augmented: bool = True) -> None:
        super().__init__()
        if isinstance(downsample, bool) or not isinstance(downsample, int) or downsample < 1:
            raise ValueError(f"downsample must be a positive int, got {downsample!r}")
        if not isinstance(quantizer, VectorQuantizer):
            raise ValueError(f"quantizer must be a VectorQuantizer, got {type(quantizer).__name__}")
        self.encoder, self.quantizer, self.decoder, self.ssl = encoder, quantizer, decoder, ssl
        self.downsample, self.recon_augmented = downsample, recon_augmented

    @property
    def num_codes(self) -> int:
        return self.quantizer.num_codes

    def num_tokens(self, length: int) -> int:
        """``T``, the tokens of a series of ``length`` steps: ``ceil(length / downsample)``."""
        return -(-length // self.downsample)

    def _pad(self, x: Tensor) -> Tensor:
        if x.ndim != 3:
            raise ValueError(f"x must be (B, C, L), got shape {tuple(x.shape)}")
        extra = self.num_tokens(x.shape[-1]) * self.downsample - x.shape[-1]
        return F.pad(x, (0, extra), mode="replicate") if extra else x  # (B, C, T * f)

    def encode_latent(self, x: Tensor) -> Tensor:
        """Continuous latent ``z_e`` ``(B, D, T)`` of ``x`` ``(B, C, L)``."""
        return self.encoder(self._pad(x))

    def quantize(self, x: Tensor) -> tuple[Tensor, Tensor, dict]:
        """``(z_q (B, D, T) straight-through, tokens (B, T), {"commitment", "perplexity"})``."""
        return self.quantizer(self.encode_latent(x))

    def tokens(self, x: Tensor) -> Tensor:
        """Token ids ``(B, T)`` of ``x`` ``(B, C, L)``."""
        return self.quantize(x)[1]

    def decode(self, z_q: Tensor, length: int) -> Tensor:
        """Series ``(B, C, length)`` from a latent sequence ``(B, D, T)``."""
        return self.decoder(z_q)[..., :length]

    def decode_tokens(self, tokens: Tensor, length: int) -> Tensor:
        """Series ``(B, C, length)`` from token ids ``(B, T)``."""
        return self.decode(self.quantizer.lookup(tokens), length)

    def forward(self, x: Tensor) -> Tensor:
        """Reconstruction ``(B, C, L)`` of ``x``."""
        return self.decode(self.quantize(x)[0], x.shape[-1])

    def encode(self, x: Tensor) -> Tensor:
        """The probe features: the quantised latent averaged over time, ``(B, D)``."""
        return self.quantize(x)[0].mean(dim=-1)

    def encode_flat(self, x: Tensor) -> Tensor:
        """The quantised latent flattened, ``(B, D * T)``: keeps the order of the tokens."""
        return self.quantize(x)[0].flatten(1)

    def loss(self, x: Tensor, x_aug: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor | float]]:
        """Stage-1 loss of a batch ``x`` ``(B, C, L)`` (and its augmented view for NC-VQVAE)::

            naive:    L = MSE(x, x_hat) + beta ||z_e - sg(z_q)||^2
            NC-VQVAE: L = naive(x) [+ naive(x')] + w * L_ssl(g(mean_t z_e(x)), g(mean_t z_e(x')))

        ``g`` is the branch's projector, ``L_ssl`` the project's Barlow Twins or VIbCReg loss, ``w``
        its weight; ``naive(x')`` is added when ``recon_augmented``.

        Returns:
            ``(loss, terms)``; terms: ``recon``, ``commitment``, ``perplexity`` and, with the branch,
            ``ssl`` (unweighted), ``recon_aug`` and the SSL loss's own terms prefixed ``ssl_``.

        Raises:
            ValueError: ``x_aug`` given without a branch, missing with one, or of another shape.
        """
        if (x_aug is None) != (self.ssl is None):
            raise ValueError("x_aug must be given exactly when the tokenizer has an SSL branch "
                             f"(has branch: {self.ssl is not None}, x_aug given: {x_aug is not None})")
        z_e = self.encode_latent(x)  # (B, D, T)
        z_q, _, vq = self.quantizer(z_e)
        recon = reconstruction_loss(x, self.decode(z_q, x.shape[-1]))
        terms: dict[str, Tensor | float] = {"recon": recon, "commitment": vq["commitment"],
                                            "perplexity": vq["perplexity"]}
        total = recon + vq["commitment"]
        if self.ssl is None:
            return total, terms
        if x_aug.shape != x.shape:
            raise ValueError(f"x_aug must have x's shape {tuple(x.shape)}, got {tuple(x_aug.shape)}")
        z_e_aug = self.encode_latent(x_aug)  # (B, D, T)
        ssl_loss, ssl_terms = self.ssl(z_e.mean(dim=-1), z_e_aug.mean(dim=-1))
        terms.update({"ssl": ssl_loss, **{f"ssl_{k}": v for k, v in ssl_terms.items()}})
        total = total + self.ssl.weight * ssl_loss
        if self.recon_augmented:
            z_q_aug, _, vq_aug = self.quantizer(z_e_aug)
            recon_aug = reconstruction_loss(x_aug, self.decode(z_q_aug, x.shape[-1]))
            terms["recon_aug"] = recon_aug
            total = total + recon_aug + vq_aug["commitment"]
        return total, terms


def build_tokenizer(in_channels: int, num_codes: int = 32, latent_dim: int = 64, hidden: int = 64,
                    downsamples: int = 4, beta: float = 0.25, decay: float = 0.99,
                    ssl: SSLBranch | None = None, recon_augmented: bool = True, kmeans_init: bool = False,
                    dead_threshold: float = 0.0) -> VQTokenizer:
    """A :class:`VQTokenizer` with :func:`conv_encoder` / :func:`conv_decoder` (downsample ``2^downsamples``).

    Raises:
        ValueError: a size below 1 (``downsamples`` below 0), from here or the quantiser.

    ``kmeans_init`` and ``dead_threshold`` are the quantiser's remedies against codebook collapse
    (:class:`~sslts.vqvae.quantizer.VectorQuantizer`), off by default here.
    """
    for name, value in (("in_channels", in_channels), ("latent_dim", latent_dim), ("hidden", hidden)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if isinstance(downsamples, bool) or not isinstance(downsamples, int) or downsamples < 0:
        raise ValueError(f"downsamples must be an int >= 0, got {downsamples!r}")
    return VQTokenizer(
        conv_encoder(in_channels, hidden, latent_dim, downsamples),
        VectorQuantizer(num_codes, latent_dim, beta=beta, decay=decay, kmeans_init=kmeans_init,
                        dead_threshold=dead_threshold),
        conv_decoder(in_channels, hidden, latent_dim, downsamples),
        downsample=2**downsamples, ssl=ssl, recon_augmented=recon_augmented,
    )
