"""Stage 1 of NC-VQVAE: the quantiser, the tokenizer and the SSL branch, against known values."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from sslts.heads import IterNorm
from sslts.losses import barlow_twins_loss, vibcreg_loss
from sslts.vqvae import (SSLBranch, VectorQuantizer, VQTokenizer, build_tokenizer, code_usage, nearest_codes,
                         perplexity)

pytestmark = pytest.mark.usefixtures("one_thread")

CODEBOOK = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-2.0, -2.0]])  # (K=4, D=2), hand-made


# ----------------------------------------------------------------------------- quantiser
def test_nearest_code_by_hand():
    z = torch.tensor([[0.1, 0.2], [0.9, -0.3], [0.2, 0.7], [-1.0, -1.2], [0.6, 0.4]])
    # distances to (0,0), (1,0), (0,1), (-2,-2) worked out by hand: the smallest is at
    assert nearest_codes(z, CODEBOOK).tolist() == [0, 1, 2, 3, 1]


def test_nearest_code_matches_a_loop_over_distances():
    gen = torch.Generator().manual_seed(0)
    z, codebook = torch.randn(50, 3, generator=gen), torch.randn(7, 3, generator=gen)
    loop = [min(range(7), key=lambda k: float(((row - codebook[k]) ** 2).sum())) for row in z]
    assert nearest_codes(z, codebook).tolist() == loop


def test_nearest_code_rejects_mismatched_width():
    with pytest.raises(ValueError, match="same D"):
        nearest_codes(torch.zeros(3, 2), torch.zeros(4, 3))


def test_quantizer_output_is_the_codeword_and_the_commitment_is_known():
    vq = VectorQuantizer(4, 2, beta=0.25).eval()
    vq.set_codebook(CODEBOOK)
    z_e = torch.tensor([[[0.1, 0.9], [0.2, -0.3]]])  # (B=1, D=2, T=2): vectors (0.1, 0.2), (0.9, -0.3)
    z_q, idx, terms = vq(z_e)
    assert idx.tolist() == [[0, 1]]
    torch.testing.assert_close(z_q, torch.tensor([[[0.0, 1.0], [0.0, 0.0]]]))
    # beta * mean((z_e - z_q)^2) = 0.25 * (0.01 + 0.04 + 0.01 + 0.09) / 4
    assert terms["commitment"].item() == pytest.approx(0.25 * 0.15 / 4)
    assert terms["perplexity"] == pytest.approx(2.0)  # two codes, used equally


def test_straight_through_gradient_reaches_the_encoder():
    """d(sum of z_q * w)/d z_e = w exactly (identity), though z_q's value is the codeword."""
    vq = VectorQuantizer(4, 2, beta=0.0).eval()
    vq.set_codebook(CODEBOOK)
    z_e = torch.tensor([[[0.1, 0.9], [0.2, -0.3]]], requires_grad=True)
    w = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    z_q, _, _ = vq(z_e)
    (z_q * w).sum().backward()
    torch.testing.assert_close(z_e.grad, w)

    encoder = nn.Conv1d(1, 2, 1)
    z_q, _, _ = vq(encoder(torch.ones(1, 1, 3)))
    z_q.sum().backward()
    assert encoder.weight.grad is not None and encoder.weight.grad.abs().sum() > 0


def test_ema_update_moves_a_code_to_the_mean_of_its_vectors():
    vq = VectorQuantizer(2, 1, decay=0.0, eps=1e-12).train()  # decay 0: codeword = this batch's mean
    vq.set_codebook(torch.tensor([[0.0], [10.0]]))
    vq(torch.tensor([[[1.0, 2.0, 9.0]]]))  # 1 and 2 go to code 0, 9 to code 1
    torch.testing.assert_close(vq.codebook, torch.tensor([[1.5], [9.0]]))
    vq.eval()
    before = vq.codebook.clone()
    vq(torch.tensor([[[5.0]]]))
    assert torch.equal(vq.codebook, before)  # eval mode leaves the codebook alone


