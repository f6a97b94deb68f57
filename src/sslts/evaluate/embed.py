"""Turn series into embeddings with a frozen encoder: the one bridge from torch to the protocols.

Every evaluation in the library goes through :func:`embed`, so it accepts whatever an SSL method
exposes: an object with ``encode(x) -> (B, D)`` (the method contract), a plain ``nn.Module`` or any
callable. Gradients are off and modules run in eval mode; the caller's module comes back in the
mode and on the device it had before the call.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor, nn

from ..policies import resolve_device


def _encode_fn(encoder: Any) -> Callable[[Tensor], Tensor]:
    # ``encode`` first: an SSL method is usually an nn.Module whose forward computes a loss.
    encode = getattr(encoder, "encode", None)
    if callable(encode):
        return encode
    if callable(encoder):
        return encoder
    raise TypeError(
        "encoder must be an nn.Module, an object with encode(x) -> (B, D) or a callable, "
        f"got {type(encoder).__name__}"
    )


def _module_device(module: nn.Module) -> torch.device | None:
    first = next(module.parameters(), None)
    if first is None:
        first = next(module.buffers(), None)
    return None if first is None else first.device


def embed(
    encoder: Any,
    X: np.ndarray,
    batch_size: int = 256,
    device: str | torch.device | None = None,
) -> np.ndarray:
    """Embed a set of series with a frozen encoder.

    Args:
        encoder: an object with ``encode(x: Tensor(B, C, L)) -> Tensor(B, D)`` (used in preference
            to ``forward``), an ``nn.Module`` mapping ``(B, C, L) -> (B, D)``, or a callable doing so.
            When it is an ``nn.Module`` it is put in eval mode and moved to ``device`` for the call;
            afterwards every submodule gets back its own train/eval flag and the module goes back
            to the device it was on (so the caller sees no change).
        X: ``(n, C, L)`` series (cast to float32; the array itself is never modified).
        batch_size: series per forward pass (memory only; results do not depend on it in eval mode).
        device: where to compute; CUDA when available and the CPU otherwise if None.

    Returns:
        ``(n, D)`` float32 embeddings, row ``i`` for ``X[i]``.

    Raises:
        TypeError: if ``encoder`` is neither a module, nor has ``encode``, nor is callable.
        ValueError: if ``X`` is not a non-empty 3-D array, ``batch_size < 1``, or the encoder does
            not return one 2-D row per input series.

    Example:
        >>> enc = nn.Sequential(nn.Flatten(), nn.Linear(8, 3))
        >>> embed(enc, np.zeros((5, 2, 4), dtype=np.float32)).shape
        (5, 3)
    """
    fn = _encode_fn(encoder)
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[0] == 0:
        raise ValueError(f"X must be a non-empty (n, C, L) array, got shape {X.shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    dev = resolve_device(device)

    module = encoder if isinstance(encoder, nn.Module) else None
    modes = {} if module is None else {m: m.training for m in module.modules()}
    home = None if module is None else _module_device(module)
    outputs = []
    try:
        if module is not None:
            module.eval()
            if home is not None and home != dev:
                module.to(dev)
        with torch.no_grad():
            for start in range(0, X.shape[0], batch_size):
                batch = np.ascontiguousarray(X[start : start + batch_size], dtype=np.float32)
                xb = torch.from_numpy(batch).to(dev)  # (b, C, L)
                zb = fn(xb)  # (b, D)
                if not isinstance(zb, Tensor) or zb.ndim != 2 or zb.shape[0] != xb.shape[0]:
                    shape = tuple(zb.shape) if isinstance(zb, Tensor) else type(zb).__name__
                    raise ValueError(
                        f"the encoder must return a (B, D) tensor; for B={xb.shape[0]} got {shape}"
                    )
                outputs.append(zb.detach().float().cpu().numpy())
    finally:
        if module is not None:
            if home is not None and home != dev:
                module.to(home)
            for m, was_training in modes.items():
                m.training = was_training  # per submodule, not train(): restores mixed modes exactly
    return np.concatenate(outputs, axis=0)
