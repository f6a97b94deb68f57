"""Vector quantisation of a latent sequence: nearest code, straight-through gradient, EMA codebook.

van den Oord, Vinyals & Kavukcuoglu (2017), "Neural Discrete Representation Learning", NeurIPS
(VQ-VAE). A latent sequence ``z_e`` of shape ``(B, D, T)`` is replaced, position by position, by
its nearest codeword of a codebook ``E`` of ``K`` vectors in ``R^D``::

    k(b, t) = argmin_k ||z_e[b, :, t] - E_k||^2          z_q[b, :, t] = E_{k(b, t)}

The argmin has no gradient, so the decoder's gradient is copied to the encoder unchanged
(straight-through estimator): ``z_st = z_e + sg(z_q - z_e)``, whose value is ``z_q`` and whose
gradient w.r.t. ``z_e`` is the identity.

**Codebook update: exponential moving averages (the paper's appendix A.1), not a codebook loss.**
Each codeword tracks the EMA of the count ``N_k`` and sum ``m_k`` of the encoder vectors assigned
to it, ``E_k = m_k / N_k`` (with Laplace smoothing of ``N``, so a code that receives nothing never
divides by zero). Why: the EMA update has no learning rate to tune against the encoder's and was
reported to converge faster and more stably (van den Oord et al. 2017, A.1; TimeVQVAE, Lee et al.
2023, uses it too). The encoder still pays the **commitment loss**
``beta * ||z_e - sg(z_q)||^2`` (``beta = 0.25`` in the paper), so its outputs stay near the codes.

**Against codebook collapse, both remedies** (each optional, both on in
:class:`~sslts.vqvae.config.VQVAEConfig`; without them a CPU-sized run used 2-3 of 32 codes after
one epoch, because codewords drawn from ``N(0, I)`` lie far from the encoder's outputs and only
the nearest few ever receive vectors):

- **k-means initialisation** (``kmeans_init``): the first training batch's encoder vectors are
  clustered by Lloyd's algorithm (:func:`kmeans`, ``KMEANS_ITERS`` iterations from a k-means++
  start) and the codebook starts at the centres, with the cluster sizes as EMA counts
  (Łańcucki et al. 2020, "Robust Training of Vector Quantized Bottleneck Models", IJCNN, which
  also re-runs k-means; we initialise once);
- **dead-code restart** (``dead_threshold``): after each EMA update, a code whose EMA count fell
  below ``dead_threshold`` (vectors per batch; 1.0 as in Jukebox, Dhariwal et al. 2020) is moved
  to a random encoder vector of the current batch, with count ``dead_threshold``, so a code that
  receives nothing for a while (a count of ``N`` decays below the threshold after about
  ``log(threshold / N) / log(decay)`` batches) rejoins where the data are.

Their random draws come from the global RNG, which the training loop seeds from the config.

The EMA state changes only in training mode and only inside :meth:`VectorQuantizer.forward`;
the pure functions :func:`nearest_codes`, :func:`code_usage`, :func:`perplexity` and
:func:`kmeans` do the sums.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["KMEANS_ITERS", "VectorQuantizer", "code_usage", "kmeans", "nearest_codes", "perplexity"]

KMEANS_ITERS = 10  # Lloyd iterations of the codebook initialisation


def nearest_codes(z: Tensor, codebook: Tensor) -> Tensor:
    """Index of the nearest codeword (squared Euclidean distance) for each row of ``z``.

    Args:
        z: ``(N, D)`` vectors. codebook: ``(K, D)`` codewords.

    Returns:
        ``(N,)`` int64 indices in ``[0, K)``; ties go to the smallest index (``argmin``).

    Raises:
        ValueError: if the shapes are not ``(N, D)`` and ``(K, D)`` with the same ``D``.

    Example:
        >>> nearest_codes(torch.tensor([[0.9], [-0.2], [5.0]]), torch.tensor([[0.0], [1.0], [3.0]]))
        tensor([1, 0, 2])
    """
    if z.ndim != 2 or codebook.ndim != 2 or z.shape[1] != codebook.shape[1]:
        raise ValueError(f"z must be (N, D) and codebook (K, D) with the same D, got {tuple(z.shape)} "
                         f"and {tuple(codebook.shape)}")
    # ||z - e||^2 = ||z||^2 - 2 z.e + ||e||^2; the ||z||^2 term does not change the argmin.
    distances = codebook.pow(2).sum(1)[None, :] - 2.0 * z @ codebook.T  # (N, K)
    return distances.argmin(dim=1)


def code_usage(indices: Tensor, num_codes: int) -> Tensor:
    """Share of positions assigned to each code: ``(K,)`` float, summing to 1.

    Raises:
        ValueError: if ``indices`` is empty or holds a value outside ``[0, num_codes)``.
    """
    flat = indices.reshape(-1)
    if flat.numel() == 0:
        raise ValueError("indices is empty: code usage needs at least one position")
    if int(flat.min()) < 0 or int(flat.max()) >= num_codes:
        raise ValueError(f"indices must lie in [0, {num_codes}), got values in "
                         f"[{int(flat.min())}, {int(flat.max())}]")
    return torch.bincount(flat, minlength=num_codes).float() / flat.numel()


def perplexity(usage: Tensor) -> float:
    """Perplexity ``exp(-sum_k p_k log p_k)`` of a code-usage distribution ``p`` (``(K,)``).

    It is the effective number of codes in use: ``K`` for uniform usage, 1 when one code takes
    every position (terms with ``p_k = 0`` count as 0).

    Example:
        >>> round(perplexity(torch.full((8,), 1 / 8)), 9)
        8.0
    """
    p = usage[usage > 0].double()  # float64: uniform usage gives K to the last digit
    return float(torch.exp(-(p * p.log()).sum()))


def kmeans(z: Tensor, k: int, iters: int = KMEANS_ITERS, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Lloyd's k-means on the rows of ``z``, started by k-means++ (Arthur & Vassilvitskii 2007).

    The start: a uniformly drawn row, then each next centre a row drawn with probability
    proportional to its squared distance to the nearest centre so far (a row already chosen has
    probability 0; when every row coincides with a centre, uniformly). Each iteration then assigns
    every row to its nearest centre (:func:`nearest_codes`) and moves each centre to the mean of its
    rows; a centre with no rows stays where it is.

    Args:
        z: ``(N, D)`` vectors, ``N >= 1``. k: number of centres. iters: iterations (>= 0).
        generator: source of the starting rows (the global RNG when ``None``).

    Returns:
        ``(centres (k, D), counts (k,))``: the centres and how many rows each has after the last
        assignment.

    Example:
        >>> z = torch.tensor([[0.0], [0.2], [10.0], [10.2]])
        >>> centres, counts = kmeans(z, 2, generator=torch.Generator().manual_seed(0))
        >>> sorted(round(c, 6) for c in centres[:, 0].tolist()), counts.tolist()
        ([0.1, 10.1], [2.0, 2.0])
    """
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"z must be a non-empty (N, D) tensor, got {tuple(z.shape)}")
    centres = _kmeans_plus_plus(z, k, generator)  # (k, D)
    counts = torch.zeros(k, dtype=z.dtype, device=z.device)
    for _ in range(iters + 1):
        one_hot = F.one_hot(nearest_codes(z, centres), k).type_as(z)  # (N, k)
        counts = one_hot.sum(0)  # (k,)
        if _ == iters:
            break
        sums = one_hot.T @ z  # (k, D)
        centres = torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], centres)
    return centres, counts


