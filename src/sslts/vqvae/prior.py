"""The stage-2 prior: a bidirectional Transformer over tokens, conditioned on the class, trained
by masked-token prediction with MaskGIT's cosine schedule.

Chang, Zhang, Jiang, Liu & Freeman (2022), "MaskGIT: Masked Generative Image Transformer", CVPR;
as used for time series by TimeVQVAE (Lee et al. 2023) and NC-VQVAE (Mathisen et al. 2024).

Training: for each series a ratio ``r ~ U(0, 1)`` is drawn and ``ceil(gamma(r) * T)`` of its
``T`` tokens (at least one) are replaced by a ``[MASK]`` id, with ``gamma(r) = cos(pi r / 2)``;
the model predicts the original ids at the masked positions (cross-entropy there only).
Class conditioning is a learned class token prepended to the sequence; with probability
``class_dropout`` it is replaced by a "no class" token, so one network also gives the unconditional
logits that classifier-free guidance needs (Ho & Salimans 2022).

Shapes::

    tokens (B, T) in [0, K] (K = [MASK]), classes (B,) in [0, n_classes] (n_classes = none)
    --> logits (B, T, K)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sslts.encoders import transformer_layers

__all__ = ["MaskedTokenPrior", "mask_ratio", "masked_count", "prior_loss", "random_mask"]


def mask_ratio(r: float) -> float:
    """MaskGIT's cosine schedule ``gamma(r) = cos(pi r / 2)``: the share of tokens masked at ``r``.

    ``gamma(0) = 1`` (all masked), ``gamma(1) = 0``; decreasing in between.

    Raises:
        ValueError: ``r`` outside ``[0, 1]``.

    Example:
        >>> round(mask_ratio(0.5), 6)
        0.707107
    """
    if not 0.0 <= r <= 1.0:
        raise ValueError(f"r must be in [0, 1], got {r!r}")
    return math.cos(math.pi * r / 2)


def masked_count(num_tokens: int, r: float) -> int:
    """Tokens masked for training at ratio ``r``: ``max(1, ceil(gamma(r) * T))``.

    Example:
        >>> [masked_count(10, r) for r in (0.0, 0.5, 1.0)]
        [10, 8, 1]
    """
    if isinstance(num_tokens, bool) or not isinstance(num_tokens, int) or num_tokens < 1:
        raise ValueError(f"num_tokens must be a positive int, got {num_tokens!r}")
    # round() first: cos(pi/2 * r) * T is off by 1e-16 at exact fractions, and ceil would add a token
    return max(1, math.ceil(round(mask_ratio(r) * num_tokens, 9)))


def random_mask(batch: int, num_tokens: int, generator: torch.Generator,
                device: torch.device | str = "cpu") -> Tensor:
    """A training mask ``(B, T)`` (True = masked): per series ``r ~ U(0, 1)``, then
    :func:`masked_count` positions drawn uniformly without replacement.

    All draws come from ``generator`` (on ``device``'s type); the same seed gives the same mask.
    """
    r = torch.rand(batch, generator=generator, device=device)  # (B,)
    counts = torch.tensor([masked_count(num_tokens, float(v)) for v in r.cpu()], device=device)  # (B,)
    noise = torch.rand(batch, num_tokens, generator=generator, device=device)  # (B, T)
    ranks = noise.argsort(dim=1).argsort(dim=1)  # (B, T): a random permutation per row
    return ranks < counts[:, None]


def prior_loss(logits: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
    """Cross-entropy of the true ids at the masked positions only (mean over them).

    Args:
        logits: ``(B, T, K)``. targets: ``(B, T)`` ids in ``[0, K)``. mask: ``(B, T)`` bool, at least
            one True.

    Raises:
        ValueError: on shapes that disagree or an empty mask.
    """
    if logits.shape[:2] != targets.shape or mask.shape != targets.shape:
        raise ValueError(f"logits (B, T, K), targets and mask (B, T) disagree: {tuple(logits.shape)}, "
                         f"{tuple(targets.shape)}, {tuple(mask.shape)}")
    if not bool(mask.any()):
        raise ValueError("mask selects no position: the loss needs at least one masked token")
    return F.cross_entropy(logits[mask], targets[mask])


class MaskedTokenPrior(nn.Module):
    """Bidirectional Transformer predicting masked token ids, conditioned on a class.

    Args:
        num_codes: ``K``, the tokenizer's codebook size; id ``K`` is ``[MASK]``.
        num_tokens: ``T``, tokens per series (positions are learned).
        num_classes: classes; id ``num_classes`` is "no class" (classifier-free guidance).
        dim, depth, heads: Transformer width, layers and attention heads (``dim % heads == 0``).
        dropout: inside the layers. class_dropout: probability of training a series without its class.

    Raises:
        ValueError: a size below 1, ``dim`` not divisible by ``heads`` or a probability outside [0, 1].

    Example:
        >>> prior = MaskedTokenPrior(num_codes=8, num_tokens=5, num_classes=3, dim=16, depth=1, heads=2)
        >>> prior(torch.full((2, 5), 8), torch.tensor([0, 3])).shape
        torch.Size([2, 5, 8])
    """

    def __init__(self, num_codes: int, num_tokens: int, num_classes: int, dim: int = 128, depth: int = 4,
                 heads: int = 4, dropout: float = 0.1, class_dropout: float = 0.1) -> None:
        super().__init__()
        for name, value in (("num_codes", num_codes), ("num_tokens", num_tokens), ("num_classes", num_classes),
                            ("dim", dim), ("depth", depth), ("heads", heads)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if dim % heads:
            raise ValueError(f"dim ({dim}) must be divisible by heads ({heads})")
        for name, p in (("dropout", dropout), ("class_dropout", class_dropout)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {p!r}")
        self.num_codes, self.num_tokens, self.num_classes = num_codes, num_tokens, num_classes
        self.mask_id, self.null_class, self.class_dropout = num_codes, num_classes, class_dropout
        self.token_embedding = nn.Embedding(num_codes + 1, dim)
        self.class_embedding = nn.Embedding(num_classes + 1, dim)
        self.positions = nn.Parameter(torch.randn(num_tokens + 1, dim) * 0.02)  # (1 + T, dim)
        self.layers = transformer_layers(dim, depth, heads, 4 * dim, dropout)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_codes)

    def forward(self, tokens: Tensor, classes: Tensor) -> Tensor:
        """Logits ``(B, T, K)`` of every position's id, given ``tokens`` ``(B, T)`` and ``classes`` ``(B,)``."""
        if tokens.ndim != 2 or tokens.shape[1] != self.num_tokens:
            raise ValueError(f"tokens must be (B, {self.num_tokens}), got {tuple(tokens.shape)}")
        if classes.shape != tokens.shape[:1]:
            raise ValueError(f"classes must be (B,) = ({tokens.shape[0]},), got {tuple(classes.shape)}")
        h = torch.cat([self.class_embedding(classes)[:, None], self.token_embedding(tokens)], dim=1)  # (B, 1+T, dim)
        h = h + self.positions
        for layer in self.layers:
            h = layer(h)
        return self.head(self.norm(h[:, 1:]))  # (B, T, K)

    def training_loss(self, tokens: Tensor, classes: Tensor, generator: torch.Generator) -> tuple[Tensor, dict]:
        """Masked-token loss of a batch of true ids ``(B, T)`` and classes ``(B,)``.

        Draws the mask (:func:`random_mask`) and the class dropout from ``generator``.

        Returns:
            ``(loss, {"masked_share": float, "accuracy": float})``; accuracy of the argmax at the
            masked positions.
        """
        mask = random_mask(tokens.shape[0], tokens.shape[1], generator, tokens.device)  # (B, T)
        drop = torch.rand(classes.shape, generator=generator, device=classes.device) < self.class_dropout
        inputs = tokens.masked_fill(mask, self.mask_id)
        logits = self(inputs, classes.masked_fill(drop, self.null_class))  # (B, T, K)
        loss = prior_loss(logits, tokens, mask)
        with torch.no_grad():
            accuracy = float((logits[mask].argmax(-1) == tokens[mask]).float().mean())
        return loss, {"masked_share": float(mask.float().mean()), "accuracy": accuracy}
