"""Time-series encoders mapping a batch of series ``(B, C, L)`` to embeddings ``(B, D)``.

Three backbones, all length-agnostic thanks to a global pooling over time:

- ``"cnn"``: :class:`CNNEncoder`, the compact three-block 1-D CNN of TS-TCC (Eldele et al. 2021).
- ``"dilated"``: :class:`DilatedConvEncoder`, the dilated residual convolution stack of TS2Vec
  (Yue et al. 2022).
- ``"transformer"``: :class:`PatchTransformerEncoder`, a small Transformer over patches of time
  steps (ViT/MAE-style tokens, as in PatchTST; Nie et al. 2023), the backbone of masked modelling.

Build one by name with :func:`build_encoder`; every encoder exposes ``out_dim`` (= D). The two
convolutional encoders also expose ``features(x) -> (B, feature_dim, L')``, the map before the
pooling, which masked modelling's convolutional variant decodes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _check_series(x: object, in_channels: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"expected a torch.Tensor of shape (B, C, L), got {type(x).__name__}")
    if x.ndim != 3:
        raise ValueError(f"expected a series batch of shape (B, C, L), got shape {tuple(x.shape)}")
    if x.shape[1] != in_channels:
        raise ValueError(
            f"encoder expects {in_channels} channels, got {x.shape[1]} (shape {tuple(x.shape)})"
        )


# Pool a feature map (B, D, L') into (B, D, bins) over equal stretches of time.
BIN_POOLS: dict[str, Callable[[Tensor, int], Tensor]] = {
    "avg": F.adaptive_avg_pool1d,
    "max": F.adaptive_max_pool1d,
}


class CNNEncoder(nn.Module):
    """Compact 1-D CNN after the TS-TCC backbone.

    Eldele, Ragab, Chen, Wu, Kwoh, Li & Guan (2021), "Time-Series Representation Learning via Temporal
    and Contextual Contrasting", IJCAI. Three blocks ``Conv1d(k=8) -> BatchNorm -> ReLU -> MaxPool(2)``
    with 32, 64 and 128 channels (dropout after the first block), then a global average over time
    (by default; ``temporal_bins`` and ``pooling`` change it).
    The convolutions pad by ``k // 2`` and the pools by 1, so any length >= 1 survives all three blocks.

    Args:
        in_channels: number of input channels C.
        channels: output channels of the three blocks; the last one is ``out_dim``.
        kernel_size: convolution kernel size (8 in TS-TCC).
        dropout: dropout probability after the first block (0.35 in TS-TCC).
        temporal_bins: pool over this many equal stretches of time instead of the whole series,
            and concatenate them (``out_dim = channels[-1] * temporal_bins``). A global pool
            keeps *which* local shapes occur but not *when*; for gestures, whose classes differ in
            the order of the same strokes, a few bins keep that order. 1 with ``pooling="avg"``
            is TS-TCC's global average.
        pooling: how each bin summarises the feature map over its stretch of time: ``"avg"``, the
            mean (TS-TCC), or ``"max"``, the maximum, TS2Vec's instance read-out (a stroke that
            fires strongly for a few steps is not diluted by the quiet steps around it).

    Example:
        >>> import torch
        >>> CNNEncoder(3)(torch.randn(4, 3, 50)).shape
        torch.Size([4, 128])
        >>> CNNEncoder(3, temporal_bins=4)(torch.randn(4, 3, 50)).shape
        torch.Size([4, 512])
        >>> CNNEncoder(3, temporal_bins=4, pooling="max")(torch.randn(4, 3, 50)).shape
        torch.Size([4, 512])
    """

    def __init__(
        self,
        in_channels: int,
        channels: Sequence[int] = (32, 64, 128),
        kernel_size: int = 8,
        dropout: float = 0.35,
        temporal_bins: int = 1,
        pooling: str = "avg",
    ) -> None:
        super().__init__()
        if in_channels < 1 or len(channels) < 1 or min(channels) < 1:
            raise ValueError(f"in_channels and channels must be positive, got {in_channels}, {channels}")
        if isinstance(temporal_bins, bool) or not isinstance(temporal_bins, int) or temporal_bins < 1:
            raise ValueError(f"temporal_bins must be a positive int, got {temporal_bins!r}")
        if pooling not in BIN_POOLS:
            raise ValueError(f"pooling must be one of {', '.join(map(repr, BIN_POOLS))}, got {pooling!r}")
        self.in_channels = in_channels
        self.temporal_bins = temporal_bins
        self.pooling = pooling
        self.feature_dim = int(channels[-1])
        self.out_dim = self.feature_dim * temporal_bins
        blocks: list[nn.Module] = []
        prev = in_channels
        for i, ch in enumerate(channels):
            blocks += [
                # No conv bias: the batch norm that follows would cancel it.
                nn.Conv1d(prev, ch, kernel_size, padding=kernel_size // 2, bias=False),
                nn.BatchNorm1d(ch),
                nn.ReLU(),
                nn.MaxPool1d(kernel_size=2, stride=2, padding=1),
            ]
            if i == 0:
                blocks.append(nn.Dropout(dropout))
            prev = ch
        self.blocks = nn.Sequential(*blocks)

    def features(self, x: Tensor) -> Tensor:
        """The feature map before pooling: ``(B, C, L) -> (B, feature_dim, L')``, ``L' ~ L / 8``."""
        _check_series(x, self.in_channels)
        return self.blocks(x)

    def forward(self, x: Tensor) -> Tensor:
        """Embed ``x`` of shape ``(B, C, L)`` into ``(B, out_dim)``."""
        h = self.features(x)  # (B, channels[-1], L'), L' ~ L / 8
        if self.temporal_bins == 1 and self.pooling == "avg":
            return h.mean(dim=-1)  # (B, out_dim); kept so that earlier runs reproduce bit for bit
        return BIN_POOLS[self.pooling](h, self.temporal_bins).flatten(1)  # (B, channels[-1] * bins)


class _DilatedBlock(nn.Module):
    """Residual block: two same-padded dilated convolutions, each preceded by GELU (as in TS2Vec)."""

    def __init__(self, in_ch: int, out_ch: int, dilation: int, kernel_size: int = 3) -> None:
        super().__init__()
        # Odd receptive field (k - 1) * d + 1, so symmetric padding keeps the length exactly.
        pad = (kernel_size - 1) * dilation // 2
        self.conv1 = nn.Conv1d(in_ch, out_ch, kernel_size, padding=pad, dilation=dilation)
        self.conv2 = nn.Conv1d(out_ch, out_ch, kernel_size, padding=pad, dilation=dilation)
        # A 1x1 convolution matches channels on the skip path when they change.
        self.skip = nn.Conv1d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(F.gelu(x))  # (B, out_ch, L)
        h = self.conv2(F.gelu(h))  # (B, out_ch, L)
        return h + self.skip(x)


class DilatedConvEncoder(nn.Module):
    """Dilated residual convolution encoder after TS2Vec.

    Yue, Wang, Duan, Yang, Huang, Tong & Xu (2022), "TS2Vec: Towards Universal Representation of Time
    Series", AAAI. A per-timestep linear projection to ``hidden_dim``, ``depth`` residual blocks with
    kernel 3 and dilation ``2^i`` (i = 0..depth-1) at ``hidden_dim`` channels plus a final block with
    dilation ``2^depth`` to ``out_dim`` channels, dropout, then a max over time (TS2Vec's instance-level
    representation). TS2Vec's random timestamp masking is a training-method choice and is left out.

    Args:
        in_channels: number of input channels C.
        hidden_dim: channels of the projection and hidden blocks (64 in TS2Vec).
        out_dim: embedding size D (320 in TS2Vec).
        depth: number of hidden residual blocks (10 in TS2Vec).
        dropout: dropout on the per-timestep representation before pooling (0.1 in TS2Vec).

    Example:
        >>> import torch
        >>> DilatedConvEncoder(2, depth=3)(torch.randn(4, 2, 40)).shape
        torch.Size([4, 320])
    """

    def __init__(
        self,
        in_channels: int,
        hidden_dim: int = 64,
        out_dim: int = 320,
        depth: int = 10,
        dropout: float = 0.1,
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        if min(in_channels, hidden_dim, out_dim) < 1 or depth < 0:
            raise ValueError(
                "in_channels, hidden_dim and out_dim must be positive and depth >= 0, got "
                f"{in_channels}, {hidden_dim}, {out_dim}, {depth}"
            )
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd to keep the length, got {kernel_size}")
        self.in_channels = in_channels
        self.out_dim = out_dim
        self.feature_dim = out_dim
        self.input_fc = nn.Linear(in_channels, hidden_dim)
        widths = [hidden_dim] * depth + [out_dim]
        blocks, prev = [], hidden_dim
        for i, width in enumerate(widths):
            blocks.append(_DilatedBlock(prev, width, dilation=2**i, kernel_size=kernel_size))
            prev = width
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)

    def features(self, x: Tensor) -> Tensor:
        """The per-timestep representation before pooling: ``(B, C, L) -> (B, out_dim, L)``."""
        _check_series(x, self.in_channels)
        # The projection acts per timestep, so apply it on (B, L, C); transpose() makes a new view
        # and never touches the caller's tensor.
        h = self.input_fc(x.transpose(1, 2)).transpose(1, 2)  # (B, hidden_dim, L)
        return self.dropout(self.blocks(h))  # (B, out_dim, L)

    def forward(self, x: Tensor) -> Tensor:
        """Embed ``x`` of shape ``(B, C, L)`` into ``(B, out_dim)``."""
        return self.features(x).amax(dim=-1)  # (B, out_dim)


def patchify(x: Tensor, patch_size: int) -> Tensor:
    """Cut series into non-overlapping patches of ``patch_size`` time steps, all channels together.

    ``(B, C, L) -> (B, N, C * patch_size)`` with ``N = ceil(L / patch_size)``. When ``L`` is not a
    multiple of ``patch_size``, the end is padded by repeating the last time step (PatchTST's
    end padding; Nie et al. 2023), so no step is dropped and any ``L >= 1`` gives at least one
    patch. Within a patch vector the channels come one after the other: entry ``c * patch_size + t``
    is channel ``c`` at step ``t`` of the patch. The input is never modified.

    Raises:
        ValueError: if ``x`` is not 3-D or ``patch_size < 1``.

    Example:
        >>> patchify(torch.arange(10.0).reshape(1, 2, 5), 2)[0]
        tensor([[0., 1., 5., 6.],
                [2., 3., 7., 8.],
                [4., 4., 9., 9.]])
    """
    if isinstance(patch_size, bool) or not isinstance(patch_size, int) or patch_size < 1:
        raise ValueError(f"patch_size must be a positive int, got {patch_size!r}")
    if not isinstance(x, Tensor) or x.ndim != 3:
        raise ValueError(f"expected a series batch of shape (B, C, L), got {getattr(x, 'shape', type(x))}")
    batch, channels, length = x.shape
    n = -(-length // patch_size)  # ceil
    if n * patch_size != length:
        x = F.pad(x, (0, n * patch_size - length), mode="replicate")  # (B, C, N * patch_size)
    patches = x.reshape(batch, channels, n, patch_size).permute(0, 2, 1, 3)  # (B, N, C, P)
    return patches.reshape(batch, n, channels * patch_size)


def unpatchify(patches: Tensor, channels: int, length: int | None = None) -> Tensor:
    """Inverse of :func:`patchify`: ``(B, N, C * P) -> (B, C, length)`` (default ``N * P``).

    ``length`` drops the end padding again, so ``unpatchify(patchify(x, P), C, L) == x``.

    Raises:
        ValueError: if the patch width is not a multiple of ``channels`` or ``length`` exceeds
            ``N * P``.
    """
    if patches.ndim != 3 or channels < 1 or patches.shape[2] % channels != 0:
        raise ValueError(
            f"patches of shape {tuple(patches.shape)} cannot hold {channels} channels "
            "(expected (B, N, channels * patch_size))"
        )
    batch, n, width = patches.shape
    patch_size = width // channels
    if length is not None and not 1 <= length <= n * patch_size:
        raise ValueError(f"length must be in [1, {n * patch_size}] for {n} patches of {patch_size}, got {length}")
    x = patches.reshape(batch, n, channels, patch_size).permute(0, 2, 1, 3)  # (B, C, N, P)
    x = x.reshape(batch, channels, n * patch_size)
    return x if length is None else x[..., :length]


def sinusoidal_positions(n: int, dim: int, device: torch.device | None = None) -> Tensor:
    """Fixed sine-cosine position codes ``(n, dim)`` (Vaswani et al. 2017; MAE uses fixed ones too).

    Fixed rather than learned codes work for any number of patches, so one encoder serves every
    series length. ``dim`` must be even: each frequency gets one sine and one cosine.
    """
    position = torch.arange(n, dtype=torch.float32, device=device)[:, None]  # (n, 1)
    freqs = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32, device=device) * (-math.log(10000.0) / dim))
    angles = position * freqs  # (n, dim / 2)
    return torch.stack([angles.sin(), angles.cos()], dim=-1).reshape(n, dim)  # sin, cos interleaved


def transformer_layers(dim: int, depth: int, heads: int, ffn_dim: int, dropout: float = 0.0) -> nn.ModuleList:
    """``depth`` pre-norm Transformer layers with GELU MLPs (ViT/MAE style), on ``(B, N, dim)`` tokens."""
    return nn.ModuleList(
        nn.TransformerEncoderLayer(dim, heads, ffn_dim, dropout, activation="gelu", batch_first=True, norm_first=True)
        for _ in range(depth)
    )


class PatchTransformerEncoder(nn.Module):
    """A small Transformer over patches of time steps: the backbone of masked modelling (MAE).

    Each series is cut into patches of ``patch_size`` steps (:func:`patchify`; the end is padded by
    repeating the last step), each patch of all channels is embedded linearly into a token of width
    ``dim``, fixed sine-cosine positions are added, ``depth`` pre-norm Transformer layers
    (Vaswani et al. 2017) mix the tokens and a final LayerNorm follows, as in the ViT encoder of
    MAE (He et al. 2022) and PatchTST (Nie et al. 2023). The embedding is the mean of the tokens.
    :class:`~sslts.methods.mae.MAE` calls the pieces separately to encode visible patches only.

    Args:
        in_channels: number of input channels C.
        patch_size: time steps per patch P.
        dim: token width D (= ``out_dim``); even and divisible by ``heads``.
        depth: Transformer layers.
        heads: attention heads.
        mlp_ratio: hidden width of each layer's MLP, relative to ``dim``.
        dropout: dropout inside the layers (0, as in MAE's pre-training).

    Shapes::

        x (B, C, L) --patchify--> (B, N, C * P) --embed_patches--> (B, N, D)
        --transform--> (B, N, D) --mean over N--> (B, D)

    Example:
        >>> PatchTransformerEncoder(3, patch_size=8)(torch.randn(4, 3, 50)).shape
        torch.Size([4, 64])
    """

    def __init__(
        self,
        in_channels: int,
        patch_size: int = 8,
        dim: int = 64,
        depth: int = 3,
        heads: int = 4,
        mlp_ratio: float = 2.0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("patch_size", patch_size), ("dim", dim),
                            ("depth", depth), ("heads", heads)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if dim % 2 != 0 or dim % heads != 0:
            raise ValueError(f"dim must be even and divisible by heads={heads}, got {dim}")
        if not mlp_ratio > 0:
            raise ValueError(f"mlp_ratio must be > 0, got {mlp_ratio!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.in_channels = in_channels
        self.patch_size = patch_size
        self.out_dim = dim
        self.patch_embed = nn.Linear(in_channels * patch_size, dim)
        self.blocks = transformer_layers(dim, depth, heads, max(1, round(dim * mlp_ratio)), dropout)
        self.norm = nn.LayerNorm(dim)

    def patchify(self, x: Tensor) -> Tensor:
        """``(B, C, L) -> (B, N, C * patch_size)`` after checking the channels (see :func:`patchify`)."""
        _check_series(x, self.in_channels)
        return patchify(x, self.patch_size)

    def embed_patches(self, patches: Tensor) -> Tensor:
        """Tokens with positions: ``(B, N, C * P) -> (B, N, D)``; token ``i`` carries position ``i``."""
        tokens = self.patch_embed(patches)  # (B, N, D)
        return tokens + sinusoidal_positions(tokens.shape[1], self.out_dim, tokens.device).to(tokens.dtype)

    def transform(self, tokens: Tensor) -> Tensor:
        """The Transformer layers and final norm over any subset of tokens: ``(B, n, D) -> (B, n, D)``."""
        for block in self.blocks:
            tokens = block(tokens)
        return self.norm(tokens)

    def tokens(self, x: Tensor) -> Tensor:
        """Every patch's output token: ``(B, C, L) -> (B, N, D)``."""
        return self.transform(self.embed_patches(self.patchify(x)))

    def forward(self, x: Tensor) -> Tensor:
        """Embed ``x`` of shape ``(B, C, L)`` into ``(B, out_dim)``: the mean of all patch tokens."""
        return self.tokens(x).mean(dim=1)  # (B, D)


ENCODERS: dict[str, Callable[..., nn.Module]] = {
    "cnn": CNNEncoder,
    "dilated": DilatedConvEncoder,
    "transformer": PatchTransformerEncoder,
}


def build_encoder(name: str, in_channels: int, **kwargs: object) -> nn.Module:
    """Build a registered encoder mapping ``(B, in_channels, L)`` to ``(B, out_dim)``.

    Args:
        name: a key of :data:`ENCODERS` (``"cnn"``, ``"dilated"`` or ``"transformer"``).
        in_channels: number of input channels C.
        **kwargs: passed to the encoder's constructor (e.g. ``depth=4`` for ``"dilated"``).

    Returns:
        The encoder, an ``nn.Module`` with an ``out_dim`` attribute.

    Raises:
        ValueError: if ``name`` is unknown (the message lists the known names) or the sizes are bad.
        TypeError: if ``in_channels`` is not an int or a keyword is not accepted by the encoder.

    Example:
        >>> build_encoder("cnn", in_channels=1).out_dim
        128
    """
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; known encoders: {', '.join(sorted(ENCODERS))}")
    if isinstance(in_channels, bool) or not isinstance(in_channels, int):
        raise TypeError(f"in_channels must be an int, got {type(in_channels).__name__}")
    return ENCODERS[name](in_channels, **kwargs)
