"""The thin protocol every self-supervised method follows, and the typed config base class.

A method is one short :class:`SSLMethod` subclass: it builds its heads in ``__init__``, computes its
loss for two augmented views in :meth:`SSLMethod.training_step`, and exposes
:meth:`SSLMethod.encode` ``(B, C, L) -> (B, D)``, the one contract every evaluation uses. The single
training loop (:func:`sslts.train.pretrain`) only ever calls four hooks, so a method with unusual
needs overrides a hook instead of the loop growing a special case:

- :meth:`SSLMethod.make_views`: batch -> the tuple of inputs for one step (default: two views).
  A method with ``needs_labels = True`` (test-time training's joint classifier, a text tower)
  also receives the batch's training labels here; every other method never sees a label.
- :meth:`SSLMethod.configure_optimizers`: the optimisers (default: one AdamW).
- :meth:`SSLMethod.step`: one optimisation step (default: ``training_step`` under autocast,
  then :meth:`StepContext.minimise`). It returns the value the loop logs as ``loss`` and guards
  against NaN, and the named terms. A method whose players minimise different losses (SS-GAN's
  discriminator and generator) overrides only this, with one step per player.
- :meth:`SSLMethod.training_step`: the loss and its named terms for one batch of views, the one
  objective the default ``step`` minimises.

The :class:`StepContext` the loop passes to ``step`` carries how to step (autocast, gradient
scaling, clipping) and the loop's augmentation pipeline with its generator, for a method that
augments inside its step (SS-GAN's DiffAugment) rather than in ``make_views``.

Configs are frozen dataclasses subclassing :class:`MethodConfig`, so there is one source of
defaults (the paper's) and ``from_dict`` type-checks overrides from YAML, JSON or papermill.
"""

from __future__ import annotations

import contextlib
import dataclasses
import typing
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Mapping, TypeVar

import torch
from torch import Tensor, nn

__all__ = [
    "Augment",
    "ConfigBase",
    "MethodConfig",
    "MethodContext",
    "require_context",
    "SSLMethod",
    "StepContext",
    "loss_in_float32",
    "require_positive",
]

C = TypeVar("C", bound="ConfigBase")


def _check_value(cls_name: str, field: str, hint: Any, value: Any) -> Any:
    """Return ``value`` converted to ``hint`` (only int -> float), or raise a readable TypeError."""
    args = typing.get_args(hint)
    optional = type(None) in args  # `X | None`
    if optional:
        if value is None:
            return None
        (hint,) = [a for a in args if a is not type(None)]
    ok: bool
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        # An int is an acceptable float ("lr: 1" in YAML); a bool is not a number here.
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, hint)
    if not ok:
        name = getattr(hint, "__name__", str(hint)) + (" or None" if optional else "")
        raise TypeError(
            f"{cls_name}.{field} must be {name}, got {type(value).__name__} ({value!r})"
        )
    return value


@dataclass(frozen=True)
class ConfigBase:
    """Frozen dataclass with a type-checked ``from_dict`` and a JSON-ready ``to_dict``.

    Field types are limited to ``int``, ``float``, ``bool``, ``str`` and ``X | None`` so that a
    config round-trips through JSON and through ``torch.load(..., weights_only=True)``. Types are
    checked on construction too (an int given for a float field becomes a float), so a config
    built directly with a wrong type fails with the field's name; a subclass's ``__post_init__``
    calls this one first, then checks ranges.
    """

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = _check_value(type(self).__name__, f.name, hints[f.name], getattr(self, f.name))
            object.__setattr__(self, f.name, value)  # frozen: the int -> float conversion

    @classmethod
    def from_dict(cls: type[C], d: Mapping[str, Any]) -> C:
        """Build the config from a mapping of overrides; missing fields keep their defaults.

        Raises:
            TypeError: if ``d`` is not a mapping or a value has the wrong type (the message names
                the field and the expected type).
            ValueError: if ``d`` has a key that is not a field (the message lists the allowed ones),
                or a value is out of range (checked by the subclass's ``__post_init__``).

        Example:
            >>> from sslts.methods.simclr import SimCLRConfig
            >>> SimCLRConfig.from_dict({"temperature": 0.1}).temperature
            0.1
        """
        if not isinstance(d, Mapping):
            raise TypeError(f"{cls.__name__}.from_dict expects a mapping, got {type(d).__name__}")
        hints = typing.get_type_hints(cls)
        allowed = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(d) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown {cls.__name__} field(s) {unknown}; allowed fields are {allowed}"
            )
        kwargs = {k: _check_value(cls.__name__, k, hints[k], v) for k, v in d.items()}
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain dict of primitives (for checkpoints and run records)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class MethodConfig(ConfigBase):
    """Base class of the per-method configs (each adds its fields with the paper's defaults)."""


