"""Contract and wiring tests for sslts.methods: every registered method, its config, its hooks."""

from __future__ import annotations

import math
import pathlib
from typing import Any, Callable

import pytest
import torch
from torch import Tensor

from sslts import losses
from sslts.encoders import build_encoder
from sslts.methods import (
    METHODS,
    BarlowConfig,
    SimCLRConfig,
    SSLMethod,
    StepContext,
    VIbCRegConfig,
    VICRegConfig,
    build_method,
)

B, C, L = 8, 3, 32

# Small heads so the whole file runs in seconds; non-default loss weights so that a method that
# ignored its config (and used the loss function's defaults) would fail the wiring test.
TINY: dict[str, dict[str, Any]] = {
    "simclr": {"proj_hidden": 16, "proj_dim": 8, "temperature": 0.2},
    "vicreg": {"expander_dim": 16, "sim_weight": 3.0, "var_weight": 7.0, "cov_weight": 11.0},
    "barlow_twins": {"proj_hidden": 16, "proj_dim": 16, "lambda_offdiag": 0.1},
    "vibcreg": {
        "proj_hidden": 16, "proj_dim": 16, "iternorm_groups": 4,
        "sim_weight": 3.0, "var_weight": 7.0, "cov_weight": 11.0,
    },
}  # fmt: skip
# The other families do not map two views through one head, so they have their own test files
# (each with forward/backward on tiny inputs and its objective against hand-computed values).
OWN_TEST_FILE = {"mae": "test_mae.py", "ssgan": "test_ssgan.py", "clip": "test_clip.py", "ttt": "test_ttt.py"}
TWO_VIEW = sorted(TINY)


# Tiny tensors: one thread (the conftest fixture) avoids oversubscribing a small shared CPU.
pytestmark = pytest.mark.usefixtures("one_thread")


def _head(method: SSLMethod) -> torch.nn.Module:
    return method.expander if method.name == "vicreg" else method.projector


# The loss each method must apply to its head's outputs, written from the losses module directly.
PURE_LOSS: dict[str, Callable[[Tensor, Tensor, Any], tuple[Tensor, dict[str, Tensor]]]] = {
    "simclr": lambda z1, z2, c: (
        losses.nt_xent(z1, z2, temperature=c.temperature),
        {"nt_xent": losses.nt_xent(z1, z2, temperature=c.temperature)},
    ),
    "vicreg": lambda z1, z2, c: losses.vicreg_loss(
        z1, z2, sim_weight=c.sim_weight, var_weight=c.var_weight, cov_weight=c.cov_weight
    ),
    "barlow_twins": lambda z1, z2, c: losses.barlow_twins_loss(
        z1, z2, lambda_offdiag=c.lambda_offdiag
    ),
    "vibcreg": lambda z1, z2, c: losses.vibcreg_loss(
        z1, z2, sim_weight=c.sim_weight, var_weight=c.var_weight, cov_weight=c.cov_weight
    ),
}


def tiny_method(name: str, seed: int = 0) -> SSLMethod:
    torch.manual_seed(seed)
    encoder = build_encoder("cnn", in_channels=C, channels=(8, 16))
    return build_method(name, encoder, TINY[name])


def views(seed: int = 1) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, C, L, generator=g)
    return x, x + 0.1 * torch.randn(B, C, L, generator=g)


def test_every_registered_method_has_a_tiny_config_and_a_reference_loss() -> None:
    # A newly registered method must be added here, which brings it under the tests below, or to
    # OWN_TEST_FILE with a test file of its own.
    assert set(TINY) == set(PURE_LOSS)
    assert set(TINY) | set(OWN_TEST_FILE) == set(METHODS) and not set(TINY) & set(OWN_TEST_FILE)
    tests_dir = pathlib.Path(__file__).parent
    assert all((tests_dir / f).is_file() for f in OWN_TEST_FILE.values())
    for name, cls in METHODS.items():
        assert cls.name == name
        assert cls.__doc__ and cls.config_class.__doc__


@pytest.mark.parametrize("name", TWO_VIEW)
def test_forward_backward_gives_finite_loss_and_gradients_on_every_encoder_parameter(
    name: str,
) -> None:
    method = tiny_method(name)
    x1, x2 = views()
    loss, terms = method.training_step(x1, x2)
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert terms and all(isinstance(v, float) and math.isfinite(v) for v in terms.values())
    loss.backward()
    for pname, p in method.encoder.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, f"{name}: zero gradient on encoder.{pname}"


@pytest.mark.parametrize("name", TWO_VIEW)
def test_training_step_is_the_pure_loss_of_the_head_outputs(name: str) -> None:
    method = tiny_method(name)
    x1, x2 = views()
    torch.manual_seed(5)  # the encoder has dropout: replay the same masks below
    loss, terms = method.training_step(x1, x2)
    torch.manual_seed(5)
    z1 = _head(method)(method.encoder(x1))
    z2 = _head(method)(method.encoder(x2))
    expected, expected_terms = PURE_LOSS[name](z1, z2, method.config)
    torch.testing.assert_close(loss, expected, rtol=0, atol=0)
    assert terms == {k: v.item() for k, v in expected_terms.items()}


