"""Tests for masked modelling: patches, the patch Transformer, the MAE loss and the MAE method."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sslts.encoders import PatchTransformerEncoder, build_encoder, patchify, sinusoidal_positions, unpatchify
from sslts.losses import mae_loss, normalize_patches
from sslts.masking import expand_patch_mask, patch_mask
from sslts.methods import METHODS, MAE, MAEConfig, build_method
from sslts.params import ParameterError, resolve
from sslts.train import TrainConfig, pretrain

C, L, P = 3, 32, 4  # 8 patches of 4 steps
TINY_ENC = {"patch_size": P, "dim": 16, "depth": 1, "heads": 2}
TINY_MAE = {"patch_size": P, "decoder_dim": 8, "decoder_depth": 1, "decoder_heads": 2, "normalize_target": False}


# Tiny tensors: one thread (the conftest fixture) avoids oversubscribing a small shared CPU.
pytestmark = pytest.mark.usefixtures("one_thread")


def _x(b: int = 6, c: int = C, length: int = L, seed: int = 0) -> torch.Tensor:
    return torch.randn(b, c, length, generator=torch.Generator().manual_seed(seed))


def tiny_mae(encoder: str = "transformer", seed: int = 0, **overrides) -> MAE:
    torch.manual_seed(seed)
    enc_kwargs = TINY_ENC if encoder == "transformer" else {"channels": (8, 16)}
    return build_method("mae", build_encoder(encoder, C, **enc_kwargs), {**TINY_MAE, **overrides})


# --- patches ---------------------------------------------------------------------------------


def test_patchify_layout_by_hand():
    x = torch.arange(12.0).reshape(1, 2, 6)  # channel 0: 0..5, channel 1: 6..11
    patches = patchify(x, 3)
    # Patch n holds channel 0's steps, then channel 1's, of steps 3n .. 3n+2.
    assert patches.tolist() == [[[0, 1, 2, 6, 7, 8], [3, 4, 5, 9, 10, 11]]]


@pytest.mark.parametrize("length", [1, 5, 8, 31, 32, 33])
def test_patchify_unpatchify_round_trip(length):
    x = _x(2, 3, length)
    patches = patchify(x, P)
    assert patches.shape == (2, -(-length // P), 3 * P)
    assert torch.equal(unpatchify(patches, 3, length), x)


def test_patchify_pads_by_repeating_the_last_step_and_keeps_input():
    x = torch.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
    before = x.clone()
    assert patchify(x, 3).tolist() == [[[1.0, 2.0, 3.0], [4.0, 5.0, 5.0]]]
    assert torch.equal(x, before)


def test_patch_errors_name_the_problem():
    with pytest.raises(ValueError, match="patch_size must be a positive int"):
        patchify(_x(), 0)
    with pytest.raises(ValueError, match=r"shape \(B, C, L\)"):
        patchify(torch.zeros(2, 8), 2)
    with pytest.raises(ValueError, match="cannot hold 5 channels"):
        unpatchify(torch.zeros(1, 2, 12), 5)
    with pytest.raises(ValueError, match="length must be in"):
        unpatchify(torch.zeros(1, 2, 12), 3, 9)


def test_sinusoidal_positions_known_values():
    pe = sinusoidal_positions(3, 4)
    # Frequencies 1 and 1/100 for dim 4: [sin(p), cos(p), sin(p/100), cos(p/100)].
    p = torch.arange(3.0)[:, None]
    expected = torch.cat([p.sin(), p.cos(), (p / 100).sin(), (p / 100).cos()], dim=1)
    assert torch.allclose(pe, expected, atol=1e-6)


# --- encoder ---------------------------------------------------------------------------------


@pytest.mark.parametrize("c", [1, 3, 9])
@pytest.mark.parametrize("length", [3, 16, 50, 128])
def test_transformer_encodes_any_channels_and_length(c, length):
    enc = build_encoder("transformer", c, **TINY_ENC).eval()
    z = enc(_x(4, c, length))
    assert z.shape == (4, 16) and torch.isfinite(z).all()
    assert z.std(dim=0).sum() > 0


def test_transformer_embedding_is_the_mean_of_tokens_and_batch_independent():
    enc = build_encoder("transformer", C, **TINY_ENC).eval()
    x = _x(5)
    with torch.no_grad():
        assert torch.allclose(enc(x), enc.tokens(x).mean(dim=1), atol=1e-6)
        assert torch.allclose(enc(x)[:2], enc(x[:2]), atol=1e-5)


def test_transformer_rejects_bad_sizes():
    with pytest.raises(ValueError, match="divisible by heads"):
        PatchTransformerEncoder(3, dim=10, heads=4)
    with pytest.raises(ValueError, match="patch_size must be a positive int"):
        PatchTransformerEncoder(3, patch_size=0)
    with pytest.raises(ValueError, match="encoder expects 3 channels, got 2"):
        PatchTransformerEncoder(3)(torch.zeros(2, 2, 16))


# --- loss ------------------------------------------------------------------------------------


def test_normalize_patches_by_hand():
    patches = torch.tensor([[[1.0, 3.0], [2.0, 2.0]]])
    out = normalize_patches(patches, eps=0.0 + 1e-12)
    assert torch.allclose(out[0, 0], torch.tensor([-1.0, 1.0]))  # mean 2, biased std 1
    assert torch.equal(out[0, 1], torch.zeros(2))  # a constant patch maps to zeros


def test_mae_loss_by_hand_and_only_on_hidden_patches():
    target = torch.zeros(1, 3, 2)
    pred = torch.tensor([[[1.0, 1.0], [2.0, 0.0], [5.0, 5.0]]])
    hidden = torch.tensor([[True, True, False]])
    # (1 + 1 + 4 + 0) / 4 hidden entries; the visible patch (errors of 25) does not count.
    assert mae_loss(pred, target, hidden, normalize_target=False).item() == pytest.approx(1.5)


def test_changing_a_visible_prediction_does_not_change_the_method_loss():
    method = tiny_mae().eval()
    x = _x()
    hidden = patch_mask(6, 8, 0.5, torch.Generator().manual_seed(3))
    with torch.no_grad():
        pred, patches = method.predict(x, hidden)
    loss = mae_loss(pred, patches, hidden, normalize_target=False)
    changed = pred.clone()
    changed[~hidden] += 100.0  # every visible patch's prediction
    assert mae_loss(changed, patches, hidden, normalize_target=False).item() == pytest.approx(loss.item())
    changed[hidden] += 1.0  # a hidden one does count
    assert mae_loss(changed, patches, hidden, normalize_target=False).item() != pytest.approx(loss.item())


def test_gradient_reaches_only_hidden_predictions():
    pred = torch.randn(2, 4, 6, requires_grad=True)
    hidden = torch.tensor([[True, False, False, True], [False, True, False, True]])
    mae_loss(pred, torch.randn(2, 4, 6), hidden).backward()
    assert (pred.grad[~hidden] == 0).all() and (pred.grad[hidden] != 0).any()


def test_encoder_never_sees_hidden_patches():
    # MAE's defining property: the encoded tokens of the visible patches (hence the prediction) do
    # not depend on what is under the mask.
    method = tiny_mae().eval()
    x = _x()
    hidden = patch_mask(6, 8, 0.75, torch.Generator().manual_seed(1))
    steps = expand_patch_mask(hidden, P, L)  # (B, 1, L)
    other = torch.where(steps, torch.randn_like(x) * 10, x)
    with torch.no_grad():
        assert torch.allclose(method.predict(x, hidden)[0], method.predict(other, hidden)[0], atol=1e-5)


# --- method ----------------------------------------------------------------------------------


def test_registered_and_config_defaults_are_the_papers_but_raw_targets():
    assert METHODS["mae"] is MAE
    # raw targets: per-patch normalisation would remove the device orientation (see the chapter)
    assert MAEConfig().mask_ratio == 0.75 and MAEConfig().normalize_target is False
    assert MAEConfig().augment is False


def test_make_views_draws_the_mask_from_the_generator():
    method = tiny_mae()
    x = _x()
    calls = []

    def augment(v, g):
        calls.append(1)
        return v * 2

    x1, h1 = method.make_views(x, augment, torch.Generator().manual_seed(5))
    x2, h2 = method.make_views(x, augment, torch.Generator().manual_seed(5))
    _, h3 = method.make_views(x, augment, torch.Generator().manual_seed(6))
    assert x1 is x and not calls  # no augmentation by default
    assert torch.equal(h1, h2) and not torch.equal(h1, h3)
    assert h1.shape == (6, 8) and (h1.sum(dim=1) == 6).all()  # round(0.75 * 8) hidden
    xa, _ = tiny_mae(augment=True).make_views(x, augment, torch.Generator().manual_seed(5))
    assert calls and torch.equal(xa, x * 2)


@pytest.mark.parametrize("encoder", ["transformer", "cnn"])
@pytest.mark.parametrize("length", [32, 30])
def test_forward_backward_reaches_every_parameter(encoder, length):
    method = tiny_mae(encoder).train()
    x = _x(length=length)
    views = method.make_views(x, lambda v, g: v, torch.Generator().manual_seed(0))
    loss, terms = method.training_step(*views)
    assert loss.ndim == 0 and torch.isfinite(loss) and terms == {"masked_mse": pytest.approx(loss.item())}
    loss.backward()
    unused = [n for n, p in method.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not unused


@pytest.mark.parametrize("c", [1, 3])
@pytest.mark.parametrize("length", [17, 32])
def test_encode_shape_for_several_channels_and_lengths(c, length):
    torch.manual_seed(0)
    method = build_method("mae", build_encoder("transformer", c, **TINY_ENC), TINY_MAE).eval()
    with torch.no_grad():
        z = method.encode(_x(4, c, length))
    assert z.shape == (4, 16)


def test_normalized_targets_and_reconstruct_units():
    method = tiny_mae(normalize_target=True).eval()
    x = _x()
    hidden = patch_mask(6, 8, 0.5, torch.Generator().manual_seed(0))
    loss, _ = method.training_step(x, hidden)
    pred, patches = method.predict(x, hidden)
    assert loss.item() == pytest.approx(mae_loss(pred, patches, hidden, normalize_target=True).item())
    recon = method.reconstruct(x, hidden)
    assert recon.shape == x.shape
    # Mapped back with each true patch's mean and standard deviation.
    mean = patches.mean(-1, keepdim=True)
    std = torch.sqrt(patches.var(-1, unbiased=False, keepdim=True) + 1e-6)
    assert torch.allclose((patchify(recon, P) - mean) / std, pred, atol=1e-4)
    raw = tiny_mae(normalize_target=False).eval()
    assert torch.allclose(raw.reconstruct(x, hidden), unpatchify(raw.predict(x, hidden)[0], C, L), atol=1e-5)


def test_seeded_pretraining_is_deterministic():
    X = np.random.default_rng(0).normal(size=(16, C, L)).astype(np.float32)
    cfg = TrainConfig(epochs=2, batch_size=8, warmup_epochs=1, progress=False, device="cpu", seed=3)

    def run():
        method = tiny_mae(seed=1)
        result = pretrain(method, X, lambda v, g: v, cfg)
        return result.loss_history, method.encode(torch.from_numpy(X)).detach()

    (loss_a, z_a), (loss_b, z_b) = run(), run()
    assert loss_a == loss_b and torch.equal(z_a, z_b)


def test_config_validation_errors():
    with pytest.raises(ValueError, match=r"mask_ratio must be in \(0, 1\)"):
        MAEConfig(mask_ratio=1.0)
    with pytest.raises(ValueError, match="patch_size must be > 0"):
        MAEConfig(patch_size=0)
    with pytest.raises(ValueError, match="decoder_dim must be even and divisible by decoder_heads=4"):
        MAEConfig(decoder_dim=30)
    with pytest.raises(TypeError, match="MAEConfig.mask_ratio must be float"):
        MAEConfig.from_dict({"mask_ratio": "0.5"})
    with pytest.raises(ValueError, match="unknown MAEConfig field"):
        MAEConfig.from_dict({"ratio": 0.5})
    with pytest.raises(ValueError, match="differs from the transformer encoder's patch_size=4"):
        MAE(build_encoder("transformer", C, **TINY_ENC), MAEConfig(patch_size=8))
    with pytest.raises(TypeError, match="MAE needs a PatchTransformerEncoder or a convolutional encoder"):
        MAE(_NoFeatures(), MAEConfig())


def test_bad_masks_raise():
    method = tiny_mae()
    x = _x()
    with pytest.raises(ValueError, match="boolean mask of shape"):
        method.training_step(x, torch.zeros(6, 8))
    uneven = torch.zeros(6, 8, dtype=torch.bool)
    uneven[0, :3] = True
    uneven[1:, :2] = True
    with pytest.raises(ValueError, match="same number of patches in every series"):
        method.training_step(x, uneven)
    with pytest.raises(ValueError, match="at least 2 patches"):
        method.make_views(_x(length=P), lambda v, g: v, torch.Generator())


def test_chapter_parameters_validate():
    P_ = resolve("mae", "smoke")
    assert P_["encoder"] == "transformer" and P_["mask_ratios"] == [0.5, 0.75]
    with pytest.raises(ParameterError, match="mask_ratios"):
        resolve("mae", "smoke", mask_ratios="0.5,1.2")
    with pytest.raises(ParameterError, match="embed_dim"):
        resolve("mae", "smoke", embed_dim=30)


class _NoFeatures(torch.nn.Module):
    out_dim = 4


def test_chapter_builds_the_transformer_with_maes_patch_size():
    from sslts.wiring import experiment_config

    P_ = resolve("mae", "smoke", patch_size=16, embed_dim=32)
    for method in ("mae", "random_init"):
        config = experiment_config(method, "uwave", 0, P_)
        assert config.encoder == "transformer"
        assert config.encoder_params == {"patch_size": 16, "dim": 32, "depth": 3}
    assert experiment_config("mae", "uwave", 0, P_).method_params["patch_size"] == 16
    assert experiment_config("mae", "uwave", 0, {**P_, "encoder": "cnn"}).encoder_params == {}
