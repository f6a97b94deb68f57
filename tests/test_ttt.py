"""TTT: the joint loss, its views, and episodic test-time adaptation of the encoder only."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sslts.encoders import build_encoder
from sslts.evaluate.adapt import (
    AdaptConfig,
    EpisodicAdapter,
    evaluate_adaptation,
    evaluate_under_shifts,
    predict_logits,
    ttt_predict,
)
from sslts.masking import masked_mse
from sslts.methods import METHODS, MethodContext, build_method
from sslts.methods.ttt import TTT, TTTConfig

B, C, L, K = 8, 3, 32, 4


# Tiny tensors: one thread (the conftest fixture) avoids oversubscribing a small shared CPU.
pytestmark = pytest.mark.usefixtures("one_thread")


def context(channels: int = C, length: int = L) -> MethodContext:
    return MethodContext((channels, length), lambda c: build_encoder("cnn", c, channels=(8, 16)), n_classes=K)


def tiny(seed: int = 0, **overrides) -> TTT:
    torch.manual_seed(seed)
    config = {"decoder_hidden": 16, "patch_size": 4, "mask_ratio": 0.5, **overrides}
    return build_method("ttt", build_encoder("cnn", C, channels=(8, 16)), config, context())


def data(seed: int = 1, n: int = B) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, C, L, generator=g), torch.randint(0, K, (n,), generator=g)


def identity_augment(x: Tensor, generator: torch.Generator) -> Tensor:
    return x.clone()


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


class ChannelMean(nn.Module):
    """A parameter-free encoder: the mean of each channel over time, ``(B, C, L) -> (B, C)``."""

    out_dim = C

    def forward(self, x: Tensor) -> Tensor:
        return x.mean(dim=-1)


# ------------------------------------------------------------------------------ the method
def test_registered_and_built_with_context() -> None:
    assert METHODS["ttt"] is TTT and TTT.needs_labels and TTT.needs_context
    method = tiny()
    assert method.classifier.out_features == K
    assert method.decoder[-1].out_features == C * L
    with pytest.raises(ValueError, match="needs a MethodContext"):
        build_method("ttt", build_encoder("cnn", C))
    with pytest.raises(ValueError, match="needs the number of classes"):
        build_method("ttt", build_encoder("cnn", C), {}, MethodContext((C, L), lambda c: build_encoder("cnn", c)))


def test_joint_loss_by_hand() -> None:
    # Zero heads: the classifier gives equal logits (CE = log K) and the decoder rebuilds zeros,
    # so on a series of constant 2 the hidden squared error is 4 at every hidden step.
    method = TTT(ChannelMean(), TTTConfig(recon_weight=0.5, patch_size=4, decoder_hidden=5),
                 context=MethodContext((C, L), lambda c: ChannelMean(), n_classes=3))
    for p in [*method.classifier.parameters(), *method.decoder.parameters()]:
        nn.init.zeros_(p)
    x, y = torch.full((2, C, L), 2.0), torch.tensor([0, 2])
    _, mask, _ = method.make_views(x, identity_augment, gen(), y=y)
    loss, terms = method.training_step(x, mask, y)
    assert terms["cross_entropy"] == pytest.approx(math.log(3))
    assert terms["reconstruction"] == pytest.approx(4.0)
    assert loss.item() == pytest.approx(math.log(3) + 0.5 * 4.0)


def test_training_step_is_cross_entropy_plus_weighted_masked_mse() -> None:
    method = tiny(recon_weight=0.3).eval()  # eval: no dropout, so the reference replays exactly
    x, y = data()
    mask = method.draw_mask(B, gen())
    loss, terms = method.training_step(x, mask, y)
    ce = F.cross_entropy(method.classifier(method.encoder(x)), y)
    recon_in = torch.where(mask, torch.zeros_like(x), x)  # hidden steps set to 0
    recon = masked_mse(method.decoder(method.encoder(recon_in)).view(B, C, L), x, mask)
    torch.testing.assert_close(loss, ce + 0.3 * recon)  # one batch of 2B vs two of B: rounding only
    assert terms == pytest.approx({"cross_entropy": ce.item(), "reconstruction": recon.item()}, rel=1e-5)


def test_make_views_needs_labels_and_draws_a_reproducible_patch_mask() -> None:
    method = tiny()
    x, y = data()
    with pytest.raises(ValueError, match="needs the batch's labels y"):
        method.make_views(x, identity_augment, gen())
    view, mask, labels = method.make_views(x, identity_augment, gen(3), y=y)
    assert torch.equal(view, x) and labels is y
    assert mask.shape == (B, 1, L) and mask.dtype == torch.bool
    assert (mask.sum(dim=-1) == 4 * 4).all()  # 8 patches of 4 steps, half of them hidden
    again = method.make_views(x, identity_augment, gen(3), y=y)[1]
    assert torch.equal(mask, again)
    assert not torch.equal(mask, method.make_views(x, identity_augment, gen(4), y=y)[1])


def test_forward_backward_reaches_every_parameter() -> None:
    method = tiny()
    x, y = data()
    loss, _ = method.training_step(*method.make_views(x, identity_augment, gen(), y=y))
    assert torch.isfinite(loss)
    loss.backward()
    for name, p in method.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


def test_encode_is_the_encoder_output() -> None:
    method = tiny().eval()
    x, _ = data()
    torch.testing.assert_close(method.encode(x), method.encoder(x), rtol=0, atol=0)


def test_the_one_loop_trains_it_with_labels() -> None:
    from sslts.train import TrainConfig, pretrain

    method = tiny()
    x, y = data(n=16)
    config = TrainConfig(epochs=2, batch_size=8, warmup_epochs=1, progress=False, device="cpu")
    result = pretrain(method, x.numpy(), identity_augment, config, y=y.numpy())
    assert set(result.term_histories) == {"cross_entropy", "reconstruction"}
    with pytest.raises(ValueError):
        pretrain(tiny(), x.numpy(), identity_augment, config)  # labels are required


def test_config_validation() -> None:
    with pytest.raises(ValueError, match=r"TTTConfig.mask_ratio must be in \(0, 1\)"):
        TTTConfig(mask_ratio=1.0)
    with pytest.raises(ValueError, match="TTTConfig.recon_weight must be >= 0"):
        TTTConfig(recon_weight=-1.0)
    with pytest.raises(ValueError, match="TTTConfig.patch_size must be > 0"):
        TTTConfig(patch_size=0)
    with pytest.raises(TypeError, match="TTTConfig.patch_size must be int, got float"):
        TTTConfig.from_dict({"patch_size": 2.0})
    with pytest.raises(ValueError, match="at least 2 patches"):
        tiny(patch_size=20)  # 32 steps hold one patch of 20
    with pytest.raises(ValueError, match="AdaptConfig.optimizer must be one of"):
        AdaptConfig(optimizer="lbfgs")
    with pytest.raises(ValueError, match="AdaptConfig.bn must be one of"):
        AdaptConfig(bn="train")
    with pytest.raises(ValueError, match="AdaptConfig.steps is out of range"):
        AdaptConfig(steps=-1)
    with pytest.raises(ValueError, match="mode must be one of"):
        ttt_predict(tiny(), data()[0].numpy(), mode="online")
    with pytest.raises(TypeError, match="test-time training needs"):
        ttt_predict(build_encoder("cnn", C), data()[0].numpy())


# ------------------------------------------------------------------------------ adaptation
def state(module: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def same(a: dict[str, Tensor], b: dict[str, Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_adaptation_changes_the_encoder_only_and_never_the_original(optimizer: str) -> None:
    method = tiny().eval()
    original = state(method)
    adapter = EpisodicAdapter(method, AdaptConfig(steps=3, lr=0.05, optimizer=optimizer))
    heads = state(adapter.model.classifier), state(adapter.model.decoder)
    encoder = state(adapter.model.encoder)
    first, last = adapter.adapt(data()[0], gen())
    assert math.isfinite(first) and math.isfinite(last)
    assert same(state(adapter.model.classifier), heads[0]) and same(state(adapter.model.decoder), heads[1])
    assert not same(state(adapter.model.encoder), encoder)
    assert same(state(method), original)  # the caller's model is untouched
    assert all(p.requires_grad for p in method.parameters())


def test_adaptation_is_episodic() -> None:
    method = tiny().eval()
    x_a, _ = data(1)
    x_b, _ = data(2)
    config = AdaptConfig(steps=2, lr=0.05)
    adapter = EpisodicAdapter(method, config)
    adapter.adapt(x_a, gen(7))
    adapter.adapt(x_b, gen(8))  # starts from the trained weights, not from the x_a episode
    after_both = state(adapter.model.encoder)
    fresh = EpisodicAdapter(method, config)
    fresh.adapt(x_b, gen(8))
    assert same(after_both, state(fresh.model.encoder))
    adapter.reset()
    assert same(state(adapter.model.encoder), state(method.encoder))


@pytest.mark.parametrize("mode", ["batch", "series"])
def test_zero_steps_equal_no_adaptation(mode: str) -> None:
    method = tiny().eval()
    X = data(n=10)[0].numpy()
    plain = predict_logits(method, X)
    assert plain.shape == (10, K)
    # Equal up to the rounding of other batch sizes (a series alone, or four at a time).
    zero = ttt_predict(method, X, AdaptConfig(steps=0, batch_size=4), mode).logits
    torch.testing.assert_close(zero, plain, rtol=1e-5, atol=1e-6)
    adapted = ttt_predict(method, X, AdaptConfig(steps=2, lr=0.1, batch_size=4), mode).logits
    assert not np.array_equal(adapted, plain)


@pytest.mark.parametrize("bn", ["frozen", "test_batch"])
def test_single_series_adaptation_works_with_batchnorm_and_one_mask(bn: str) -> None:
    method = tiny().eval()
    X = data(n=3)[0].numpy()
    result = ttt_predict(method, X, AdaptConfig(steps=2, n_masks=1, bn=bn), "series")
    assert result.logits.shape == (3, K) and np.isfinite(result.logits).all()
    # Frozen BatchNorm: a series is predicted the same alone as in a batch with others.
    if bn == "frozen":
        alone = ttt_predict(method, X[:1], AdaptConfig(steps=0), "series").logits
        torch.testing.assert_close(alone, predict_logits(method, X)[:1], rtol=1e-5, atol=1e-6)


def test_bn_modes_differ_and_none_never_adapts_batchnorm() -> None:
    method = tiny().eval()
    X = data(n=8)[0].numpy() * 3 + 1  # statistics far from the training running averages
    frozen = ttt_predict(method, X, AdaptConfig(steps=0, bn="frozen"), "batch").logits
    test_bn = ttt_predict(method, X, AdaptConfig(steps=0, bn="test_batch"), "batch").logits
    assert not np.allclose(frozen, test_bn)
    none = ttt_predict(method, X, AdaptConfig(steps=0, bn="test_batch"), "none").logits
    torch.testing.assert_close(none, frozen, rtol=0, atol=0)


@pytest.mark.parametrize("mode", ["batch", "series"])
def test_deterministic_with_a_seed(mode: str) -> None:
    method = tiny().eval()
    X = data(n=6)[0].numpy()
    a = ttt_predict(method, X, AdaptConfig(steps=2, lr=0.1, seed=3, batch_size=4, n_masks=4), mode)
    b = ttt_predict(method, X, AdaptConfig(steps=2, lr=0.1, seed=3, batch_size=4, n_masks=4), mode)
    c = ttt_predict(method, X, AdaptConfig(steps=2, lr=0.1, seed=4, batch_size=4, n_masks=4), mode)
    assert np.array_equal(a.logits, b.logits) and a.losses == b.losses
    assert not np.array_equal(a.logits, c.logits)


def test_evaluate_adaptation_reports_accuracy_and_extra_time() -> None:
    method = tiny().eval()
    x, y = data(n=6)
    rows = evaluate_adaptation(method, x.numpy(), y.numpy(), AdaptConfig(steps=1, batch_size=3, n_masks=2))
    assert [r["mode"] for r in rows] == ["none", "batch", "series"]
    plain = predict_logits(method, x.numpy()).argmax(1)
    assert rows[0]["accuracy"] == pytest.approx((plain == y.numpy()).mean())
    assert rows[0]["extra_ms_per_series"] == 0.0 and rows[2]["seconds"] > 0
    assert math.isnan(rows[0]["loss_first"]) and math.isfinite(rows[1]["loss_first"])
    with pytest.raises(ValueError, match="one label per series"):
        evaluate_adaptation(method, x.numpy(), y.numpy()[:3])


def test_evaluate_under_shifts_has_a_clean_row_and_one_per_shift_and_severity() -> None:
    method = tiny().eval()
    x, y = data(n=4)
    rows = evaluate_under_shifts(method, x.numpy(), y.numpy(), ["gain", "dead_channel"], [1, 5],
                                 preprocess=lambda a: a * 0.5, config=AdaptConfig(steps=1),
                                 modes=("none", "batch"))
    assert [(r["shift"], r["severity"], r["mode"]) for r in rows[:2]] == [("none", 0, "none"), ("none", 0, "batch")]
    assert len(rows) == 2 * (1 + 2 * 2)
    with pytest.raises(ValueError, match="unknown shift"):
        evaluate_under_shifts(method, x.numpy(), y.numpy(), ["blur"], [1])
    with pytest.raises(ValueError, match="severities must be ints in 1..5"):
        evaluate_under_shifts(method, x.numpy(), y.numpy(), ["gain"], [0])


def test_clean_and_masked_series_share_one_batchnorm_batch() -> None:
    # BatchNorm's running mean after one step is the mean over the clean *and* masked series, so
    # test-time classification and adaptation see the statistics training normalised with.
    method = tiny().train()
    x, y = data()
    mask = method.draw_mask(B, gen())
    conv, bn = method.encoder.blocks[0], method.encoder.blocks[1]
    with torch.no_grad():
        both = conv(torch.cat([x, x.masked_fill(mask, 0.0)]))  # (2B, 8, L')
        clean = conv(x)
    method.training_step(x, mask, y)
    torch.testing.assert_close(bn.running_mean, bn.momentum * both.mean(dim=(0, 2)))
    assert not torch.allclose(bn.running_mean, bn.momentum * clean.mean(dim=(0, 2)))


def test_num_threads_is_set_for_the_call_only() -> None:
    method = tiny().eval()
    before = torch.get_num_threads()
    X = data(n=2)[0].numpy()
    a = ttt_predict(method, X, AdaptConfig(steps=1, num_threads=1), "series").logits
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="AdaptConfig.num_threads is out of range"):
        AdaptConfig(num_threads=0)
    assert np.isfinite(a).all()


# ------------------------------------------------------------------------------ chapter wiring
def test_chapter_parameters_reach_the_method_config() -> None:
    from sslts.wiring import experiment_config
    from sslts.params import resolve

    P = resolve("ttt", "smoke", mask_ratio=0.5)
    config = experiment_config("ttt", "uwave", 0, P)  # the class count comes from the data, not here
    assert config.method_params == {"recon_weight": 1.0, "mask_ratio": 0.5, "patch_size": 8}
    TTTConfig.from_dict(config.method_params)  # valid


def test_batch_ttt_draws_batches_from_a_shuffle_and_returns_logits_in_input_order(monkeypatch) -> None:
    # A class-sorted test set must not become single-class batches (that would leak the grouping).
    method = tiny().eval()
    X = data(n=12)[0].numpy()
    seen = []
    original = EpisodicAdapter.predict

    def spy(self, x):
        seen.append(x.clone())
        return original(self, x)

    monkeypatch.setattr(EpisodicAdapter, "predict", spy)
    # No steps and frozen BatchNorm: batch mode must then give exactly the unadapted logits.
    batch = ttt_predict(method, X, AdaptConfig(steps=0, batch_size=4, seed=3), "batch")
    assert len(seen) == 3 and not torch.equal(seen[0], torch.from_numpy(X[:4]))
    assert sorted(map(tuple, torch.cat(seen)[:, 0, :2].tolist())) == sorted(map(tuple, X[:, 0, :2].tolist()))
    np.testing.assert_allclose(batch.logits, predict_logits(method, X), rtol=1e-5, atol=1e-6)


def test_bad_context_series_and_labels_get_one_clear_error() -> None:
    with pytest.raises(TypeError, match="TTT needs a MethodContext"):
        TTT(build_encoder("cnn", C), TTTConfig(), context=None)
    with pytest.raises(ValueError, match=r"MethodContext.input_shape must be \(C, L\) of positive ints"):
        MethodContext((C, 0), lambda c: build_encoder("cnn", c), n_classes=K)
    with pytest.raises(TypeError, match="MethodContext.n_classes must be an int or None"):
        MethodContext((C, L), lambda c: build_encoder("cnn", c), n_classes=2.0)
    method, (x, y) = tiny(), data()
    with pytest.raises(ValueError, match=r"built for series of shape \(C, L\) = \(3, 32\), got \(3, 40\)"):
        method.make_views(torch.randn(B, C, 40), identity_augment, gen(), y=y)
    for bad in (y.float(), y[:-1], torch.full_like(y, K)):
        with pytest.raises(ValueError, match=f"y must hold one integer label in 0..{K - 1} per series"):
            method.make_views(x, identity_augment, gen(), y=bad)
