"""Tests for sslts.losses: hand values, a loop version of NT-Xent from the paper, closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sslts.losses import (
    barlow_twins_loss,
    covariance_term,
    cross_correlation,
    invariance_term,
    normalized_covariance_term,
    nt_xent,
    variance_term,
    vibcreg_loss,
    vicreg_loss,
)

# Two orthogonal, standardised (mean 0, biased std 1) columns: a 2^2 factorial design.
DESIGN = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])


def _randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def nt_xent_loop(z1: torch.Tensor, z2: torch.Tensor, tau: float) -> float:
    """NT-Xent written from Chen et al. (2020), Algorithm 1: views interleaved as 2k-1, 2k."""
    n = z1.shape[0]
    views = []
    for k in range(n):  # the paper's ordering: the two views of sample k sit next to each other
        views += [z1[k].tolist(), z2[k].tolist()]

    def sim(u: list[float], v: list[float]) -> float:
        dot = sum(a * b for a, b in zip(u, v))
        return dot / (math.sqrt(sum(a * a for a in u)) * math.sqrt(sum(b * b for b in v)))

    def ell(i: int, j: int) -> float:
        denom = sum(math.exp(sim(views[i], views[k]) / tau) for k in range(2 * n) if k != i)
        return -math.log(math.exp(sim(views[i], views[j]) / tau) / denom)

    return sum(ell(2 * k, 2 * k + 1) + ell(2 * k + 1, 2 * k) for k in range(n)) / (2 * n)


# ---------------------------------------------------------------- NT-Xent
def test_nt_xent_hand_value_identity_views():
    # Anchor e1: positive cos 1, two negatives cos 0 -> -log(e^(1/t) / (e^(1/t) + 2)).
    z = torch.eye(2)
    assert nt_xent(z, z, temperature=1.0).item() == pytest.approx(math.log(math.e + 2) - 1, abs=1e-6)
    assert nt_xent(z, z, temperature=0.5).item() == pytest.approx(math.log(math.e**2 + 2) - 2, abs=1e-6)


@pytest.mark.parametrize("n, d, tau", [(2, 3, 0.5), (3, 5, 0.1), (4, 2, 1.0)])
def test_nt_xent_matches_loop_version_of_paper(n, d, tau):
    z1, z2 = _randn(n, d, seed=n), _randn(n, d, seed=10 + n)
    assert nt_xent(z1, z2, tau).item() == pytest.approx(nt_xent_loop(z1, z2, tau), rel=1e-9)


@pytest.mark.parametrize("n", [2, 3, 8])
def test_nt_xent_collapsed_batch_is_log_2n_minus_1(n):
    z = torch.ones(n, 4) * 3.0
    assert nt_xent(z, z.clone(), temperature=0.5).item() == pytest.approx(math.log(2 * n - 1), abs=1e-5)


def test_nt_xent_symmetric_and_scale_invariant():
    z1, z2 = _randn(5, 3, seed=1), _randn(5, 3, seed=2)
    base = nt_xent(z1, z2)
    assert nt_xent(z2, z1).item() == pytest.approx(base.item(), rel=1e-12)
    assert nt_xent(4.0 * z1, 0.5 * z2).item() == pytest.approx(base.item(), rel=1e-12)
    perm = torch.tensor([3, 0, 4, 1, 2])  # relabelling the samples consistently changes nothing
    assert nt_xent(z1[perm], z2[perm]).item() == pytest.approx(base.item(), rel=1e-12)


def test_nt_xent_decreases_as_positives_align():
    # z1_i = e_i, z2_i = cos(a) e_i + sin(a) e_{N+i}: every non-positive similarity stays 0, the positive
    # one is cos(a), so L = -log(e^(cos a / t) / (e^(cos a / t) + 2N - 2)) exactly.
    n, tau = 3, 0.5
    eye = torch.eye(2 * n, dtype=torch.float64)
    losses = []
    for angle in np.linspace(np.pi / 2, 0.0, 7):
        z1 = eye[:n]
        z2 = math.cos(angle) * eye[:n] + math.sin(angle) * eye[n:]
        loss = nt_xent(z1, z2, tau).item()
        c = math.cos(angle) / tau
        assert loss == pytest.approx(-math.log(math.exp(c) / (math.exp(c) + 2 * n - 2)), abs=1e-9)
        losses.append(loss)
    assert all(a > b for a, b in zip(losses, losses[1:]))


def test_nt_xent_does_not_mutate_and_backpropagates():
    z1 = _randn(4, 3, seed=3).requires_grad_()
    z2 = _randn(4, 3, seed=4)
    before = z2.clone()
    nt_xent(z1, z2).backward()
    assert torch.equal(z2, before)
    assert z1.grad is not None and torch.isfinite(z1.grad).all() and z1.grad.abs().sum() > 0


# ---------------------------------------------------------------- VICReg
def test_invariance_term_hand_value():
    z1 = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    z2 = torch.tensor([[1.0, 0.0], [1.0, 3.0]])
    assert invariance_term(z1, z2).item() == pytest.approx((1 + 0 + 0 + 4) / 4)


def test_variance_term_zero_when_every_std_exceeds_target():
    z = 3.0 * _randn(64, 6, seed=5)  # stds ~3, far above 1
    assert z.std(dim=0).min() > 1.5
    assert variance_term(z).item() == 0.0
    assert variance_term(z, target_std=10.0).item() > 0  # the same batch now falls short


def test_variance_term_hand_value():
    # Column 0: values (0, 1), unbiased var 0.5. Column 1: constant, var 0 -> std = sqrt(eps) = 0.01.
    z = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    expected = ((1 - math.sqrt(0.5 + 1e-4)) + (1 - 0.01)) / 2
    assert variance_term(z).item() == pytest.approx(expected, abs=1e-6)
    expected_gamma2 = ((2 - math.sqrt(0.5 + 1e-4)) + (2 - 0.01)) / 2
    assert variance_term(z, target_std=2.0).item() == pytest.approx(expected_gamma2, abs=1e-6)


def test_covariance_term_zero_for_decorrelated_features():
    assert covariance_term(DESIGN).item() == pytest.approx(0.0, abs=1e-12)


def test_covariance_term_hand_values():
    # Centred columns (-1, 0, 1) and (-1, 1, 0): off-diagonal covariance 1/2 -> (2 * 0.25) / 2.
    z = torch.tensor([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0]])
    assert covariance_term(z).item() == pytest.approx(0.25, abs=1e-6)
    z = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])  # C = [[2, 2], [2, 2]] -> (4 + 4) / 2
    assert covariance_term(z).item() == pytest.approx(4.0, abs=1e-6)


def test_vicreg_loss_combines_terms_over_both_branches():
    z1, z2 = _randn(16, 5, seed=6), 0.3 * _randn(16, 5, seed=7)
    loss, terms = vicreg_loss(z1, z2, sim_weight=2.0, var_weight=3.0, cov_weight=0.5)
    assert terms["invariance"].item() == pytest.approx(invariance_term(z1, z2).item())
    assert terms["variance"].item() == pytest.approx((variance_term(z1) + variance_term(z2)).item())
    cov = covariance_term(z1) + covariance_term(z2)
    assert terms["covariance"].item() == pytest.approx(cov.item())
    expected = 2.0 * terms["invariance"] + 3.0 * terms["variance"] + 0.5 * terms["covariance"]
    assert loss.item() == pytest.approx(expected.item())
    default_loss, t = vicreg_loss(z1, z2)  # paper defaults 25 / 25 / 1
    expected = 25 * t["invariance"] + 25 * t["variance"] + t["covariance"]
    assert default_loss.item() == pytest.approx(expected.item())


# ---------------------------------------------------------------- Barlow Twins
def test_cross_correlation_is_pearson_correlation():
    z1, z2 = _randn(50, 3, seed=8), _randn(50, 3, seed=9)
    z2 = z2 + z1  # make the views correlated
    expected = np.corrcoef(z1.numpy().T, z2.numpy().T)[:3, 3:]
    np.testing.assert_allclose(cross_correlation(z1, z2, eps=0.0).numpy(), expected, atol=1e-12)
    # The default eps = 1e-5 only shrinks entries by a factor ~ 1 - eps / (2 var).
    np.testing.assert_allclose(cross_correlation(z1, z2).numpy(), expected, atol=1e-4)


def test_barlow_loss_near_zero_for_correlated_decorrelated_views():
    loss, terms = barlow_twins_loss(DESIGN, DESIGN.clone())
    assert loss.item() == pytest.approx(0.0, abs=1e-8)
    assert terms["off_diag"].item() == pytest.approx(0.0, abs=1e-12)


def test_barlow_loss_hand_value_for_swapped_dimensions():
    # Swapping the columns of one view gives C = [[0, 1], [1, 0]]: on_diag = 2, off_diag = 2.
    loss, terms = barlow_twins_loss(DESIGN, DESIGN[:, [1, 0]])
    assert terms["on_diag"].item() == pytest.approx(2.0, abs=1e-4)
    assert terms["off_diag"].item() == pytest.approx(2.0, abs=1e-4)
    assert loss.item() == pytest.approx(2.0 + 5e-3 * 2.0, abs=1e-4)


def test_barlow_loss_positive_for_random_views():
    loss, _ = barlow_twins_loss(_randn(32, 4, seed=10), _randn(32, 4, seed=11))
    assert loss.item() > 1.0  # the diagonal alone is ~ D = 4 for independent views


# ---------------------------------------------------------------- VIbCReg
def test_normalized_covariance_hand_value_and_zero_case():
    z = torch.tensor([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0]])  # correlation 1/2 -> 2 * 0.25 / 2^2
    assert normalized_covariance_term(z).item() == pytest.approx(0.125, abs=1e-6)
    assert normalized_covariance_term(DESIGN).item() == pytest.approx(0.0, abs=1e-12)
    z = torch.tensor([[1.0, 2.0, -3.0], [2.0, 4.0, -6.0], [0.0, 0.0, 0.0]])  # all |corr| = 1
    assert normalized_covariance_term(z).item() == pytest.approx(6 / 9, abs=1e-6)


def test_normalized_covariance_scale_invariant_unlike_vicreg():
    z = _randn(20, 6, seed=12)
    for c in (0.01, 7.0, -3.0):
        assert normalized_covariance_term(c * z).item() == pytest.approx(
            normalized_covariance_term(z).item(), rel=1e-9
        )
    # VICReg's term scales with c^4 (the covariance scales with c^2 and is squared).
    assert covariance_term(7.0 * z).item() == pytest.approx(7.0**4 * covariance_term(z).item(), rel=1e-9)


def test_vibcreg_loss_reuses_vicreg_terms():
    z1, z2 = _randn(16, 5, seed=13), _randn(16, 5, seed=14)
    loss, terms = vibcreg_loss(z1, z2)
    _, vic = vicreg_loss(z1, z2)
    assert terms["invariance"].item() == pytest.approx(vic["invariance"].item())
    assert terms["variance"].item() == pytest.approx(vic["variance"].item())
    cov = normalized_covariance_term(z1) + normalized_covariance_term(z2)
    assert terms["covariance"].item() == pytest.approx(cov.item())
    expected = 25 * terms["invariance"] + 25 * terms["variance"] + 200 * terms["covariance"]
    assert loss.item() == pytest.approx(expected.item())


# ---------------------------------------------------------------- input validation
PAIR_LOSSES = [
    lambda a, b: nt_xent(a, b),
    invariance_term,
    lambda a, b: vicreg_loss(a, b)[0],
    lambda a, b: barlow_twins_loss(a, b)[0],
    lambda a, b: vibcreg_loss(a, b)[0],
]


@pytest.mark.parametrize("loss_fn", PAIR_LOSSES)
def test_pair_losses_reject_bad_inputs(loss_fn):
    good = torch.zeros(4, 3)
    with pytest.raises(ValueError, match=r"z1 must be 2-D \(B, D\), got shape \(4,\)"):
        loss_fn(torch.zeros(4), torch.zeros(4))
    with pytest.raises(ValueError, match=r"same shape, got \(4, 3\) and \(4, 2\)"):
        loss_fn(good, torch.zeros(4, 2))
    with pytest.raises(ValueError, match="at least 2 embeddings, got batch size 1"):
        loss_fn(torch.zeros(1, 3), torch.zeros(1, 3))
    with pytest.raises(TypeError, match="z2 must be a torch.Tensor"):
        loss_fn(good, np.zeros((4, 3)))


@pytest.mark.parametrize("term", [variance_term, covariance_term, normalized_covariance_term])
def test_single_view_terms_reject_bad_inputs(term):
    with pytest.raises(ValueError, match=r"z must be 2-D \(B, D\), got shape \(2, 3, 4\)"):
        term(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="at least 2 embeddings"):
        term(torch.zeros(1, 5))


def test_nt_xent_rejects_non_positive_temperature():
    with pytest.raises(ValueError, match="temperature must be > 0, got 0"):
        nt_xent(torch.eye(2), torch.eye(2), temperature=0)