def require_positive(config: ConfigBase, *names: str) -> None:
    """Raise ValueError naming the first of ``names`` whose value is not > 0."""
    for name in names:
        value = getattr(config, name)
        if not value > 0:
            raise ValueError(f"{type(config).__name__}.{name} must be > 0, got {value!r}")


def loss_in_float32(loss_fn: Callable[..., Any], z1: Tensor, z2: Tensor, **kwargs: Any) -> Any:
    """Call ``loss_fn(z1, z2, **kwargs)`` in float32 with autocast switched off.

    Under mixed precision the projector outputs are float16; the cross-correlation and covariance
    matrices of the losses overflow or lose the small off-diagonal entries in half precision, so
    the losses always run in float32 (the forward passes keep their speed-up).
    """
    with torch.autocast(device_type=z1.device.type, enabled=False):
        return loss_fn(z1.float(), z2.float(), **kwargs)


# An augmentation pipeline: a batch (B, C, L) and a generator in, an augmented batch out.
Augment = Callable[[Tensor, torch.Generator], Tensor]


@dataclass(frozen=True)
class MethodContext:
    """What a method may need to know about its data besides the encoder (given when it asks).

    A method with ``needs_context = True`` receives this as the keyword ``context`` of its
    ``__init__``: a generator that must emit series of the data's shape (SS-GAN), or a second tower
    over another modality (CLIP-style alignment) built like the first encoder.

    Attributes:
        input_shape: ``(C, L)`` of the series the method is trained on.
        make_encoder: ``make_encoder(in_channels) -> nn.Module`` builds another encoder of the
            experiment's architecture and settings for ``in_channels`` channels (any length).
        n_classes: number of classes of the training labels, for a method that trains a
            classifier jointly (test-time training); ``None`` when there are no labels.
        channel_groups: the sensor channel groups the dataset declares
            (:func:`sslts.data.channel_groups`, in its order), for a method that pairs modalities;
            empty when it declares none.
    """

    input_shape: tuple[int, int]
    make_encoder: Callable[[int], nn.Module]
    n_classes: int | None = None
    channel_groups: tuple[tuple[int, ...], ...] = ()

    def __post_init__(self) -> None:
        shape = tuple(self.input_shape)
        if len(shape) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape):
            raise ValueError(f"MethodContext.input_shape must be (C, L) of positive ints, got {self.input_shape!r}")
        if not callable(self.make_encoder):
            raise TypeError(f"MethodContext.make_encoder must be callable, got {type(self.make_encoder).__name__}")
        if self.n_classes is not None and (isinstance(self.n_classes, bool) or not isinstance(self.n_classes, int)):
            raise TypeError(f"MethodContext.n_classes must be an int or None, got {self.n_classes!r}")


def require_context(method: str, context: object) -> MethodContext:
    """``context`` if it is a :class:`MethodContext`; a method with ``needs_context`` calls this first."""
    if not isinstance(context, MethodContext):
        raise TypeError(f"{method} needs a MethodContext (the data's shape and an encoder factory), "
                        f"got {type(context).__name__}")
    return context