@pytest.mark.parametrize("name", TWO_VIEW)
def test_encode_is_the_encoder_output_not_the_projection(name: str) -> None:
    method = tiny_method(name).eval()
    x1, _ = views()
    emb = method.encode(x1)
    assert emb.shape == (B, method.encoder.out_dim) == (B, 16)
    torch.testing.assert_close(emb, method.encoder(x1), rtol=0, atol=0)


def test_vibcreg_projector_whitens_its_output() -> None:
    # IterNorm at the end of the projector is what distinguishes VIbCReg's head from VICReg's.
    method = tiny_method("vibcreg")
    z = method.projector(method.encoder(torch.randn(64, C, L)))  # (64, 16), 4 groups of 4
    group = z[:, :4] - z[:, :4].mean(0)
    cov = group.T @ group / z.shape[0]
    # T = 5 Newton iterations whiten approximately: off-diagonals shrink far below the diagonal.
    off = cov - torch.diag(torch.diagonal(cov))
    assert off.abs().max() < 0.2 * torch.diagonal(cov).min()


@pytest.mark.parametrize("config_cls", [m.config_class for m in METHODS.values()])
def test_configs_reject_unknown_keys_listing_the_allowed_ones(config_cls: type) -> None:
    with pytest.raises(ValueError, match=r"unknown \w+ field\(s\) \['nope'\]; allowed fields are"):
        config_cls.from_dict({"nope": 1})


def test_config_from_dict_checks_types_and_ranges() -> None:
    assert SimCLRConfig.from_dict({"temperature": 1}).temperature == 1.0  # int is a fine float
    assert isinstance(SimCLRConfig.from_dict({"temperature": 1}).temperature, float)
    with pytest.raises(TypeError, match=r"SimCLRConfig.proj_dim must be int, got str"):
        SimCLRConfig.from_dict({"proj_dim": "128"})
    with pytest.raises(TypeError, match=r"SimCLRConfig.proj_dim must be int, got bool"):
        SimCLRConfig.from_dict({"proj_dim": True})
    with pytest.raises(TypeError, match=r"VICRegConfig.cov_weight must be float, got NoneType"):
        VICRegConfig.from_dict({"cov_weight": None})
    with pytest.raises(ValueError, match=r"SimCLRConfig.temperature must be > 0, got 0.0"):
        SimCLRConfig.from_dict({"temperature": 0})
    with pytest.raises(ValueError, match=r"BarlowConfig.lambda_offdiag must be >= 0"):
        BarlowConfig(lambda_offdiag=-1.0)
    with pytest.raises(ValueError, match=r"proj_dim \(10\) must be divisible by iternorm_groups"):
        VIbCRegConfig(proj_dim=10, iternorm_groups=4)
    with pytest.raises(TypeError, match="expects a mapping"):
        SimCLRConfig.from_dict([("temperature", 0.1)])


def test_the_books_defaults_with_the_papers_loss_weights() -> None:
    # Every record of the book was made with these values: changing one moves numbers, so it must
    # be a deliberate change that also re-makes tests/golden/records.json. The loss weights are the
    # papers'; the heads are narrower than the papers' (a 128-wide encoder, not a ResNet-50), and
    # SimCLR's temperature suits the batch of 128 (the comparison's grid tries the paper's 0.5).
    s = SimCLRConfig()
    assert (s.temperature, s.proj_hidden, s.proj_dim) == (0.2, 512, 128)
    v = VICRegConfig()
    assert (v.sim_weight, v.var_weight, v.cov_weight, v.expander_dim) == (25, 25, 1, 1024)
    assert (BarlowConfig().lambda_offdiag, BarlowConfig().proj_dim, BarlowConfig().proj_hidden) == (5e-3, 1024, 1024)
    b = VIbCRegConfig()
    assert (b.cov_weight, b.iternorm_groups, b.iternorm_iters, b.proj_dim) == (200, 64, 5, 1024)
    assert SimCLRConfig.from_dict(SimCLRConfig().to_dict()) == SimCLRConfig()


def test_build_method_errors_are_readable() -> None:
    encoder = build_encoder("cnn", in_channels=C, channels=(8, 16))
    with pytest.raises(ValueError, match=r"unknown method 'byol'; known methods are \['barlow_tw"):
        build_method("byol", encoder)
    with pytest.raises(TypeError, match="SimCLR expects a SimCLRConfig, got VICRegConfig"):
        build_method("simclr", encoder, VICRegConfig())
    with pytest.raises(TypeError, match="positive integer attribute `out_dim`"):
        build_method("simclr", torch.nn.Linear(3, 4))
    method = build_method("simclr", encoder, SimCLRConfig(proj_hidden=8, temperature=0.3))
    assert method.config.temperature == 0.3 and method.encoder is encoder


def _ctx() -> StepContext:
    return StepContext.create("cpu")


