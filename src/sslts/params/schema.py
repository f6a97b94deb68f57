"""Chapter parameter types: :class:`Param`, the profiles, and the coercion and checks of one value."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import ParameterError  # defined in the core, so the core can raise it without this package

PROFILES = ("smoke", "quick", "full")


@dataclass(frozen=True)
class Param:
    """One chapter parameter.

    ``kind`` is ``int``, ``float``, ``str``, ``bool`` or ``list`` (a comma-separated string on the
    command line, items of ``item``); ``default`` is the value for every profile unless
    ``by_profile`` names another; ``choices``/``low``/``high`` restrict values (list items too).

    A method's own parameter names the config fields it sets in ``targets``, ``(method, field)``
    pairs, and then has no ``default`` of its own: the method's config dataclass
    (e.g. :class:`sslts.methods.simclr.SimCLRConfig`) is the one place its default lives.
    """

    kind: type
    default: Any
    help: str
    item: type = str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    pattern: str | None = None
    odd: bool = False
    check: Callable[[Any], Any] | None = None  # extra validation; raises ValueError/TypeError
    by_profile: dict[str, Any] = field(default_factory=dict)
    targets: tuple[tuple[str, str], ...] = ()

    def default_for(self, profile: str) -> Any:
        if profile in self.by_profile:
            return self.by_profile[profile]
        return self.method_default() if self.targets else self.default

    def method_default(self) -> Any:
        """The default of the first target field, read from its method's config dataclass."""
        import dataclasses

        from ..methods import METHODS  # imports torch, so only when a method chapter resolves

        method, name = self.targets[0]
        return next(f.default for f in dataclasses.fields(METHODS[method].config_class) if f.name == name)

    def allowed(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(map(str, self.choices))
        if self.low is not None or self.high is not None:
            odd = "odd " if self.odd else ""
            return f"{odd}{self.kind.__name__ if self.kind is not list else self.item.__name__} in [{self.low}, {self.high}]"
        if self.pattern is not None:
            return f"a name matching {self.pattern}"
        return f"a {self.kind.__name__}"


def method_param(targets: str, kind: type, help: str, **limits: Any) -> Param:
    """A chapter parameter that sets the config fields ``targets`` (``"method.field"``, comma-separated).

    Its default is the method's (see :class:`Param`); ``limits`` are :class:`Param`'s checks.

    >>> method_param("vibcreg.cov_weight", float, "weight").targets
    (('vibcreg', 'cov_weight'),)
    """
    pairs = tuple(tuple(t.strip().split(".", 1)) for t in targets.split(","))
    return Param(kind, None, help, targets=pairs, **limits)  # type: ignore[arg-type]


def _coerce_scalar(name: str, spec: Param, kind: type, value: Any) -> Any:
    """``value`` (a string from the command line, or a Python literal) as ``kind``."""
    def fail() -> ParameterError:
        return ParameterError(
            f"Parameter '{name}' must be {spec.allowed()} ({spec.help}); got {value!r} "
            f"of type {type(value).__name__}."
        )

    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "false", "0", "no"):
            return value.lower() in ("true", "1", "yes")
        raise fail()
    if kind is int:
        if isinstance(value, bool):
            raise fail()
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
            return int(value)
        raise fail()
    if kind is float:
        if isinstance(value, bool):
            raise fail()
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise fail() from None
        raise fail()
    if not isinstance(value, str):
        raise fail()
    return value


def coerce(name: str, spec: Param, value: Any) -> Any:
    """Convert and check one value; raises :class:`ParameterError` naming the parameter."""
    if spec.kind is list:
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",") if v.strip()]
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise ParameterError(
                f"Parameter '{name}' must be a list or a comma-separated string of {spec.item.__name__} "
                f"({spec.help}); got {value!r}."
            )
        if not items:
            raise ParameterError(f"Parameter '{name}' must not be empty ({spec.help}).")
        result = [_check(name, spec, _coerce_scalar(name, spec, spec.item, v)) for v in items]
        return result
    return _check(name, spec, _coerce_scalar(name, spec, spec.kind, value))


def _check(name: str, spec: Param, value: Any) -> Any:
    out_of_range = (
        (spec.choices is not None and value not in spec.choices)
        # "not >=" rather than "<" so that NaN (which compares False with everything) is rejected
        or (spec.low is not None and not value >= spec.low)
        or (spec.high is not None and not value <= spec.high)
        or (spec.pattern is not None and re.fullmatch(spec.pattern, value) is None)
        or (spec.odd and value % 2 == 0)
    )
    if out_of_range:
        raise ParameterError(f"Parameter '{name}' must be {spec.allowed()} ({spec.help}); got {value!r}.")
    if spec.check is not None:
        try:
            spec.check(value)
        except (ValueError, TypeError) as error:
            raise ParameterError(f"Parameter '{name}' ({spec.help}) is invalid: {error}") from None
    return value
