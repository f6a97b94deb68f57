"""MaskGIT's iterative parallel decoding, with optional classifier-free guidance.

Chang et al. (2022), "MaskGIT: Masked Generative Image Transformer", CVPR, section 3.2. Start
from all unknown positions masked; at step ``s = 0 .. S-1``:

1. predict every position's id distribution (guided: ``l = (1 + w) l_cond - w l_uncond``,
   Ho & Salimans 2022, "Classifier-Free Diffusion Guidance"; ``w = 0`` is the plain prior);
2. sample an id at every still-masked position; its confidence is its log-probability plus
   Gumbel noise scaled by ``t * (1 - (s + 1) / S)`` (MaskGIT's annealed choice temperature);
3. keep the most confident ones and mask the other :func:`remaining_masked` positions again.

Positions given by the caller (``known``) and those fixed at an earlier step never change: their
confidence is infinite. After the last step no position is masked.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .prior import MaskedTokenPrior, mask_ratio

__all__ = ["guided_logits", "maskgit_sample", "remaining_masked"]


def remaining_masked(num_unknown: int, steps: int) -> list[int]:
    """Masked positions left after each of ``steps`` decoding steps, from ``num_unknown``.

    ``n_s = floor(gamma((s + 1) / S) * N)``, kept between 1 and ``n_{s-1} - 1`` (each step fixes at
    least one token while more than one is left; never more than ``n_{s-1}``) except at the last
    step, which leaves 0.

    Example:
        >>> remaining_masked(16, 4)
        [14, 11, 6, 0]
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if num_unknown < 0:
        raise ValueError(f"num_unknown must be >= 0, got {num_unknown!r}")
    counts, previous = [], num_unknown
    for s in range(steps):
        if s == steps - 1:
            n = 0
        else:
            n = math.floor(round(mask_ratio((s + 1) / steps) * num_unknown, 9))
            n = min(previous, max(1, min(previous - 1, n)))
        counts.append(n)
        previous = n
    return counts


def guided_logits(prior: MaskedTokenPrior, tokens: Tensor, classes: Tensor, guidance: float) -> Tensor:
    """``(1 + w) * logits(tokens | class) - w * logits(tokens | no class)``, ``(B, T, K)``."""
    conditional = prior(tokens, classes)
    if guidance == 0:
        return conditional
    unconditional = prior(tokens, torch.full_like(classes, prior.null_class))
    return (1.0 + guidance) * conditional - guidance * unconditional


@torch.no_grad()
def maskgit_sample(prior: MaskedTokenPrior, classes: Tensor, steps: int = 8, temperature: float = 1.0,
                   choice_temperature: float = 4.5, guidance: float = 0.0,
                   generator: torch.Generator | None = None, given: Tensor | None = None,
                   known: Tensor | None = None) -> Tensor:
    """Sample token ids ``(B, T)`` for ``classes`` ``(B,)`` by iterative parallel decoding.

    Args:
        prior: the trained :class:`MaskedTokenPrior` (put in eval mode for the call, then restored).
        classes: ``(B,)`` class ids (``prior.null_class`` for unconditional samples).
        steps: decoding steps ``S`` (MaskGIT: 8-12).
        temperature: softmax temperature of the id distributions (> 0).
        choice_temperature: scale of the Gumbel noise on the confidences (4.5 in MaskGIT), annealed to 0.
        guidance: classifier-free guidance weight ``w >= 0``.
        generator: source of all randomness (on the prior's device type); a fresh seed-0 one if None.
        given: ``(B, T)`` ids to keep where ``known`` is True (e.g. for completion); ignored elsewhere.
        known: ``(B, T)`` bool; required with ``given``.

    Returns:
        ``(B, T)`` int64 ids in ``[0, K)``; equal to ``given`` wherever ``known``.

    Raises:
        ValueError: on a bad temperature, guidance, steps, or ``given``/``known`` shapes.
    """
    device = next(prior.parameters()).device
    b, t = classes.shape[0], prior.num_tokens
    if not temperature > 0 or not choice_temperature >= 0 or not guidance >= 0:
        raise ValueError(f"temperature must be > 0 and choice_temperature, guidance >= 0; got {temperature}, "
                         f"{choice_temperature}, {guidance}")
    if (given is None) != (known is None):
        raise ValueError("given and known go together: pass both or neither")
    if known is None:
        known = torch.zeros(b, t, dtype=torch.bool, device=device)
        given = torch.zeros(b, t, dtype=torch.long, device=device)
    if given.shape != (b, t) or known.shape != (b, t):
        raise ValueError(f"given and known must be (B, T) = ({b}, {t}), got {tuple(given.shape)}, {tuple(known.shape)}")
    if generator is None:
        generator = torch.Generator(device=device).manual_seed(0)
    tokens = torch.where(known, given, torch.full_like(given, prior.mask_id))  # (B, T)
    unknown = (~known).sum(dim=1)  # (B,)
    schedule = torch.tensor([remaining_masked(int(n), steps) for n in unknown.cpu()], device=device).reshape(b, steps)
    was_training = prior.training
    prior.eval()
    try:
        for s in range(steps):
            masked = tokens == prior.mask_id  # (B, T)
            logits = guided_logits(prior, tokens, classes, guidance) / temperature  # (B, T, K)
            probs = logits.float().softmax(dim=-1)
            sampled = torch.multinomial(probs.reshape(b * t, -1), 1, generator=generator).view(b, t)
            confidence = probs.gather(-1, sampled[..., None]).squeeze(-1).clamp_min(1e-30).log()  # (B, T)
            u = torch.rand(b, t, generator=generator, device=device).clamp(1e-20, 1 - 1e-7)
            confidence = confidence + choice_temperature * (1 - (s + 1) / steps) * -torch.log(-torch.log(u))
            confidence = confidence.masked_fill(~masked, math.inf)  # fixed positions are never re-masked
            ranks = confidence.argsort(dim=1).argsort(dim=1)  # (B, T), 0 = least confident
            remask = ranks < schedule[:, s : s + 1]
            tokens = torch.where(masked & ~remask, sampled, tokens)
    finally:
        prior.train(was_training)
    return tokens
