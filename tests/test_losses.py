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


def test_nt_xent_hand_value_with_a_negative_as_close_as_the_positive():
    # Views a1 = e1, a2 = e2, b1 = e1, b2 = e1 (tau = 1); each anchor's denominator sums the other three:
    #   a1: pos b1 (cos 1), negs a2 (0), b2 (1) -> -log(e / (1 + 2e))   = log(1 + 2e) - 1
    #   b1: pos a1 (cos 1), negs a2 (0), b2 (1) -> the same            = log(1 + 2e) - 1
    #   a2: pos b2 (cos 0), negs a1 (0), b1 (0) -> -log(1 / 3)          = log 3
    #   b2: pos a2 (cos 0), negs a1 (1), b1 (1) -> -log(1 / (1 + 2e))   = log(1 + 2e)
    z1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    z2 = torch.tensor([[1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    expected = (3 * math.log(1 + 2 * math.e) - 2 + math.log(3)) / 4
    assert nt_xent(z1, z2, temperature=1.0).item() == pytest.approx(expected, rel=1e-12)
    assert nt_xent_loop(z1, z2, 1.0) == pytest.approx(expected, rel=1e-12)


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


def test_nt_xent_does_not_mutate_its_inputs():
    z1, z2 = _randn(4, 3, seed=3), _randn(4, 3, seed=4)
    before1, before2 = z1.clone(), z2.clone()
    nt_xent(z1, z2)
    assert torch.equal(z1, before1) and torch.equal(z2, before2)


# ---------------------------------------------------------------- VICReg
def test_invariance_term_hand_value():
    z1 = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    z2 = torch.tensor([[1.0, 0.0], [1.0, 3.0]])
    assert invariance_term(z1, z2).item() == pytest.approx((1 + 0 + 0 + 4) / 4)


def test_variance_term_hinge_is_zero_above_the_target_and_linear_below():
    # Both columns of 3 * DESIGN are a permutation of (3, 3, -3, -3): mean 0, unbiased var 36 / 3 = 12.
    z = 3.0 * DESIGN.double()
    assert variance_term(z).item() == 0.0  # sqrt(12 + 1e-4) ~ 3.46 > 1
    assert variance_term(z, target_std=10.0).item() == pytest.approx(10 - math.sqrt(12 + 1e-4), rel=1e-12)
    assert variance_term(z, target_std=10.0, eps=0.0).item() == pytest.approx(10 - math.sqrt(12), rel=1e-12)


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
    # Exact equality: the loss is eq. 6 summed left to right, so refactors cannot move its last bit.
    loss, terms = vicreg_loss(z1, z2, sim_weight=2.0, var_weight=3.0, cov_weight=0.5, target_std=1.5, eps=1e-3)
    inv = invariance_term(z1, z2)
    var = variance_term(z1, 1.5, 1e-3) + variance_term(z2, 1.5, 1e-3)
    cov = covariance_term(z1) + covariance_term(z2)
    assert list(terms) == ["invariance", "variance", "covariance"]
    assert torch.equal(terms["invariance"], inv) and torch.equal(terms["variance"], var)
    assert torch.equal(terms["covariance"], cov)
    assert torch.equal(loss, 2.0 * inv + 3.0 * var + 0.5 * cov)
    default_loss, t = vicreg_loss(z1, z2)  # paper defaults 25 / 25 / 1
    assert torch.equal(default_loss, 25.0 * t["invariance"] + 25.0 * t["variance"] + 1.0 * t["covariance"])


# z1's columns (0, 1, 2) and (0, 2, 1) have std 1 and covariance 1/2 (correlation 1/2); z2's two columns
# are both (0, 0.5, 1): std 1/2, covariance 1/4, correlation 1. Used by the VICReg and VIbCReg hand values.
Z1_HAND = torch.tensor([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0]], dtype=torch.float64)
Z2_HAND = torch.tensor([[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]], dtype=torch.float64)
# s = differences (0, 0), (0.5, 1.5), (1, 0) -> (0.25 + 2.25 + 1) / 6 = 7/12.
# v = relu(1 - sqrt(1 + 1e-4)) for z1 (0) + relu(1 - sqrt(0.25 + 1e-4)) for z2, the same in both columns.
HAND_INVARIANCE, HAND_VARIANCE = 7 / 12, 1 - math.sqrt(0.25 + 1e-4)


@pytest.mark.parametrize(
    "loss_fn, cov_weight, covariance",
    [
        # VICReg: c(z1) = 2 * (1/2)^2 / 2 = 1/4; c(z2) = 2 * (1/4)^2 / 2 = 1/16.
        (vicreg_loss, 1.0, 1 / 4 + 1 / 16),
        # VIbCReg, the same s and v: c_n(z1) = 2 * (1/2)^2 / 2^2 = 1/8, c_n(z2) = 2 * 1^2 / 2^2 = 1/2.
        (vibcreg_loss, 200.0, 1 / 8 + 1 / 2),
    ],
    ids=["vicreg", "vibcreg"],
)
def test_vicreg_and_vibcreg_hand_values(loss_fn, cov_weight, covariance):
    loss, terms = loss_fn(Z1_HAND, Z2_HAND)
    assert terms["invariance"].item() == pytest.approx(HAND_INVARIANCE, rel=1e-12)
    assert terms["variance"].item() == pytest.approx(HAND_VARIANCE, rel=1e-12)
    assert terms["covariance"].item() == pytest.approx(covariance, rel=1e-12)
    expected = 25 * HAND_INVARIANCE + 25 * HAND_VARIANCE + cov_weight * covariance
    assert loss.item() == pytest.approx(expected, rel=1e-12)


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


def test_barlow_loss_hand_value_for_a_redundant_view():
    # z2 copies z1's first column into both of its columns: standardised, every entry is +-1 / sqrt(1 + eps),
    # so C = k * [[1, 1], [0, 0]] with k = 1 / (1 + eps) (z1's second column is orthogonal to both).
    # on_diag = (1 - k)^2 + (1 - 0)^2, off_diag = k^2 + 0^2, loss = on_diag + 5e-3 * off_diag.
    z1 = DESIGN.double()
    z2 = z1[:, [0, 0]]
    k = 1 / (1 + 1e-5)
    loss, terms = barlow_twins_loss(z1, z2)
    assert terms["on_diag"].item() == pytest.approx((1 - k) ** 2 + 1, rel=1e-12)
    assert terms["off_diag"].item() == pytest.approx(k**2, rel=1e-12)
    assert loss.item() == pytest.approx((1 - k) ** 2 + 1 + 5e-3 * k**2, rel=1e-12)


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
    assert torch.equal(terms["invariance"], vic["invariance"])
    assert torch.equal(terms["variance"], vic["variance"])
    cov = normalized_covariance_term(z1) + normalized_covariance_term(z2)
    assert torch.equal(terms["covariance"], cov)
    assert torch.equal(loss, 25.0 * terms["invariance"] + 25.0 * terms["variance"] + 200.0 * cov)


# ---------------------------------------------------------------- input validation
PAIR_LOSSES = [
    lambda a, b: nt_xent(a, b),
    invariance_term,
    lambda a, b: vicreg_loss(a, b)[0],
    lambda a, b: barlow_twins_loss(a, b)[0],
    lambda a, b: vibcreg_loss(a, b)[0],
]


@pytest.mark.parametrize("loss_fn", PAIR_LOSSES)
def test_pair_losses_gradients_match_finite_differences(loss_fn):
    z1 = _randn(5, 3, seed=20).requires_grad_()
    z2 = (0.5 * _randn(5, 3, seed=21)).requires_grad_()  # stds ~0.5: VICReg's variance hinge is active
    assert torch.autograd.gradcheck(loss_fn, (z1, z2))


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
