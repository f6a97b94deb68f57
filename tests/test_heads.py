"""Tests for sslts.heads: projection MLP structure and IterNorm whitening."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from sslts.heads import IterNorm, projection_mlp


def _randn(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _cov(y: torch.Tensor) -> torch.Tensor:
    """Biased (1/m) covariance of the columns of y, the normalisation IterNorm whitens to."""
    yc = y - y.mean(dim=0)
    return yc.T @ yc / y.shape[0]


def _correlated(n: int, d: int, seed: int) -> torch.Tensor:
    """Samples with a random full covariance (condition number ~ 10-1000) and a non-zero mean."""
    mix = _randn(d, d, seed=seed + 1, dtype=torch.float64)
    return _randn(n, d, seed=seed, dtype=torch.float64) @ mix + 3.0


# ---------------------------------------------------------------- projection_mlp
def test_projection_mlp_layer_structure():
    kinds = lambda m: [type(layer).__name__ for layer in m]  # noqa: E731
    assert kinds(projection_mlp(8, 16, 4)) == ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert kinds(projection_mlp(8, 16, 4, num_layers=3)) == [
        "Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear",
    ]
    assert kinds(projection_mlp(8, 16, 4, batch_norm=False)) == ["Linear", "ReLU", "Linear"]
    assert kinds(projection_mlp(8, 16, 4, num_layers=1)) == ["Linear"]
    head = projection_mlp(8, 16, 4, num_layers=3, last_bn=True)
    assert isinstance(head[-1], nn.BatchNorm1d) and not head[-1].affine
    linears = [m for m in head if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(8, 16), (16, 16), (16, 4)]


def test_projection_mlp_forward_and_last_bn_standardises():
    head = projection_mlp(8, 16, 4, last_bn=True).train()
    out = head(_randn(64, 8) * 5 + 2)
    assert out.shape == (64, 4)
    torch.testing.assert_close(out.mean(dim=0), torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.var(dim=0, unbiased=False), torch.ones(4), atol=1e-3, rtol=0)


def test_projection_mlp_rejects_bad_sizes():
    with pytest.raises(ValueError, match="num_layers must be >= 1, got 0"):
        projection_mlp(8, 16, 4, num_layers=0)
    with pytest.raises(ValueError, match="dimensions must be positive, got in=8, hidden=0, out=4"):
        projection_mlp(8, 0, 4)


# ---------------------------------------------------------------- IterNorm
def test_iternorm_whitens_each_group_in_train_mode():
    # 4096 samples, two groups of 4; with T = 20 the Newton-Schulz iteration has converged, so
    # each group's output covariance is the identity up to the eps ridge: tolerance 1e-3.
    x = _correlated(4096, 8, seed=0)
    norm = IterNorm(8, num_groups=2, T=20).double().train()
    y = norm(x)
    cov = _cov(y)
    for g in range(2):
        block = cov[4 * g : 4 * g + 4, 4 * g : 4 * g + 4]
        torch.testing.assert_close(block, torch.eye(4, dtype=torch.float64), atol=1e-3, rtol=0)
    torch.testing.assert_close(y.mean(dim=0), torch.zeros(8, dtype=torch.float64), atol=1e-9, rtol=0)
    # Groups are whitened separately: correlation across groups survives.
    assert cov[:4, 4:].abs().max() > 0.05


def test_iternorm_matches_inverse_square_root_from_eigendecomposition():
    x = _correlated(2000, 4, seed=3)
    norm = IterNorm(4, num_groups=1, T=30, eps=0.0, affine=False).double().train()
    y = norm(x)
    xc = x - x.mean(dim=0)
    evals, evecs = torch.linalg.eigh(_cov(x))
    expected = xc @ (evecs @ torch.diag(evals.rsqrt()) @ evecs.T)  # ZCA whitening, symmetric W
    torch.testing.assert_close(y, expected, atol=1e-6, rtol=1e-6)


def test_iternorm_default_T5_spectrum_matches_scalar_recursion():
    # W = P_T(S_N) / sqrt(tr S) is a polynomial in S, so the output covariance S_N P_T^2 has the
    # eigenvalues lambda * p_T(lambda)^2, with p_T from the scalar form of Algorithm 1 run on each
    # eigenvalue lambda of S_N = S / tr(S). T = 5 whitens only partly (Huang et al.'s trade-off).
    x = _correlated(4096, 4, seed=5)
    y = IterNorm(4, num_groups=1, eps=0.0).double().train()(x)  # default T = 5; no ridge, exact
    sigma = _cov(x)
    lams = torch.linalg.eigvalsh(sigma / sigma.trace()).tolist()
    expected = []
    for lam in lams:
        p = 1.0
        for _ in range(5):
            p = 0.5 * (3 * p - p**3 * lam)
        expected.append(lam * p * p)
    got = torch.linalg.eigvalsh(_cov(y.detach()))
    want = torch.tensor(sorted(expected), dtype=torch.float64)
    torch.testing.assert_close(got, want, atol=1e-10, rtol=1e-8)
    assert want.min() < 0.9  # T = 5 is genuinely partial here, so the check has teeth
    # Every eigenvalue moved from lambda towards 1 without overshooting.
    assert all(lam <= mu <= 1 + 1e-9 for lam, mu in zip(lams, sorted(expected)))


def test_iternorm_stays_finite_for_many_iterations():
    # The uncoupled form P <- (3P - P^3 S) / 2 blows up on such data within 10-20 iterations.
    x = _correlated(512, 16, seed=7).float()
    y = IterNorm(16, num_groups=1, T=50).train()(x)
    assert torch.isfinite(y).all()
    torch.testing.assert_close(_cov(y), torch.eye(16), atol=5e-3, rtol=0)


def test_iternorm_running_statistics_used_in_eval():
    x = _correlated(256, 6, seed=9).float()
    # momentum 1: the running statistics become this batch's, so eval reproduces the train output.
    norm = IterNorm(6, num_groups=3, T=5, momentum=1.0)
    train_out = norm.train()(x)
    with torch.no_grad():
        eval_out = norm.eval()(x)
        alone = norm(x[:2])  # eval output of a sample does not depend on its batch
    torch.testing.assert_close(eval_out, train_out.detach(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(alone, eval_out[:2], atol=1e-6, rtol=1e-6)
    # momentum 0.1 from a zero mean: running_mean = 0.1 * batch mean (hand value).
    norm = IterNorm(6, num_groups=3, momentum=0.1).train()
    norm(x)
    batch_mean = x.mean(dim=0).reshape(3, 2, 1)
    torch.testing.assert_close(norm.running_mean, 0.1 * batch_mean, atol=1e-6, rtol=1e-6)
    # The eval output is not the batch-statistics output: running stats are still near the init.
    with torch.no_grad():
        assert not torch.allclose(norm.eval()(x), train_out.detach(), atol=1e-2)


def test_iternorm_affine_gradients_and_no_mutation():
    x = _randn(32, 8, seed=11)
    before = x.clone()
    norm = IterNorm(8, num_groups=2).train()
    with torch.no_grad():
        norm.weight.fill_(2.0)
        norm.bias.fill_(-1.0)
    y = norm(x)
    ref = IterNorm(8, num_groups=2, affine=False).train()(x)
    torch.testing.assert_close(y, 2.0 * ref - 1.0, atol=1e-5, rtol=1e-5)
    xg = x.clone().requires_grad_()
    (norm(xg) * _randn(32, 8, seed=12)).sum().backward()
    assert torch.equal(x, before)
    assert torch.isfinite(xg.grad).all() and xg.grad.abs().sum() > 0
    assert norm.weight.grad.abs().sum() > 0 and norm.bias.grad.abs().sum() > 0


def test_iternorm_rejects_bad_configuration_and_input():
    msg = r"num_groups \(3\) must be a positive divisor of num_features \(8\)"
    with pytest.raises(ValueError, match=msg):
        IterNorm(8, num_groups=3)
    with pytest.raises(ValueError, match="T .* must be >= 1"):
        IterNorm(8, num_groups=2, T=0)
    norm = IterNorm(8, num_groups=2)
    with pytest.raises(ValueError, match=r"IterNorm expects input \(B, 8\), got \(4, 6\)"):
        norm(torch.zeros(4, 6))
    with pytest.raises(ValueError, match="at least 2 in training mode, got 1"):
        norm.train()(torch.zeros(1, 8))
