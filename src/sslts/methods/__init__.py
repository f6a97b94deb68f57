"""Self-supervised methods behind one thin protocol, and the registry that names them.

Each method is one short file: :mod:`~sslts.methods.simclr` (Chen et al. 2020),
:mod:`~sslts.methods.vicreg` (Bardes et al. 2022), :mod:`~sslts.methods.barlow` (Zbontar et al.
2021), :mod:`~sslts.methods.vibcreg` (Lee & Aune 2021), :mod:`~sslts.methods.mae` (He et al.
2022), :mod:`~sslts.methods.ssgan` (Chen et al. 2019), :mod:`~sslts.methods.clip` (Radford et al.
2021) and :mod:`~sslts.methods.ttt` (Sun et al. 2020; Gandelsman et al. 2022). The protocol and
the typed config base live in :mod:`~sslts.methods.base`. Build a method by name with
:func:`build_method`.
"""

from __future__ import annotations

from typing import Any, Mapping

from torch import nn

from sslts.methods.barlow import BarlowConfig, BarlowTwins
from sslts.methods.base import MethodConfig, MethodContext, SSLMethod, StepContext
from sslts.methods.clip import CLIP, CLIPConfig
from sslts.methods.mae import MAE, MAEConfig
from sslts.methods.simclr import SimCLR, SimCLRConfig
from sslts.methods.ssgan import SSGAN, SSGANConfig
from sslts.methods.ttt import TTT, TTTConfig
from sslts.methods.vibcreg import VIbCReg, VIbCRegConfig
from sslts.methods.vicreg import VICReg, VICRegConfig

__all__ = [
    "METHODS",
    "build_method",
    "SSLMethod",
    "MethodConfig",
    "MethodContext",
    "StepContext",
    "SimCLR",
    "SimCLRConfig",
    "VICReg",
    "VICRegConfig",
    "BarlowTwins",
    "BarlowConfig",
    "VIbCReg",
    "VIbCRegConfig",
    "MAE",
    "MAEConfig",
    "SSGAN",
    "SSGANConfig",
    "CLIP",
    "CLIPConfig",
    "TTT",
    "TTTConfig",
]

METHODS: dict[str, type[SSLMethod]] = {
    "simclr": SimCLR,
    "vicreg": VICReg,
    "barlow_twins": BarlowTwins,
    "vibcreg": VIbCReg,
    "mae": MAE,
    "ssgan": SSGAN,
    "clip": CLIP,
    "ttt": TTT,
}


def build_method(
    name: str,
    encoder: nn.Module,
    config: MethodConfig | Mapping[str, Any] | None = None,
    context: MethodContext | None = None,
) -> SSLMethod:
    """Build a registered method around ``encoder``.

    Args:
        name: a key of :data:`METHODS`.
        encoder: module ``(B, C, L) -> (B, D)`` with attribute ``out_dim``.
        config: the method's config dataclass, a mapping of overrides (validated by its
            ``from_dict``), or ``None`` for the paper's defaults.
        context: the data's shape and an encoder factory, for methods with ``needs_context``
            (ignored by the others).

    Returns:
        The method, an :class:`SSLMethod` (an ``nn.Module``) owning ``encoder``.

    Raises:
        ValueError: if ``name`` is unknown (the message lists the known names) or a config key is
            unknown or out of range.
        TypeError: if ``config`` has the wrong type or a field has the wrong type.
        ValueError: if the method needs a ``context`` and none is given.

    Example:
        >>> from sslts.encoders import build_encoder
        >>> m = build_method("simclr", build_encoder("cnn", in_channels=1), {"temperature": 0.2})
        >>> m.config.temperature
        0.2
    """
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; known methods are {sorted(METHODS)}")
    cls = METHODS[name]
    if isinstance(config, Mapping):
        config = cls.config_class.from_dict(config)
    if cls.needs_context:
        if context is None:
            raise ValueError(f"method {name!r} needs a MethodContext (input shape and encoder factory)")
        return cls(encoder, config, context=context)
    return cls(encoder, config)