@dataclass(frozen=True)
class StepContext:
    """What the loop hands to :meth:`SSLMethod.step` besides the views and the optimisers.

    It is also the one way both training loops step an optimiser (:meth:`minimise`): pre-training
    through a method's ``step`` hook, fine-tuning (:func:`sslts.evaluate.finetune`) directly.

    Attributes:
        device_type: ``"cuda"`` or ``"cpu"``, for :func:`torch.autocast`.
        amp: whether mixed precision (float16 autocast + gradient scaling) is on.
        scaler: the loop's :class:`torch.amp.GradScaler` (a no-op when ``amp`` is off).
        max_grad_norm: clip the global gradient norm to this value, or ``None`` for no clipping.
        augment: the loop's augmentation pipeline, or ``None`` (see :meth:`augmentation`).
        generator: the generator the loop draws augmentations from (on the training device).

    Example:
        >>> ctx = StepContext.create("cpu")
        >>> w = nn.Parameter(torch.ones(2))
        >>> opt = torch.optim.SGD([w], lr=0.5)
        >>> ctx.minimise((w ** 2).sum(), opt, [w]), w.tolist()  # gradient 2w: w - 0.5 * 2w = 0
        (True, [0.0, 0.0])
        >>> ctx.minimise(torch.tensor(float("nan")), opt, [w])  # not applied
        False
    """

    device_type: str
    amp: bool
    scaler: torch.amp.GradScaler
    max_grad_norm: float | None = None
    augment: Augment | None = None
    generator: torch.Generator | None = None

    @classmethod
    def create(cls, device_type: str, amp: bool = False, max_grad_norm: float | None = None,
               augment: Augment | None = None, generator: torch.Generator | None = None) -> StepContext:
        """A context with its own gradient scaler (enabled only with ``amp``)."""
        scaler = torch.amp.GradScaler(device_type, enabled=amp)
        return cls(device_type, amp, scaler, max_grad_norm, augment, generator)

    def autocast(self) -> contextlib.AbstractContextManager:
        """The autocast context for forward passes (disabled unless ``amp``)."""
        return torch.autocast(device_type=self.device_type, dtype=torch.float16, enabled=self.amp)

    def clip_and_step(self, optimizer: torch.optim.Optimizer, parameters: Iterable[nn.Parameter]) -> None:
        """Clip the gradients of ``parameters`` (if ``max_grad_norm``) and step ``optimizer``.

        Call after ``scaler.scale(loss).backward()``; call ``scaler.update()`` once per iteration
        after every optimiser has stepped.
        """
        if self.max_grad_norm is not None:
            self.scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
            nn.utils.clip_grad_norm_(parameters, self.max_grad_norm)
        self.scaler.step(optimizer)

    def minimise(self, loss: Tensor, optimizer: torch.optim.Optimizer,
                 parameters: Iterable[nn.Parameter]) -> bool:
        """One step of ``optimizer`` down ``loss``: zero the gradients, backward the scaled loss,
        clip ``parameters``' gradients and step. A non-finite ``loss`` is not applied.

        Returns whether the step was taken. Call ``scaler.update()`` once per iteration, after
        every optimiser has stepped.
        """
        if not torch.isfinite(loss):
            return False
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.clip_and_step(optimizer, parameters)
        return True

    def augmentation(self) -> Callable[[Tensor], Tensor]:
        """The loop's pipeline with its generator bound: ``(N, C, L) -> (N, C, L)``, fresh draws
        on every call.

        Raises:
            ValueError: if the loop gave no pipeline or generator.
        """
        augment, generator = self.augment, self.generator
        if augment is None or generator is None:
            raise ValueError("this StepContext has no augmentation: build it with augment= and generator=")
        return lambda series: augment(series, generator)


