"""Chain the operations into a validated pipeline: the registry of names, the steps, and
:func:`build_pipeline`, which turns a config value into a :class:`Compose`.

A step is checked when it is made (its name, parameter names, types and values), and, when the
data's shape ``(C, L)`` is known, against that shape too (:meth:`Compose.check_shape`): some
parameters only make sense for series long enough, and the operations would quietly adapt them
otherwise, so the run record would describe an augmentation that did not happen.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import torch

from .window import window_warp
from .ops import (
    blockout, channel_noise, crop_resize, jitter, magnitude_warp, negation, permutation,
    random_crop, scaling, smoothing, time_flip, time_warp,
)
from .primitives import _real, _window, check_batch
from .spec import _parse_spec

AUGMENTATIONS: dict[str, Callable[..., torch.Tensor]] = {
    "jitter": jitter,
    "channel_noise": channel_noise,
    "scaling": scaling,
    "magnitude_warp": magnitude_warp,
    "time_warp": time_warp,
    "crop_resize": crop_resize,
    "random_crop": random_crop,
    "blockout": blockout,
    "time_flip": time_flip,
    "negation": negation,
    "smoothing": smoothing,
    "permutation": permutation,
    "window_warp": window_warp,
}


def _lookup(name: Any) -> Callable[..., torch.Tensor]:
    if not isinstance(name, str):
        raise TypeError(f"augmentation name must be a str, got {type(name).__name__}")
    if name not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {name!r}; known: {', '.join(AUGMENTATIONS)}")
    return AUGMENTATIONS[name]


def default_params(name: str) -> dict[str, Any]:
    """The default strengths of augmentation ``name``, read from its signature.

    >>> default_params("magnitude_warp")
    {'sigma': 0.2, 'knots': 4, 'mode': 'cubic'}
    """
    parameters = list(inspect.signature(_lookup(name)).parameters.values())[2:]
    return {p.name: p.default for p in parameters}


# ----------------------------------------------------------------------------- fit to the length
# Each rule takes a step's resolved parameters (checked values) and the series length, and says
# what does not fit, or None. Only these operations have parameters that depend on the length.

def _crop_problem(params: Mapping[str, Any], length: int) -> str | None:
    ratio = params["ratio"]
    if _window(ratio, length, 0) > 0:
        return None
    return (f"ratio={ratio} gives a window of round({ratio} * {length}) = 0 steps, which the "
            f"operation would silently widen to 1 step; it needs ratio * length >= 0.5")


def _blockout_problem(params: Mapping[str, Any], length: int) -> str | None:
    ratio = params["ratio"]
    if ratio == 0 or _window(ratio, length, 0) > 0:  # ratio = 0 is the documented identity
        return None
    return (f"ratio={ratio} gives a block of round({ratio} * {length}) = 0 steps, so nothing would "
            f"be zeroed; it needs ratio = 0 or ratio * length >= 0.5")


def _permutation_problem(params: Mapping[str, Any], length: int) -> str | None:
    most = params["max_segments"]
    if most <= length:
        return None
    return (f"max_segments={most} is more segments than the series has steps, which the "
            f"operation would silently cap at {length}; it needs max_segments <= {length}")


def _window_warp_problem(params: Mapping[str, Any], length: int) -> str | None:
    ratio = params["ratio"]
    if ratio == 0 or params["scale"] == 1 or _window(ratio, length - 1, 0) > 0:  # identities
        return None
    return (f"ratio={ratio} gives a window of round({ratio} * {length - 1}) = 0 time steps, so nothing "
            f"would be warped; it needs ratio = 0 or ratio * (length - 1) >= 0.5")


_LENGTH_RULES: dict[str, Callable[[Mapping[str, Any], int], str | None]] = {
    "crop_resize": _crop_problem,
    "random_crop": _crop_problem,
    "blockout": _blockout_problem,
    "permutation": _permutation_problem,
    "window_warp": _window_warp_problem,
}

# (C, L) of the run that checks a step's values when it is made, before the data's shape is
# known. The operations' own checks of values do not depend on it; what depends on the length is
# checked against the real shape by check_shape.
_PLACEHOLDER_SHAPE = (1, 8)


def _series_shape(shape: Any) -> tuple[int, int]:
    """``shape`` as ``(channels, length)``, two ints of at least 1."""
    try:
        channels, length = (operator.index(n) for n in shape)
    except (TypeError, ValueError):
        raise TypeError(f"shape must be (channels, length), two ints; got {shape!r}") from None
    if channels < 1 or length < 1:
        raise ValueError(f"shape must have channels >= 1 and length >= 1, got {(channels, length)}")
    return channels, length


def _run_once(name: str, params: Mapping[str, Any], shape: tuple[int, int]) -> None:
    """Run augmentation ``name`` once on a zero batch ``(1, C, L)``, so its own checks apply."""
    _lookup(name)(torch.zeros(1, *shape), torch.Generator().manual_seed(0), **params)


# ----------------------------------------------------------------------------- pipeline

@dataclass(frozen=True)
class AugmentationStep:
    """One pipeline step: augmentation ``name`` applied per sample with probability ``p``.

    ``params`` overrides the defaults of :func:`default_params`. Names, parameter names, types and
    values are checked on construction (the values by running the function once on a tiny zero
    batch, so the functions' own checks are the only ones); :meth:`check_shape` checks the step
    against the data's shape.

    Raises:
        ValueError: unknown name or parameter (the message lists the allowed ones), bad value.
        TypeError: wrong type for the name, ``p`` or a parameter.
    """

    name: str
    p: float = 1.0
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _lookup(self.name)
        p = _real("p", self.p, 0.0, 1.0)
        if not isinstance(self.params, Mapping):
            raise TypeError(f"params must be a mapping, got {type(self.params).__name__}")
        allowed = default_params(self.name)
        for key in self.params:
            if key not in allowed:
                raise ValueError(f"unknown parameter {key!r} for {self.name!r}; allowed: "
                                 f"{', '.join(allowed) or 'none'}")
        _run_once(self.name, self.params, _PLACEHOLDER_SHAPE)
        object.__setattr__(self, "p", p)
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __hash__(self) -> int:  # params is a read-only mapping, which does not hash itself
        return hash((self.name, self.p, tuple(sorted(self.params.items()))))

    def describe(self) -> dict[str, Any]:
        """``{"name", "p", **params}`` with every default filled in (accepted by build_pipeline)."""
        return {"name": self.name, "p": self.p, **default_params(self.name), **self.params}

    def check_shape(self, shape: tuple[int, int]) -> None:
        """Check the step against series of ``shape = (C, L)``.

        Its parameters, defaults included, must fit length ``L`` (a crop or block of at least one
        step, no more permutation segments than steps), and the function runs once on a zero
        batch ``(1, C, L)``.

        Raises:
            ValueError: a parameter that does not fit; the message names the augmentation, the
                parameter and the length. Also a shape with a size below 1.
            TypeError: ``shape`` is not two ints.
        """
        channels, length = _series_shape(shape)
        rule = _LENGTH_RULES.get(self.name)
        problem = rule(self.describe(), length) if rule else None
        if problem:
            raise ValueError(f"augmentation {self.name!r} does not fit series of length {length}: {problem}")
        _run_once(self.name, self.params, (channels, length))


@dataclass(frozen=True)
class Compose:
    """Apply steps in order; step ``k`` is applied to each sample with probability ``p_k``.

    For ``0 < p < 1`` a mask ``(B,)`` ~ Bernoulli(p) is drawn from the generator, the augmentation
    runs on the whole batch and ``torch.where`` keeps it for the selected samples. Steps with
    ``p = 1`` or ``p = 0`` draw no mask, so ``p = 1`` equals calling the function directly.
    The result is always a new tensor.
    """

    steps: tuple[AugmentationStep, ...] = ()

    def __post_init__(self) -> None:
        steps = tuple(self.steps)
        for step in steps:
            if not isinstance(step, AugmentationStep):
                raise TypeError(f"steps must be AugmentationStep, got {type(step).__name__}")
        object.__setattr__(self, "steps", steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        check_batch(x, generator)
        out = x                                                         # (B, C, L)
        for step in self.steps:
            if step.p == 0.0:
                continue
            augmented = AUGMENTATIONS[step.name](out, generator, **step.params)
            if step.p == 1.0:
                out = augmented
            else:
                chosen = torch.rand((x.shape[0],), generator=generator, device=x.device) < step.p
                out = torch.where(chosen[:, None, None], augmented, out)
        return x.clone() if out is x else out

    def describe(self) -> list[dict[str, Any]]:
        """One flat dict per step with resolved parameters, for run records."""
        return [step.describe() for step in self.steps]

    def check_shape(self, shape: tuple[int, int]) -> Compose:
        """Check every step against series of ``shape = (C, L)`` and return the pipeline.

        Steps with ``p = 0`` are checked too: the record names them as configured.
        See :meth:`AugmentationStep.check_shape` for what is checked and raised.
        """
        _series_shape(shape)  # an empty pipeline still refuses a bad shape
        for step in self.steps:
            step.check_shape(shape)
        return self


def _step_from(item: Any) -> AugmentationStep:
    if isinstance(item, AugmentationStep):
        return item
    if isinstance(item, str):
        return AugmentationStep(item.strip())
    if isinstance(item, Mapping):
        if "name" not in item:
            raise ValueError(f"a step dict needs a 'name' key, got keys {sorted(item)}")
        params = {k: v for k, v in item.items() if k not in ("name", "p")}
        return AugmentationStep(item["name"], item.get("p", 1.0), params)
    raise TypeError(f"a step must be a name, a dict or an AugmentationStep, "
                    f"got {type(item).__name__}")


def _compose(spec: None | str | list[Any] | tuple[Any, ...] | Compose) -> Compose:
    if isinstance(spec, Compose):
        return spec
    if spec is None or spec == "":
        return Compose()
    if isinstance(spec, str):
        return Compose(tuple(_step_from(item) for item in _parse_spec(spec)))
    if isinstance(spec, (list, tuple)):
        return Compose(tuple(_step_from(item) for item in spec))
    raise TypeError(f"spec must be None, a str, a list of names/dicts or a Compose, "
                    f"got {type(spec).__name__}")


def build_pipeline(spec: None | str | list[Any] | tuple[Any, ...] | Compose,
                   shape: tuple[int, int] | None = None) -> Compose:
    """Build a :class:`Compose` from a config value.

    Accepted forms:

    * ``None`` or ``""``: the identity pipeline;
    * ``"jitter,scaling"``: names separated by commas, each with ``p = 1`` and default strengths;
    * ``"jitter(p=0.8,sigma=0.05),scaling"``: the same with a probability and strengths by name
      (the form chapter parameters use);
    * ``["jitter", "scaling"]``: the same as a list;
    * ``[{"name": "jitter", "p": 0.8, "sigma": 0.03}, ...]``: ``p`` defaults to 1, other keys are
      parameters; names, dicts and :class:`AugmentationStep` may be mixed;
    * a :class:`Compose`, returned unchanged.

    ``build_pipeline(pipe.describe())`` rebuilds an equivalent pipeline.

    With ``shape = (C, L)``, the data's channels and length, every step is also checked against
    that shape (:meth:`Compose.check_shape`); without it, only what does not depend on the length.

    >>> build_pipeline("permutation(max_segments=12)", shape=(3, 8))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: augmentation 'permutation' does not fit series of length 8: max_segments=12 is ...

    Raises:
        ValueError: unknown augmentation or parameter, empty name, bad value, a parameter that
            does not fit ``shape``.
        TypeError: ``spec``, an element or ``shape`` of the wrong type.
    """
    pipe = _compose(spec)
    return pipe if shape is None else pipe.check_shape(shape)


def default_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed`` (pass ``x.device`` for CUDA data).

    >>> a = torch.rand(2, generator=default_generator(0))
    >>> a.equal(torch.rand(2, generator=default_generator(0)))
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    generator = torch.Generator(device=torch.device(device))
    generator.manual_seed(seed)
    return generator