def test_perplexity_of_uniform_usage_is_the_codebook_size():
    usage = code_usage(torch.arange(16).repeat(3), 16)
    assert torch.equal(usage, torch.full((16,), 1 / 16))
    assert perplexity(usage) == pytest.approx(16.0)
    assert perplexity(code_usage(torch.zeros(10, dtype=torch.long), 16)) == pytest.approx(1.0)
    # two codes with shares 3/4 and 1/4: exp(H), H = -(3/4 ln 3/4 + 1/4 ln 1/4)
    usage = code_usage(torch.tensor([0, 0, 0, 5]), 8)
    assert perplexity(usage) == pytest.approx(math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25))))


@pytest.mark.parametrize("kwargs, message", [
    ({"num_codes": 1, "dim": 2}, "num_codes must be an int >= 2"),
    ({"num_codes": 4, "dim": 0}, "dim must be a positive int"),
    ({"num_codes": 4, "dim": 2, "beta": -1.0}, "beta"),
    ({"num_codes": 4, "dim": 2, "decay": 1.0}, r"decay must be in \[0, 1\)"),
])
def test_quantizer_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VectorQuantizer(**kwargs)


def test_code_usage_rejects_out_of_range_ids():
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 4\)"):
        code_usage(torch.tensor([0, 4]), 4)


# ----------------------------------------------------------------------------- tokenizer
def _identity_tokenizer() -> VQTokenizer:
    """Encoder and decoder the identity, D = C = 1, codebook {-1, 0, 1}: tokens are roundings."""
    vq = VectorQuantizer(3, 1).eval()
    vq.set_codebook(torch.tensor([[-1.0], [0.0], [1.0]]))
    return VQTokenizer(nn.Identity(), vq, nn.Identity(), downsample=1)


def test_round_trip_with_an_identity_tokenizer_gives_exact_codes():
    tok = _identity_tokenizer()
    x = torch.tensor([[[0.9, -0.2, -1.4, 0.3, 0.6]]])  # (B=1, C=1, L=5)
    assert tok.tokens(x).tolist() == [[2, 1, 0, 1, 2]]
    torch.testing.assert_close(tok(x), torch.tensor([[[1.0, 0.0, -1.0, 0.0, 1.0]]]))
    torch.testing.assert_close(tok.decode_tokens(torch.tensor([[0, 2, 1]]), 3), torch.tensor([[[-1.0, 1.0, 0.0]]]))


def test_round_trip_shapes_with_the_conv_tokenizer():
    torch.manual_seed(0)
    tok = build_tokenizer(2, num_codes=8, latent_dim=4, hidden=8, downsamples=2).eval()
    x = torch.randn(3, 2, 13)  # 13 is not a multiple of 4: padded to 16, 4 tokens
    z_q, tokens, _ = tok.quantize(x)
    assert z_q.shape == (3, 4, 4) and tokens.shape == (3, 4) and tok.num_tokens(13) == 4
    assert tokens.dtype == torch.int64 and 0 <= int(tokens.min()) and int(tokens.max()) < 8
    x_hat = tok(x)
    assert x_hat.shape == x.shape
    torch.testing.assert_close(tok.decode_tokens(tokens, 13), x_hat)  # tokens carry all the decoder needs
    assert tok.encode(x).shape == (3, 4) and tok.encode_flat(x).shape == (3, 16)


def test_tokenizer_is_reproducible_from_the_seed():
    outs = []
    for _ in range(2):
        torch.manual_seed(3)
        tok = build_tokenizer(1, num_codes=8, latent_dim=4, hidden=8, downsamples=1)
        loss, _ = tok.loss(torch.linspace(-1, 1, 20).reshape(2, 1, 10))
        outs.append(loss.item())
    assert outs[0] == outs[1]