class SSLMethod(nn.Module):
    """Base class of a self-supervised method: an encoder plus the heads and loss of one paper.

    Subclasses set ``name`` and ``config_class``, build their heads in ``__init__`` and implement
    :meth:`training_step`. ``encoder`` maps ``(B, C, L) -> (B, D)`` and has an ``out_dim``
    attribute.

    Raises:
        TypeError: if ``encoder`` is not an ``nn.Module`` with an integer ``out_dim``, or ``config``
            is not an instance of the method's ``config_class``.
    """

    name: ClassVar[str] = "base"
    config_class: ClassVar[type[MethodConfig]] = MethodConfig
    needs_labels: ClassVar[bool] = False
    needs_context: ClassVar[bool] = False

    def __init__(self, encoder: nn.Module, config: MethodConfig | None = None) -> None:
        super().__init__()
        if not isinstance(encoder, nn.Module):
            raise TypeError(f"encoder must be a torch.nn.Module, got {type(encoder).__name__}")
        out_dim = getattr(encoder, "out_dim", None)
        if not isinstance(out_dim, int) or isinstance(out_dim, bool) or out_dim < 1:
            raise TypeError(
                f"encoder must have a positive integer attribute `out_dim`, got {out_dim!r}"
            )
        config = self.config_class() if config is None else config
        if not isinstance(config, self.config_class):
            raise TypeError(
                f"{type(self).__name__} expects a {self.config_class.__name__}, "
                f"got {type(config).__name__}"
            )
        self.encoder = encoder
        self.config = config

    def encode(self, x: Tensor) -> Tensor:
        """Representation used by every evaluation: the encoder output ``(B, C, L) -> (B, D)``."""
        return self.encoder(x)

    def feature_map(self, x: Tensor) -> Tensor:
        """The encoder's map before pooling, ``(B, C, L) -> (B, D', L')``, which read-outs pool.

        Only convolutional encoders (with ``features``) have one.
        """
        return self.encoder.features(x)

    def training_step(self, x1: Tensor, x2: Tensor) -> tuple[Tensor, dict[str, float]]:
        """Loss for two augmented views ``(B, C, L)`` and its named terms (floats, for logging)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement training_step (or override step, as a method whose "
            "players minimise different losses does)"
        )

    def make_views(self, x: Tensor, augment: Augment, generator: torch.Generator,
                   y: Tensor | None = None) -> tuple[Tensor, ...]:
        """Inputs of one step from a clean batch ``x`` ``(B, C, L)``; by default two views.

        Each view is ``augment(x, generator)`` ``(B, C, L)``; override for one view, more views, or
        to keep the clean batch (e.g. a GAN discriminating real from generated series). ``y``
        ``(B,)`` holds the batch's labels, and is given only to methods with ``needs_labels``.
        """
        return augment(x, generator), augment(x, generator)

    def configure_optimizers(self, lr: float, weight_decay: float) -> list[torch.optim.Optimizer]:
        """One AdamW over all parameters; weight decay only on weight matrices and conv kernels.

        Biases and normalisation scales (tensors with fewer than 2 dimensions) are not decayed:
        shrinking them towards zero does not regularise, it only fights the normalisation.
        """
        params = [p for p in self.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
        ]
        return [torch.optim.AdamW(groups, lr=lr)]

    def step(
        self,
        views: tuple[Tensor, ...],
        optimizers: list[torch.optim.Optimizer],
        ctx: StepContext,
    ) -> tuple[Tensor, dict[str, float]]:
        """One optimisation step; returns the detached loss and the terms of :meth:`training_step`.

        A non-finite loss is returned without a backward pass or an update, so the weights stay
        those of the last good step; the loop then raises :class:`sslts.policies.TrainingDiverged`.

        Raises:
            ValueError: if more than one optimiser is given (override this hook instead).
        """
        if len(optimizers) != 1:
            raise ValueError(
                f"{type(self).__name__}.step handles one optimiser, got {len(optimizers)}; "
                "a method with several optimisers must override step()"
            )
        (optimizer,) = optimizers
        with ctx.autocast():
            loss, terms = self.training_step(*views)
        if ctx.minimise(loss, optimizer, self.parameters()):
            ctx.scaler.update()
        return loss.detach(), terms