def _kmeans_plus_plus(z: Tensor, k: int, generator: torch.Generator | None) -> Tensor:
    """k-means++ starting centres ``(k, D)`` of the rows of ``z`` ``(N, D)`` (draws on the CPU)."""
    zc = z.detach().cpu().double()
    chosen = [int(torch.randint(zc.shape[0], (1,), generator=generator))]
    nearest = ((zc - zc[chosen[0]]) ** 2).sum(1)  # (N,) squared distance to the nearest centre
    for _ in range(k - 1):
        weights = nearest if nearest.sum() > 0 else torch.ones_like(nearest)
        chosen.append(int(torch.multinomial(weights, 1, generator=generator)))
        nearest = torch.minimum(nearest, ((zc - zc[chosen[-1]]) ** 2).sum(1))
    return z[torch.tensor(chosen, device=z.device)].clone()


class VectorQuantizer(nn.Module):
    """Codebook of ``num_codes`` vectors of size ``dim`` with EMA updates and a commitment loss.

    Args:
        num_codes: ``K``, codebook size (>= 2).
        dim: ``D``, code width, the encoder's latent channels.
        beta: commitment-loss weight (0.25, van den Oord et al. 2017).
        decay: EMA decay of counts and sums (0.99 in the paper's appendix). 0 makes each training
            batch's cluster means the codewords.
        eps: Laplace smoothing of the counts.
        kmeans_init: start the codebook at k-means centres of the first training batch (see module).
        dead_threshold: restart codes whose EMA count falls below this many vectors per batch at
            random vectors of the batch; 0 never restarts (see module).

    Shapes::

        z_e (B, D, T) -> z_q (B, D, T) straight-through, indices (B, T) int64,
        terms {"commitment": (), "perplexity": float}

    Raises:
        ValueError: on a bad size or weight (the message says which and what is allowed).

    Example:
        >>> vq = VectorQuantizer(4, 2).eval()
        >>> z_q, idx, terms = vq(torch.randn(3, 2, 5))
        >>> z_q.shape, idx.shape
        (torch.Size([3, 2, 5]), torch.Size([3, 5]))
    """

    def __init__(self, num_codes: int, dim: int, beta: float = 0.25, decay: float = 0.99,
                 eps: float = 1e-5, kmeans_init: bool = False, dead_threshold: float = 0.0) -> None:
        super().__init__()
        if isinstance(num_codes, bool) or not isinstance(num_codes, int) or num_codes < 2:
            raise ValueError(f"num_codes must be an int >= 2, got {num_codes!r}")
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        if not (math.isfinite(beta) and beta >= 0):
            raise ValueError(f"beta (commitment weight) must be a finite number >= 0, got {beta!r}")
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1), got {decay!r}; 0.99 is the paper's value")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        if not (math.isfinite(dead_threshold) and dead_threshold >= 0):
            raise ValueError(f"dead_threshold must be a finite number >= 0, got {dead_threshold!r}")
        self.kmeans_init, self.dead_threshold = bool(kmeans_init), float(dead_threshold)
        self.restarts = 0  # codes restarted so far (a count for the run record)
        self.num_codes, self.dim, self.beta, self.decay, self.eps = num_codes, dim, beta, decay, eps
        # Codewords start as draws from the global RNG; the caller seeds it (the run functions do).
        init = torch.randn(num_codes, dim)
        self.register_buffer("codebook", init.clone())          # (K, D)
        self.register_buffer("ema_count", torch.ones(num_codes))  # (K,)
        self.register_buffer("ema_sum", init.clone())            # (K, D)
        # Whether the codebook still waits for its k-means start (a buffer: saved with the weights).
        self.register_buffer("needs_init", torch.tensor(self.kmeans_init))

    def set_codebook(self, codebook: Tensor) -> None:
        """Replace the codewords (and reset the EMA state to them), e.g. with a hand-made codebook."""
        if tuple(codebook.shape) != (self.num_codes, self.dim):
            raise ValueError(f"codebook must be ({self.num_codes}, {self.dim}), got {tuple(codebook.shape)}")
        with torch.no_grad():
            self.codebook.copy_(codebook)
            self.ema_sum.copy_(codebook)
            self.ema_count.fill_(1.0)
            self.needs_init.fill_(False)  # a codebook set by hand is not overwritten by k-means

    def lookup(self, indices: Tensor) -> Tensor:
        """Codewords of ``indices`` ``(B, T)`` as a latent sequence ``(B, D, T)``."""
        return F.embedding(indices, self.codebook).transpose(1, 2)  # (B, T, D) -> (B, D, T)

    def forward(self, z_e: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor | float]]:
        """Quantise ``z_e`` ``(B, D, T)``; in training mode also update the codebook by EMA."""
        if z_e.ndim != 3 or z_e.shape[1] != self.dim:
            raise ValueError(f"z_e must be (B, {self.dim}, T), got {tuple(z_e.shape)}")
        b, d, t = z_e.shape
        flat = z_e.detach().transpose(1, 2).reshape(-1, d).float()  # (B*T, D)
        if self.training and bool(self.needs_init):
            self._kmeans_start(flat)
        indices = nearest_codes(flat, self.codebook)  # (B*T,)
        if self.training:
            self._ema_update(flat, indices)
            if self.dead_threshold > 0:
                self._restart_dead(flat)
        z_q = self.lookup(indices.view(b, t)).to(z_e.dtype)  # (B, D, T), after the update, as in the paper
        commitment = self.beta * F.mse_loss(z_e, z_q.detach())
        z_st = z_e + (z_q - z_e).detach()  # value z_q, gradient identity to z_e
        usage = code_usage(indices, self.num_codes)
        return z_st, indices.view(b, t), {"commitment": commitment, "perplexity": perplexity(usage)}

    @torch.no_grad()
    def _ema_update(self, flat: Tensor, indices: Tensor) -> None:
        """``N_k <- g N_k + (1-g) n_k``, ``m_k <- g m_k + (1-g) sum_{i: k(i)=k} z_i``, ``E_k = m_k / N~_k``."""
        one_hot = F.one_hot(indices, self.num_codes).type_as(flat)  # (N, K)
        self.ema_count.mul_(self.decay).add_(one_hot.sum(0), alpha=1 - self.decay)
        self.ema_sum.mul_(self.decay).add_(one_hot.T @ flat, alpha=1 - self.decay)
        total = self.ema_count.sum()
        smoothed = (self.ema_count + self.eps) / (total + self.num_codes * self.eps) * total  # (K,)
        self.codebook.copy_(self.ema_sum / smoothed[:, None])

    @torch.no_grad()
    def _kmeans_start(self, flat: Tensor) -> None:
        """Codebook = k-means centres of ``flat`` ``(N, D)``; EMA counts = cluster sizes (sums to match)."""
        centres, counts = kmeans(flat, self.num_codes)
        self.codebook.copy_(centres)
        self.ema_count.copy_(counts)
        self.ema_sum.copy_(centres * counts[:, None])
        self.needs_init.fill_(False)

    @torch.no_grad()
    def _restart_dead(self, flat: Tensor) -> None:
        """Move codes whose EMA count is below ``dead_threshold`` to random rows of ``flat`` ``(N, D)``."""
        dead = (self.ema_count < self.dead_threshold).nonzero().flatten()  # (n_dead,)
        if dead.numel() == 0:
            return
        rows = torch.randint(flat.shape[0], (dead.numel(),), device="cpu").to(flat.device)
        self.codebook[dead] = flat[rows]
        self.ema_count[dead] = self.dead_threshold
        self.ema_sum[dead] = flat[rows] * self.dead_threshold
        self.restarts += int(dead.numel())