def test_naive_loss_is_reconstruction_plus_commitment():
    tok = _identity_tokenizer()
    x = torch.tensor([[[0.9, -0.2, -1.4, 0.3]]])
    loss, terms = tok.loss(x)
    err = torch.tensor([0.1, 0.2, 0.4, 0.3]) ** 2
    assert terms["recon"].item() == pytest.approx(err.mean().item())
    assert terms["commitment"].item() == pytest.approx(0.25 * err.mean().item())
    assert loss.item() == pytest.approx(1.25 * err.mean().item())
    assert "ssl" not in terms


def test_x_aug_must_match_the_variant():
    with pytest.raises(ValueError, match="x_aug must be given exactly when"):
        _identity_tokenizer().loss(torch.zeros(2, 1, 4), torch.zeros(2, 1, 4))


# ----------------------------------------------------------------------------- SSL branch
@pytest.mark.parametrize("name, fn", [("barlow_twins", barlow_twins_loss), ("vibcreg", vibcreg_loss)])
def test_nc_ssl_term_equals_the_project_loss(name, fn):
    torch.manual_seed(0)
    branch = SSLBranch(name, in_dim=4, proj_hidden=8, proj_dim=8, iternorm_groups=2)
    tok = build_tokenizer(1, num_codes=8, latent_dim=4, hidden=8, downsamples=1, ssl=branch).train()
    x = torch.randn(6, 1, 10)
    x_aug = x.flip(-1)
    _, terms = tok.loss(x, x_aug)
    # the same modules (same seed) in the same (train) mode, called by hand on the same inputs
    torch.manual_seed(0)
    branch2 = SSLBranch(name, in_dim=4, proj_hidden=8, proj_dim=8, iternorm_groups=2)
    tok2 = build_tokenizer(1, num_codes=8, latent_dim=4, hidden=8, downsamples=1, ssl=branch2).train()
    z1 = branch2.project(tok2.encode_latent(x).mean(-1))
    z2 = branch2.project(tok2.encode_latent(x_aug).mean(-1))
    expected, expected_terms = fn(z1, z2)
    assert terms["ssl"].item() == pytest.approx(expected.item(), rel=1e-6)
    for key, value in expected_terms.items():
        assert terms[f"ssl_{key}"].item() == pytest.approx(value.item(), rel=1e-6)


def test_nc_total_adds_the_weighted_ssl_term_and_the_augmented_reconstruction():
    torch.manual_seed(1)
    branch = SSLBranch("barlow_twins", in_dim=4, proj_hidden=8, proj_dim=8, weight=0.5)
    tok = build_tokenizer(1, num_codes=8, latent_dim=4, hidden=8, downsamples=1, ssl=branch).eval()
    x = torch.randn(5, 1, 8)
    loss, t = tok.loss(x, x * 1.1)
    _, t_aug = build_naive_copy(tok).loss(x * 1.1)
    expected = t["recon"] + t["commitment"] + 0.5 * t["ssl"] + t["recon_aug"] + t_aug["commitment"]
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert t["recon_aug"].item() == pytest.approx(t_aug["recon"].item(), rel=1e-6)


def build_naive_copy(tok: VQTokenizer) -> VQTokenizer:
    return VQTokenizer(tok.encoder, tok.quantizer, tok.decoder, tok.downsample)


def test_vibcreg_branch_ends_with_iternorm_and_bad_names_are_refused():
    assert isinstance(SSLBranch("vibcreg", 4, 8, 8, iternorm_groups=2).projector[-1], IterNorm)
    with pytest.raises(ValueError, match="unknown SSL loss 'simclr'; known: barlow_twins, vibcreg"):
        SSLBranch("simclr", 4)
    with pytest.raises(ValueError, match="iternorm_groups"):
        SSLBranch("vibcreg", 4, 8, 8, iternorm_groups=3)
    assert SSLBranch("barlow_twins", 4, 8, 32).weight == pytest.approx(1 / 32)
