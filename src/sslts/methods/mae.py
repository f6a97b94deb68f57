"""MAE: masked autoencoding of patches of time steps.

He, Chen, Xie, Li, Dollár & Girshick (2022), "Masked Autoencoders Are Scalable Vision Learners",
CVPR. Each series is cut into patches of ``patch_size`` steps (all channels together), a random
``mask_ratio`` of the patches is hidden, the encoder sees only the visible patches, and a light
decoder, given the encoded visible tokens plus a learned mask token at every hidden position,
predicts the hidden patches. The loss is the mean squared error on the hidden patches only,
optionally against per-patch normalised targets (MAE's ``norm_pix_loss``, on by default). No
negatives, no second view: the masks are the only randomness, drawn in :meth:`MAE.make_views`
from the training loop's generator, so a seeded run is reproducible. Evaluation encodes all patches
and averages the encoder's tokens.

Two backbones, chosen by the encoder given:

- ``"transformer"`` (:class:`~sslts.encoders.PatchTransformerEncoder`): MAE proper. Only the
  visible tokens go through the encoder, which is why a high mask ratio is cheap.
- a convolutional encoder with ``features`` (``"cnn"``, ``"dilated"``): the masked patches are set
  to zero in the input (SimMIM-style; Xie et al. 2022), the whole series is encoded, the feature map
  is pooled to one token per patch and the same decoder predicts every patch. The encoder, not the
  decoder, must fill in the hidden part here, and at evaluation it meets unmasked series.

Series whose length is not a multiple of ``patch_size`` are padded at the end by repeating their
last step (:func:`sslts.encoders.patchify`), so no step is dropped; the padded steps of the last
patch are part of its target.

Shapes::

    make_views: x (B, C, L) -> (x (B, C, L), hidden (B, N) bool),  N = ceil(L / P)
    transformer: x --patchify--> (B, N, C*P) --embed--> (B, N, D) --keep visible--> (B, N_vis, D)
                 --encoder layers--> (B, N_vis, D) --scatter + mask tokens--> (B, N, D)
    cnn:         x with hidden steps zeroed --features--> (B, F, L') --pool to N--> (B, N, F)
    decoder:     (B, N, D or F) --> (B, N, decoder_dim) --layers--> (B, N, C*P)
    mae_loss(pred, patches, hidden) --> loss (), terms {"masked_mse"}
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sslts.encoders import PatchTransformerEncoder, patchify, sinusoidal_positions, transformer_layers, unpatchify
from sslts.losses import mae_loss
from sslts.masking import expand_patch_mask, patch_mask
from sslts.methods.base import Augment, MethodConfig, SSLMethod, require_positive

__all__ = ["MAE", "MAEConfig", "MAEDecoder"]


@dataclass(frozen=True)
class MAEConfig(MethodConfig):
    """MAE hyper-parameters (He et al. 2022, Section 4 and Table 1; the decoder scaled down).

    Attributes:
        mask_ratio: fraction of patches hidden per series (0.75 in the paper, in ``(0, 1)``).
        patch_size: time steps per patch; must equal a Transformer encoder's own ``patch_size``.
        decoder_dim: width of the decoder (512 in the paper, for a 1024-wide encoder; narrower than
            the encoder here as well).
        decoder_depth: decoder Transformer layers (8 in the paper; 1 already works for fine-tuning,
            Table 1a). At least 1: the decoder must mix tokens to fill in hidden patches.
        decoder_heads: attention heads of the decoder layers.
        normalize_target: predict per-patch normalised patches (``norm_pix_loss``, the paper's
            default for images) instead of raw values. Off: per-patch normalisation removes each
            patch's level, and for accelerometers the level is the device's orientation, which the
            classes depend on.
        augment: also apply the loop's augmentation pipeline to the series before masking. Off by
            default: MAE uses little augmentation (random crops only) because masking already
            makes the task hard, and the reconstruction then targets the original series.
    """

    mask_ratio: float = 0.75
    patch_size: int = 8
    decoder_dim: int = 32
    decoder_depth: int = 1
    decoder_heads: int = 4
    normalize_target: bool = False
    augment: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()  # field types
        if not 0.0 < self.mask_ratio < 1.0:
            raise ValueError(f"MAEConfig.mask_ratio must be in (0, 1), got {self.mask_ratio!r}")
        require_positive(self, "patch_size", "decoder_dim", "decoder_depth", "decoder_heads")
        if self.decoder_dim % 2 != 0 or self.decoder_dim % self.decoder_heads != 0:
            raise ValueError(
                f"MAEConfig.decoder_dim must be even and divisible by decoder_heads={self.decoder_heads}, "
                f"got {self.decoder_dim}"
            )


class MAEDecoder(nn.Module):
    """MAE's light decoder: tokens ``(B, N, in_dim)`` -> patch predictions ``(B, N, out_dim)``.

    A linear map to ``dim``, a learned mask token at every hidden position (only with
    ``mask_token``: the convolutional variant's tokens already cover every position), fixed
    sine-cosine positions, ``depth`` pre-norm Transformer layers, a LayerNorm and a linear head.
    """

    def __init__(self, in_dim: int, dim: int, depth: int, heads: int, out_dim: int, mask_token: bool = True) -> None:
        super().__init__()
        self.dim = dim
        self.embed = nn.Linear(in_dim, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim)) if mask_token else None
        if self.mask_token is not None:
            nn.init.normal_(self.mask_token, std=0.02)  # as in MAE's code
        self.blocks = transformer_layers(dim, depth, heads, 2 * dim)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, out_dim)

    def forward(self, tokens: Tensor, hidden: Tensor | None = None) -> Tensor:
        """Predict every patch; ``hidden`` ``(B, N)`` marks tokens to replace by the mask token."""
        h = self.embed(tokens)  # (B, N, dim)
        if hidden is not None:
            if self.mask_token is None:
                raise ValueError("this decoder has no mask token; build it with mask_token=True")
            h = torch.where(hidden.unsqueeze(-1), self.mask_token.to(h.dtype), h)
        h = h + sinusoidal_positions(h.shape[1], self.dim, h.device).to(h.dtype)
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h))  # (B, N, out_dim)


class MAE(SSLMethod):
    """Masked autoencoder on time series (see the module docstring for the two backbones).

    Args:
        encoder: a :class:`~sslts.encoders.PatchTransformerEncoder` (MAE proper), or a convolutional
            encoder with ``in_channels``, ``feature_dim`` and ``features(x) -> (B, feature_dim, L')``
            (``"cnn"``, ``"dilated"``), whose input is then zero-masked.
        config: :class:`MAEConfig`; the paper's mask ratio and target when ``None``.

    Raises:
        TypeError: if the encoder is neither kind.
        ValueError: if a Transformer encoder's patch size differs from ``config.patch_size``.

    Example:
        >>> from sslts.encoders import build_encoder
        >>> method = MAE(build_encoder("transformer", in_channels=3, patch_size=4), MAEConfig(patch_size=4))
        >>> x = torch.randn(8, 3, 32)
        >>> views = method.make_views(x, lambda v, g: v, torch.Generator().manual_seed(0))
        >>> views[1].shape, int(views[1][0].sum())  # 8 patches, 6 of them hidden
        (torch.Size([8, 8]), 6)
        >>> loss, terms = method.training_step(*views)
        >>> sorted(terms)
        ['masked_mse']
    """

    name = "mae"
    config_class = MAEConfig
    config: MAEConfig

    def __init__(self, encoder: nn.Module, config: MAEConfig | None = None) -> None:
        super().__init__(encoder, config)
        c = self.config
        self.transformer = isinstance(encoder, PatchTransformerEncoder)
        if self.transformer:
            if encoder.patch_size != c.patch_size:
                raise ValueError(
                    f"MAEConfig.patch_size={c.patch_size} differs from the transformer encoder's "
                    f"patch_size={encoder.patch_size}; build the encoder with the same patch size"
                )
            token_dim = encoder.out_dim
        elif callable(getattr(encoder, "features", None)) and isinstance(getattr(encoder, "feature_dim", None), int):
            token_dim = encoder.feature_dim
        else:
            raise TypeError(
                f"MAE needs a PatchTransformerEncoder or a convolutional encoder with features() and "
                f"feature_dim, got {type(encoder).__name__}"
            )
        channels = getattr(encoder, "in_channels", None)
        if not isinstance(channels, int):
            raise TypeError(f"MAE needs the encoder's integer attribute in_channels, got {channels!r}")
        self.channels = channels
        self.decoder = MAEDecoder(token_dim, c.decoder_dim, c.decoder_depth, c.decoder_heads,
                                  channels * c.patch_size, mask_token=self.transformer)

    def n_patches(self, length: int) -> int:
        """Patches of a series of ``length`` steps: ``ceil(length / patch_size)`` (end padded)."""
        return -(-length // self.config.patch_size)

    def make_views(self, x: Tensor, augment: Augment, generator: torch.Generator,
                   y: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The series (augmented only if ``config.augment``) and its patch mask ``(B, N)``, True = hidden.

        Raises:
            ValueError: if the series has fewer than 2 patches (nothing left to see or to hide).
        """
        if self.config.augment:
            x = augment(x, generator)
        hidden = patch_mask(x.shape[0], self.n_patches(x.shape[-1]), self.config.mask_ratio, generator)
        return x, hidden

    def predict(self, x: Tensor, hidden: Tensor) -> tuple[Tensor, Tensor]:
        """Decoder predictions and true patches, both ``(B, N, C * P)``, for series ``x`` and mask ``hidden``.

        Raises:
            ValueError: if ``hidden`` is not a ``(B, N)`` boolean mask hiding the same positive
                number of patches, fewer than ``N``, in every series.
        """
        patches = patchify(x, self.config.patch_size)  # (B, N, C*P)
        self._check_mask(hidden, patches.shape[:2])
        if self.transformer:
            tokens = self.encoder.embed_patches(patches)  # (B, N, D)
            n_visible = int((~hidden[0]).sum())
            # Stable sort puts each row's visible patches first, in time order.
            keep = torch.argsort(hidden.to(torch.int8), dim=1, stable=True)[:, :n_visible]  # (B, N_vis)
            index = keep.unsqueeze(-1).expand(-1, -1, tokens.shape[-1])  # (B, N_vis, D)
            visible = self.encoder.transform(tokens.gather(1, index))  # (B, N_vis, D)
            full = visible.new_zeros(tokens.shape).scatter(1, index, visible)  # (B, N, D); hidden rows -> mask token
            pred = self.decoder(full, hidden)  # (B, N, C*P)
        else:
            padded = unpatchify(patches, self.channels)  # (B, C, N*P): the series with its end padding
            steps = expand_patch_mask(hidden, self.config.patch_size, padded.shape[-1])  # (B, 1, N*P)
            features = self.encoder.features(padded.masked_fill(steps, 0.0))  # (B, F, L')
            tokens = F.adaptive_avg_pool1d(features, patches.shape[1]).transpose(1, 2)  # (B, N, F)
            pred = self.decoder(tokens)  # (B, N, C*P)
        return pred, patches

    def training_step(self, x: Tensor, hidden: Tensor) -> tuple[Tensor, dict[str, float]]:
        """MAE loss of series ``x`` ``(B, C, L)`` with patch mask ``hidden`` ``(B, N)``."""
        pred, patches = self.predict(x, hidden)
        loss = mae_loss(pred, patches, hidden, normalize_target=self.config.normalize_target)
        return loss, {"masked_mse": loss.item()}

    @torch.no_grad()
    def reconstruct(self, x: Tensor, hidden: Tensor) -> Tensor:
        """The predicted series ``(B, C, L)`` for every patch, in the units of ``x``.

        With normalised targets the prediction of each patch is mapped back with that true patch's
        mean and standard deviation (as MAE's visualisations do), so the figure shows the predicted
        *shape* of a hidden patch at its true level and scale.
        """
        pred, patches = self.predict(x, hidden)
        if self.config.normalize_target:
            mean = patches.mean(dim=-1, keepdim=True)
            std = torch.sqrt(patches.var(dim=-1, unbiased=False, keepdim=True) + 1e-6)
            pred = pred * std + mean
        return unpatchify(pred, self.channels, x.shape[-1])

    @staticmethod
    def _check_mask(hidden: Tensor, shape: tuple[int, int] | torch.Size) -> None:
        if not isinstance(hidden, Tensor) or hidden.dtype != torch.bool or tuple(hidden.shape) != tuple(shape):
            raise ValueError(
                f"hidden must be a boolean mask of shape (B, N) = {tuple(shape)}, got "
                f"{getattr(hidden, 'dtype', type(hidden))} {tuple(getattr(hidden, 'shape', ()))}"
            )
        counts = hidden.sum(dim=1)  # (B,)
        if not (counts == counts[0]).all() or not 0 < int(counts[0]) < shape[1]:
            raise ValueError(
                "hidden must hide the same number of patches in every series, at least one and fewer "
                f"than all {shape[1]} (use sslts.masking.patch_mask), got counts {counts.tolist()}"
            )
