"""CLIP: align two towers over two modalities of the same series with a symmetric InfoNCE.

Radford et al. (2021), "Learning Transferable Visual Models From Natural Language Supervision",
ICML. CLIP trains an image tower and a text tower so that paired inputs land on the same point of a
shared sphere: each tower's output is projected linearly, L2-normalised, and the ``B x B`` matrix
of cosine similarities, scaled by a learned inverse temperature, is read as a classification
problem in both directions (:func:`sslts.losses.clip_loss`). Here the two "modalities" are two
views of one multivariate series, named by strings so that any dataset can be used:

- ``"time"``: the series as it is, ``(B, C, L)``;
- ``"channels:0,1,2"``: only those channels; the others are set to zero so the shape stays
  ``(B, C, L)``. A convolution or linear input layer never sees a non-zero value from a zeroed
  channel, so the tower computes exactly what a tower over the selected channels would, and the
  encoder of tower A keeps the data's channel layout (the harness fine-tunes it on all channels);
- ``"spectrum"``: the log-magnitude real FFT of every channel, ``(B, C, L // 2 + 1)``,
  standardised per series and channel over the frequency bins (:func:`standardised_log_spectrum`);
- ``"auto"``: from the sensor channel groups the dataset declares (:func:`sslts.data.channel_groups`,
  via the ``MethodContext``): tower A gets the first, B the second (HAR: accelerometer 0, 1, 2, 6,
  7, 8 against gyroscope 3, 4, 5); without groups, time (A) against spectrum (B). Never a channel
  count: ArticularyWordRecognition also has nine channels, and they are not HAR's.

Shapes::

    x (B, C, L) --augment (shared)--> x' --view_a--> xa --encoder----> ha (B, D) --proj_a--> za (B, P)
                                       \\--view_b--> xb --tower_b----> hb (B, D) --proj_b--> zb (B, P)
    clip_loss(za, zb, s) -> loss ();  encode(x) = [ha, hb] (B, 2D)

:class:`CLIPText` is the zero-shot variant: tower B is a frozen sentence embedding of each class's
description, and the series tower is trained with the same loss (labels give the pairing), so test
series of classes never seen in training can be classified by their nearest description
(:mod:`sslts.zero_shot`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from sslts.losses import clip_loss
from sslts.methods.base import (Augment, MethodConfig, MethodContext, SSLMethod, loss_in_float32, require_context,
                               require_positive)

__all__ = [
    "CLIP",
    "CLIPConfig",
    "CLIPText",
    "CLIPTextConfig",
    "apply_modality",
    "log_spectrum",
    "parse_modality",
    "resolve_modality",
    "select_channels",
    "standardised_log_spectrum",
]

AUGMENT_MODES = ("shared", "independent", "none")


# ----------------------------------------------------------------------------- modalities
def select_channels(x: Tensor, channels: tuple[int, ...]) -> Tensor:
    """``x`` ``(B, C, L)`` with every channel not in ``channels`` set to zero (a new tensor).

    Raises:
        ValueError: if ``x`` is not 3-D or a channel index is outside ``[0, C)``.
    """
    if x.ndim != 3:
        raise ValueError(f"x must be (B, C, L), got shape {tuple(x.shape)}")
    bad = [c for c in channels if not 0 <= c < x.shape[1]]
    if bad:
        raise ValueError(f"channels {bad} are outside [0, {x.shape[1]}) for x of shape {tuple(x.shape)}")
    keep = torch.zeros(x.shape[1], dtype=x.dtype, device=x.device)
    keep[list(channels)] = 1
    return x * keep[None, :, None]  # (B, C, L)


def log_spectrum(x: Tensor) -> Tensor:
    """``log(1 + |rFFT(x)|)`` per channel with the orthonormal FFT: ``(B, C, L) -> (B, C, L//2+1)``.

    With ``norm="ortho"`` a sine of amplitude ``A`` at an integer frequency ``k`` (``0 < k < L/2``)
    has magnitude ``A * sqrt(L) / 2`` in bin ``k`` and (up to rounding) zero elsewhere.
    """
    if x.ndim != 3:
        raise ValueError(f"x must be (B, C, L), got shape {tuple(x.shape)}")
    return torch.log1p(torch.fft.rfft(x.float(), dim=-1, norm="ortho").abs()).to(x.dtype)


def standardised_log_spectrum(x: Tensor, eps: float = 1e-5) -> Tensor:
    """:func:`log_spectrum` with each series' channel z-scored over its frequency bins.

    Standardising per series (not with statistics of a training set) keeps the modality a pure
    function of one series, so it can be computed on the fly for any batch, augmented or not.
    """
    s = log_spectrum(x)  # (B, C, F)
    return (s - s.mean(dim=-1, keepdim=True)) / (s.std(dim=-1, keepdim=True) + eps)


def resolve_modality(spec: str, groups: tuple[tuple[int, ...], ...], tower: str) -> str:
    """Replace ``"auto"`` by the concrete modality of ``tower`` (``"a"``/``"b"``).

    A dataset that declares two or more sensor channel groups (``groups``, see
    :func:`sslts.data.channel_groups`; UCI HAR: accelerometer, gyroscope) pairs its first two
    groups; any other pairs the series with its spectrum.

    >>> resolve_modality("auto", ((0, 1, 2, 6, 7, 8), (3, 4, 5)), "b"), resolve_modality("auto", (), "b")
    ('channels:3,4,5', 'spectrum')
    """
    if spec != "auto":
        return spec
    if len(groups) >= 2:
        return "channels:" + ",".join(map(str, groups[0 if tower == "a" else 1]))
    return "time" if tower == "a" else "spectrum"


def parse_modality(spec: str) -> tuple[str, tuple[int, ...]]:
    """``"time"`` / ``"spectrum"`` / ``"channels:i,j,..."`` -> ``(kind, channels)``.

    Raises:
        ValueError: for any other string (the message lists the accepted forms).
    """
    if not isinstance(spec, str):
        raise TypeError(f"a modality must be a string, got {type(spec).__name__}")
    if spec in ("time", "spectrum", "auto"):
        return spec, ()
    if spec.startswith("channels:"):
        items = [s.strip() for s in spec[len("channels:"):].split(",") if s.strip()]
        if items and all(s.isdigit() for s in items) and len(set(items)) == len(items):
            return "channels", tuple(int(s) for s in items)
    raise ValueError(
        f"unknown modality {spec!r}; use 'time', 'spectrum', 'auto' or 'channels:i,j,...' "
        "(distinct non-negative channel indices)"
    )


def apply_modality(x: Tensor, spec: str) -> Tensor:
    """The modality ``spec`` (resolved, not ``"auto"``) of a batch ``x`` ``(B, C, L)``."""
    kind, channels = parse_modality(spec)
    if kind == "time":
        return x
    if kind == "spectrum":
        return standardised_log_spectrum(x)
    if kind == "channels":
        return select_channels(x, channels)
    raise ValueError("modality 'auto' must be resolved with resolve_modality before use")


def _logit_scale(param: Tensor, max_scale: float) -> Tensor:
    # CLIP clips the learned log-scale so the logits are never multiplied by more than 100 (and,
    # as OpenCLIP does, by less than 1); clamping in the forward also stops its gradient there.
    return param.clamp(0.0, math.log(max_scale)).exp()


def _check_temperature(config: MethodConfig) -> None:
    require_positive(config, "init_temperature", "max_logit_scale")
    if not config.max_logit_scale >= 1.0:
        raise ValueError(f"{type(config).__name__}.max_logit_scale must be >= 1, got {config.max_logit_scale!r}")
    if not 1.0 / config.init_temperature <= config.max_logit_scale:
        raise ValueError(
            f"{type(config).__name__}.init_temperature must be >= 1 / max_logit_scale "
            f"({1.0 / config.max_logit_scale:g}), got {config.init_temperature!r}"
        )


# ----------------------------------------------------------------------------- two series towers
@dataclass(frozen=True)
class CLIPConfig(MethodConfig):
    """CLIP hyper-parameters (Radford et al. 2021, Section 2.5 and Appendix F where they apply).

    Attributes:
        view_a: modality of tower A (the experiment's encoder); ``"auto"`` chooses by channel count.
        view_b: modality of tower B (a second encoder of the same architecture).
        proj_dim: width of the shared embedding space (CLIP: 512 to 1024; linear projections).
        init_temperature: initial temperature ``tau`` (0.07); the learned parameter is ``log(1/tau)``.
        max_logit_scale: clip of ``1 / tau`` (100 in CLIP).
        learn_temperature: learn ``tau`` (CLIP) or keep it fixed.
        augment_views: ``"shared"``: one augmentation of the whole series, then both modalities
            (the pair stays physically synchronised); ``"independent"``: one draw per modality;
            ``"none"``: the clean series.
    """

    view_a: str = "auto"
    view_b: str = "auto"
    proj_dim: int = 128
    init_temperature: float = 0.07
    max_logit_scale: float = 100.0
    learn_temperature: bool = True
    augment_views: str = "shared"

    def __post_init__(self) -> None:
        super().__post_init__()  # field types
        require_positive(self, "proj_dim")
        _check_temperature(self)
        parse_modality(self.view_a)
        parse_modality(self.view_b)
        if self.augment_views not in AUGMENT_MODES:
            raise ValueError(f"CLIPConfig.augment_views must be one of {list(AUGMENT_MODES)}, got {self.augment_views!r}")


class CLIP(SSLMethod):
    """CLIP-style alignment of two modalities of a series (see the module docstring).

    Args:
        encoder: tower A, ``(B, C, L) -> (B, D)`` with attribute ``out_dim``.
        config: :class:`CLIPConfig`; the defaults when ``None``.
        context: the data shape ``(C, L)`` and ``make_encoder``, which builds tower B.

    Raises:
        ValueError: if a modality names a channel outside ``[0, C)``.

    Example:
        >>> from sslts.encoders import build_encoder
        >>> from sslts.methods.base import MethodContext
        >>> ctx = MethodContext((3, 32), lambda c: build_encoder("cnn", c, channels=(8, 16)))
        >>> m = CLIP(build_encoder("cnn", 3, channels=(8, 16)), CLIPConfig(proj_dim=8), context=ctx)
        >>> m.views, m.encode(torch.randn(4, 3, 32)).shape
        (('time', 'spectrum'), torch.Size([4, 32]))
    """

    name = "clip"
    config_class = CLIPConfig
    config: CLIPConfig
    needs_context = True

    def __init__(self, encoder: nn.Module, config: CLIPConfig | None = None, *, context: MethodContext) -> None:
        super().__init__(encoder, config)
        c = self.config
        n_channels = require_context("CLIP", context).input_shape[0]
        groups = context.channel_groups
        self.views = (resolve_modality(c.view_a, groups, "a"), resolve_modality(c.view_b, groups, "b"))
        for spec in self.views:
            bad = [i for i in parse_modality(spec)[1] if i >= n_channels]
            if bad:
                raise ValueError(f"modality {spec!r} names channels {bad}, but the data has {n_channels} channels")
        self.tower_b = context.make_encoder(n_channels)  # every modality keeps the C channels
        # CLIP maps each tower to the joint space with a linear projection (no bias, no MLP).
        self.proj_a = nn.Linear(encoder.out_dim, c.proj_dim, bias=False)
        self.proj_b = nn.Linear(self.tower_b.out_dim, c.proj_dim, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / c.init_temperature)),
                                        requires_grad=c.learn_temperature)

    def make_views(self, x: Tensor, augment: Augment, generator: torch.Generator,
                   y: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The two modalities of a batch ``x`` ``(B, C, L)``, augmented per ``augment_views``."""
        mode = self.config.augment_views
        xa = x if mode == "none" else augment(x, generator)
        xb = xa if mode != "independent" else augment(x, generator)
        return apply_modality(xa, self.views[0]), apply_modality(xb, self.views[1])

    def scale(self) -> Tensor:
        """The clipped inverse temperature ``s = exp(t)`` (0-dim)."""
        return _logit_scale(self.logit_scale, self.config.max_logit_scale)

    def training_step(self, xa: Tensor, xb: Tensor) -> tuple[Tensor, dict[str, float]]:
        """CLIP loss of the two modalities of a batch (outputs of :meth:`make_views`)."""
        za = self.proj_a(self.encoder(xa))  # (B, P)
        zb = self.proj_b(self.tower_b(xb))  # (B, P)
        scale = self.scale()
        loss = loss_in_float32(clip_loss, za, zb, logit_scale=scale.float())
        return loss, {"clip": loss.item(), "logit_scale": scale.item()}

    def encode_tower(self, x: Tensor, tower: str) -> Tensor:
        """One tower's representation of a clean batch: ``(B, C, L) -> (B, D)``.

        Raises:
            ValueError: if ``tower`` is not ``"a"`` or ``"b"``.
        """
        if tower == "a":
            return self.encoder(apply_modality(x, self.views[0]))
        if tower == "b":
            return self.tower_b(apply_modality(x, self.views[1]))
        raise ValueError(f"tower must be 'a' or 'b', got {tower!r}")

    def feature_map(self, x: Tensor) -> Tensor:
        """Tower A's map before pooling, ``(B, C, L) -> (B, D', L')``: one encoder, as wide as any
        other method's, so a comparison of read-outs gives CLIP no second tower."""
        return self.encoder.features(apply_modality(x, self.views[0]))

    def encode(self, x: Tensor) -> Tensor:
        """Both towers' representations, concatenated: ``(B, C, L) -> (B, D_a + D_b)``."""
        return torch.cat([self.encode_tower(x, "a"), self.encode_tower(x, "b")], dim=1)

    @torch.no_grad()
    def pair_similarity(self, x: Tensor) -> Tensor:
        """Cosine similarities of the projected towers, ``(B, B)``; entry ``(i, j)`` = A of i vs B of j."""
        za = nn.functional.normalize(self.proj_a(self.encode_tower(x, "a")), dim=1)
        zb = nn.functional.normalize(self.proj_b(self.encode_tower(x, "b")), dim=1)
        return za @ zb.T


# ----------------------------------------------------------------------------- series vs class text
@dataclass(frozen=True)
class CLIPTextConfig(MethodConfig):
    """Settings of the series-to-text alignment used for zero-shot classification.

    Attributes:
        descriptions: key of :data:`sslts.text.CLASS_DESCRIPTIONS` (the dataset's class texts).
        text_model: a key of :data:`sslts.text.EMBEDDERS` (``"all-MiniLM-L6-v2"`` or ``"hashing"``).
        prompts: ``"name"``, ``"description"`` or ``"ensemble"`` (:func:`sslts.text.class_prompts`).
        held_out: comma-separated class names that must never reach training (checked per batch).
        init_temperature, max_logit_scale, learn_temperature: as in :class:`CLIPConfig`.
        train_encoder: train the series encoder too (``False``: only the projection learns).
    """

    descriptions: str = "har"
    text_model: str = "all-MiniLM-L6-v2"
    prompts: str = "description"
    held_out: str = ""
    init_temperature: float = 0.07
    max_logit_scale: float = 100.0
    learn_temperature: bool = True
    train_encoder: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()  # field types
        _check_temperature(self)


class CLIPText(SSLMethod):
    """A series tower aligned to frozen text embeddings of class descriptions (zero-shot training).

    The text tower is frozen (a sentence-embedding model run once, at construction), so the series
    tower's projection maps straight into the text space: a class never seen in training can still
    be recognised by the nearest embedding of its description. Training pairs each series with its
    class's description and uses :func:`sslts.losses.clip_loss` with the labels (every same-class
    pair a positive). With one frozen text per class this equals plain CLIP on the ``B x B`` matrix
    (duplicate columns are identical), so the labels only make the pairing explicit.

    Args:
        encoder: series tower ``(B, C, L) -> (B, D)`` with ``out_dim``.
        config: :class:`CLIPTextConfig`.

    Raises:
        ValueError: if ``held_out`` names a class that is not in the descriptions, or leaves none.
    """

    name = "clip_text"
    config_class = CLIPTextConfig
    config: CLIPTextConfig
    needs_labels = True

    def __init__(self, encoder: nn.Module, config: CLIPTextConfig | None = None) -> None:
        super().__init__(encoder, config)
        from sslts import text  # imported here: the sentence-embedding stack is heavy

        c = self.config
        self.class_names = text.class_names(c.descriptions)
        held = [s.strip() for s in c.held_out.split(",") if s.strip()]
        unknown = sorted(set(held) - set(self.class_names))
        if unknown:
            raise ValueError(f"held_out classes {unknown} are not among {list(self.class_names)}")
        if len(set(held)) >= len(self.class_names):
            raise ValueError("held_out must leave at least one class for training")
        self.held_out = tuple(i for i, n in enumerate(self.class_names) if n in held)
        embeddings = text.class_text_embeddings(c.descriptions, c.text_model, c.prompts)  # (K, E)
        self.register_buffer("class_text", torch.from_numpy(embeddings))
        self.proj = nn.Linear(encoder.out_dim, embeddings.shape[1], bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / c.init_temperature)),
                                        requires_grad=c.learn_temperature)
        encoder.requires_grad_(c.train_encoder)

    def train(self, mode: bool = True) -> "CLIPText":
        """Train mode for the heads; a frozen encoder stays in eval mode (batch-norm statistics and
        dropout fixed), so "frozen" means the same function throughout training."""
        super().train(mode)
        if not self.config.train_encoder:
            self.encoder.eval()
        return self

    def make_views(self, x: Tensor, augment: Augment, generator: torch.Generator,
                   y: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """One augmented view and the batch's labels; refuses any label of a held-out class.

        Raises:
            ValueError: if ``y`` is missing or holds a held-out class (a leak into training).
        """
        if y is None:
            raise ValueError("clip_text needs the batch labels (pretrain(..., y=...))")
        leaked = sorted({int(v) for v in y.tolist()} & set(self.held_out))
        if leaked:
            raise ValueError(f"held-out classes {[self.class_names[i] for i in leaked]} reached training")
        return augment(x, generator), y

    def scale(self) -> Tensor:
        """The clipped inverse temperature ``s = exp(t)`` (0-dim)."""
        return _logit_scale(self.logit_scale, self.config.max_logit_scale)

    def training_step(self, x: Tensor, y: Tensor) -> tuple[Tensor, dict[str, float]]:
        """CLIP loss between series ``(B, C, L)`` and their classes' description embeddings."""
        zs = self.proj(self.encoder(x))  # (B, E)
        zt = self.class_text[y]  # (B, E), frozen
        scale = self.scale()
        loss = loss_in_float32(clip_loss, zs, zt, logit_scale=scale.float(), labels=y)
        return loss, {"clip": loss.item(), "logit_scale": scale.item()}

    @torch.no_grad()
    def text_space(self, x: Tensor) -> Tensor:
        """Series mapped into the text space and L2-normalised: ``(B, C, L) -> (B, E)``."""
        return nn.functional.normalize(self.proj(self.encoder(x)), dim=1)