def test_minimise_clips_the_gradient_norm_then_steps_and_skips_a_non_finite_loss() -> None:
    w = torch.nn.Parameter(torch.tensor([0.0, 0.0]))
    opt = torch.optim.SGD([w], lr=1.0)
    ctx = StepContext.create("cpu", max_grad_norm=1.0)
    # The gradient of 3 w_0 + 4 w_1 is (3, 4), norm 5: clipped to (0.6, 0.8), then one SGD step.
    assert ctx.minimise(3 * w[0] + 4 * w[1], opt, [w])
    torch.testing.assert_close(w.detach(), torch.tensor([-0.6, -0.8]))
    assert not ctx.minimise(w.sum() * float("inf"), opt, [w])
    torch.testing.assert_close(w.detach(), torch.tensor([-0.6, -0.8]))  # not applied


def test_step_context_binds_the_loops_augmentation_to_its_generator() -> None:
    def jitter(x: Tensor, g: torch.Generator) -> Tensor:
        return x + torch.randn(x.shape, generator=g)

    augment = StepContext.create("cpu", augment=jitter, generator=torch.Generator().manual_seed(0)).augmentation()
    replay = torch.Generator().manual_seed(0)
    x = torch.zeros(2, 1, 4)
    first, second = augment(x), augment(x)  # fresh draws on every call, in the generator's order
    assert torch.equal(first, jitter(x, replay)) and torch.equal(second, jitter(x, replay))
    with pytest.raises(ValueError, match="no augmentation"):
        StepContext.create("cpu").augmentation()


def test_default_step_updates_the_weights_once() -> None:
    method = tiny_method("simclr")
    (opt,) = method.configure_optimizers(lr=1e-2, weight_decay=0.0)
    before = [p.detach().clone() for p in method.parameters()]
    loss, terms = method.step(views(), [opt], _ctx())
    assert not loss.requires_grad and terms["nt_xent"] == pytest.approx(loss.item())
    assert opt.state and all(s["step"].item() == 1 for s in opt.state.values())
    assert any(not torch.equal(a, b) for a, b in zip(before, method.parameters()))


def test_default_step_skips_the_update_on_a_non_finite_loss(monkeypatch) -> None:
    method = tiny_method("simclr")
    (opt,) = method.configure_optimizers(lr=1e-2, weight_decay=0.0)
    monkeypatch.setattr(
        method, "training_step", lambda x1, x2: (torch.tensor(float("nan"), requires_grad=True), {})
    )
    before = [p.detach().clone() for p in method.parameters()]
    loss, _ = method.step(views(), [opt], _ctx())
    assert torch.isnan(loss)
    assert all(torch.equal(a, b) for a, b in zip(before, method.parameters()))


def test_default_step_refuses_several_optimisers() -> None:
    method = tiny_method("simclr")
    opts = method.configure_optimizers(1e-3, 0.0) * 2
    with pytest.raises(ValueError, match="got 2; a method with several optimisers must override"):
        method.step(views(), opts, _ctx())


def test_configure_optimizers_does_not_decay_biases_and_norm_scales() -> None:
    method = tiny_method("simclr")
    (opt,) = method.configure_optimizers(lr=1e-3, weight_decay=0.05)
    decayed, plain = opt.param_groups
    assert decayed["weight_decay"] == 0.05 and plain["weight_decay"] == 0.0
    assert all(p.ndim >= 2 for p in decayed["params"]) and all(p.ndim < 2 for p in plain["params"])
    assert len(decayed["params"]) + len(plain["params"]) == len(list(method.parameters()))


def test_make_views_draws_two_different_views_from_the_generator() -> None:
    method = tiny_method("simclr")
    x = torch.zeros(B, C, L)

    def jitter(x: Tensor, g: torch.Generator) -> Tensor:
        return x + torch.randn(x.shape, generator=g)

    v1, v2 = method.make_views(x, jitter, torch.Generator().manual_seed(0))
    w1, w2 = method.make_views(x, jitter, torch.Generator().manual_seed(0))
    assert torch.equal(v1, w1) and torch.equal(v2, w2) and not torch.equal(v1, v2)
    assert torch.equal(x, torch.zeros(B, C, L))


def test_configs_built_directly_check_their_field_types() -> None:
    from sslts.evaluate.adapt import AdaptConfig
    from sslts.methods import MAEConfig, SSGANConfig

    with pytest.raises(TypeError, match=r"MAEConfig.mask_ratio must be float, got str \('0.5'\)"):
        MAEConfig(mask_ratio="0.5")
    with pytest.raises(TypeError, match="SSGANConfig.batch_fraction must be float, got str"):
        SSGANConfig(batch_fraction="x")
    with pytest.raises(TypeError, match="AdaptConfig.steps must be int, got float"):
        AdaptConfig(steps=1.5)
    with pytest.raises(TypeError, match="AdaptConfig.lr must be float, got NoneType"):
        AdaptConfig(lr=None)
    assert isinstance(SimCLRConfig(temperature=1).temperature, float)  # an int is a fine float
