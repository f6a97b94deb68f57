"""Tests for sslts.encoders: any (C, L) -> (B, out_dim), gradients, determinism, batch independence."""

from __future__ import annotations

import math

import pytest
import torch

from sslts.encoders import ENCODERS, CNNEncoder, DilatedConvEncoder, build_encoder

# Small "dilated" configs keep the file fast; the default depth 10 is exercised once below.
SMALL = {"cnn": {}, "dilated": {"depth": 3}, "transformer": {"dim": 16, "depth": 1}}


def _x(b: int, c: int, length: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(b, c, length, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", sorted(ENCODERS))
@pytest.mark.parametrize("c", [1, 3, 9])
@pytest.mark.parametrize("length", [16, 128, 315])
def test_any_channels_and_length_map_to_out_dim(name, c, length):
    torch.manual_seed(0)
    enc = build_encoder(name, c, **SMALL[name]).eval()
    out = enc(_x(3, c, length))
    assert out.shape == (3, enc.out_dim)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    assert out.std(dim=0).sum() > 0  # different series give different embeddings


@pytest.mark.parametrize("length", [1, 7, 8])
def test_short_series_still_work(length):
    for name in ENCODERS:
        enc = build_encoder(name, 2, **SMALL[name]).eval()
        assert enc(_x(2, 2, length)).shape == (2, enc.out_dim)


def test_default_out_dims_and_kwargs():
    assert build_encoder("cnn", 1).out_dim == 128
    assert build_encoder("cnn", 1, channels=(8, 16, 24)).out_dim == 24
    dil = build_encoder("dilated", 1)
    assert dil.out_dim == 320 and len(dil.blocks) == 10 + 1  # depth hidden blocks + output block
    # Dilations double block by block, as in TS2Vec.
    assert [b.conv1.dilation[0] for b in dil.blocks] == [2**i for i in range(11)]
    with torch.no_grad():  # receptive field (2^12) far beyond the length: same padding copes
        assert dil.eval()(_x(2, 1, 315)).shape == (2, 320)
    small = build_encoder("dilated", 4, hidden_dim=16, out_dim=24, depth=2)
    assert small.out_dim == 24 and small(_x(2, 4, 30)).shape == (2, 24)


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_gradients_reach_every_parameter(name):
    torch.manual_seed(1)
    enc = build_encoder(name, 3, **SMALL[name]).train()
    out = enc(_x(4, 3, 64, seed=2))
    # A random projection of the output, so no parameter is blind to the loss by symmetry.
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(3))
    (out * weights).sum().backward()
    for pname, p in enc.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_eval_mode_is_deterministic_and_batch_independent(name):
    torch.manual_seed(2)
    enc = build_encoder(name, 2, **SMALL[name])
    enc.train()
    enc(_x(8, 2, 50, seed=4))  # move the batch-norm running statistics away from their init
    enc.eval()
    x = _x(5, 2, 50, seed=5)
    before = x.clone()
    with torch.no_grad():
        full = enc(x)
        again = enc(x)
        alone = enc(x[2:3])
        other_batch = enc(torch.cat([x[2:3], 10 * _x(3, 2, 50, seed=6)]))
    assert torch.equal(x, before)  # the caller's tensor is untouched
    assert torch.equal(full, again)
    torch.testing.assert_close(alone[0], full[2], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(other_batch[0], full[2], rtol=1e-5, atol=1e-5)


def test_train_mode_dropout_is_stochastic():
    # Guards the eval test above: the same encoder in train mode does vary run to run.
    enc = build_encoder("cnn", 1, dropout=0.5).train()
    x = _x(4, 1, 40)
    assert not torch.allclose(enc(x), enc(x))


def test_cnn_parameter_count_in_stated_range():
    # 3 bias-free convs (1*32*8 + 32*64*8 + 64*128*8 = 82,176) + 3 batch norms (2 * 224) = 82,624.
    n = sum(p.numel() for p in build_encoder("cnn", 1).parameters())
    assert 80_000 <= n <= 85_000
    n9 = sum(p.numel() for p in build_encoder("cnn", 9).parameters())
    assert n9 - n == 8 * 32 * 8  # only the first conv grows with the channel count


def test_dilated_parameter_count_grows_with_depth():
    n = [sum(p.numel() for p in build_encoder("dilated", 1, depth=d).parameters()) for d in (2, 3)]
    per_block = 2 * (64 * 64 * 3 + 64)  # two 64 -> 64 convs with bias
    assert n[1] - n[0] == per_block


def test_unknown_name_lists_known_encoders():
    with pytest.raises(ValueError, match=r"unknown encoder 'resnet'; known encoders: cnn, dilated"):
        build_encoder("resnet", 1)


def test_bad_inputs_raise_readable_errors():
    enc = build_encoder("cnn", 3)
    with pytest.raises(ValueError, match=r"encoder expects 3 channels, got 2"):
        enc(torch.zeros(2, 2, 32))
    with pytest.raises(ValueError, match=r"shape \(B, C, L\), got shape \(2, 32\)"):
        enc(torch.zeros(2, 32))
    with pytest.raises(TypeError, match="in_channels must be an int"):
        build_encoder("cnn", 3.0)
    with pytest.raises(ValueError, match="must be positive"):
        DilatedConvEncoder(1, hidden_dim=0)
    with pytest.raises(ValueError, match="must be positive"):
        CNNEncoder(0)
    with pytest.raises(TypeError):
        build_encoder("cnn", 1, depth=3)  # "depth" belongs to the dilated encoder only


def test_cnn_temporal_bins_are_means_over_equal_stretches():
    torch.manual_seed(0)
    encoder = build_encoder("cnn", 2, temporal_bins=2).eval()
    x = torch.randn(3, 2, 64)
    z = encoder(x)
    assert encoder.out_dim == 256 and z.shape == (3, 256)
    h = encoder.blocks(x)  # (3, 128, L')
    length = h.shape[-1]
    first, second = h[..., : math.ceil(length / 2)], h[..., length // 2 :]  # adaptive pooling's bins
    bins = z.view(3, 128, 2)  # features are (channel, bin) in row-major order
    assert torch.allclose(bins[..., 0], first.mean(-1), atol=1e-6)
    assert torch.allclose(bins[..., 1], second.mean(-1), atol=1e-6)
    assert not torch.allclose(bins[..., 0], bins[..., 1])


def test_cnn_temporal_bins_rejects_bad_values():
    with pytest.raises(ValueError, match="temporal_bins must be a positive int"):
        build_encoder("cnn", 2, temporal_bins=0)


def test_cnn_max_pooling_takes_each_bins_maximum():
    torch.manual_seed(0)
    encoder = build_encoder("cnn", 2, temporal_bins=2, pooling="max").eval()
    x = torch.randn(3, 2, 64)
    z = encoder(x)
    h = encoder.blocks(x)  # (3, 128, L')
    length = h.shape[-1]
    first, second = h[..., : math.ceil(length / 2)], h[..., length // 2 :]
    bins = z.view(3, 128, 2)
    assert torch.equal(bins[..., 0], first.amax(-1)) and torch.equal(bins[..., 1], second.amax(-1))
    # One bin is the maximum over the whole series, TS2Vec's instance read-out.
    whole = build_encoder("cnn", 2, pooling="max").eval()
    whole.load_state_dict(encoder.state_dict())
    assert torch.equal(whole(x), h.amax(-1))


def test_cnn_pooling_rejects_unknown_names():
    with pytest.raises(ValueError, match="pooling must be one of 'avg', 'max', got 'mean'"):
        build_encoder("cnn", 2, pooling="mean")
