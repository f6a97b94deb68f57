"""Stage 2 of NC-VQVAE: the cosine masking schedule, the prior and MaskGIT's sampler."""

from __future__ import annotations

import math

import pytest
import torch

from sslts.vqvae.prior import MaskedTokenPrior, mask_ratio, masked_count, prior_loss, random_mask
from sslts.vqvae.sampler import guided_logits, maskgit_sample, remaining_masked

pytestmark = pytest.mark.usefixtures("one_thread")


def _prior(seed: int = 0) -> MaskedTokenPrior:
    torch.manual_seed(seed)
    return MaskedTokenPrior(num_codes=6, num_tokens=12, num_classes=3, dim=16, depth=1, heads=2)


# ----------------------------------------------------------------------------- schedule
def test_cosine_schedule_values():
    assert mask_ratio(0.0) == 1.0 and mask_ratio(1.0) == pytest.approx(0.0, abs=1e-15)
    assert mask_ratio(1 / 3) == pytest.approx(math.sqrt(3) / 2)


@pytest.mark.parametrize("n, r, count", [
    (10, 0.0, 10),   # everything masked
    (10, 0.5, 8),    # ceil(10 * 0.7071) = 8
    (12, 1 / 3, 11),  # ceil(12 * 0.8660) = 11
    (12, 2 / 3, 6),  # ceil(12 * 0.5) = 6 exactly, not 7
    (10, 1.0, 1),    # at least one token
    (64, 0.25, 60),  # ceil(64 * 0.92388) = 60
])
def test_masked_counts_at_given_ratios(n, r, count):
    assert masked_count(n, r) == count


def test_decoding_schedule_counts():
    assert remaining_masked(16, 4) == [14, 11, 6, 0]   # floor(16 cos(pi s / 8)), s = 1, 2, 3
    assert remaining_masked(3, 8) == [2, 1, 1, 1, 1, 1, 1, 0]  # at least one fixed per step while > 1 left
    assert remaining_masked(7, 1) == [0]
    with pytest.raises(ValueError, match="steps must be a positive int"):
        remaining_masked(4, 0)


def test_random_mask_counts_follow_the_drawn_ratio_and_the_seed():
    gen = torch.Generator().manual_seed(5)
    mask = random_mask(200, 12, gen)
    r = torch.rand(200, generator=torch.Generator().manual_seed(5))  # the ratios it drew first
    expected = [masked_count(12, float(v)) for v in r]
    assert mask.sum(1).tolist() == expected
    assert torch.equal(mask, random_mask(200, 12, torch.Generator().manual_seed(5)))


def test_prior_loss_counts_masked_positions_only():
    logits = torch.zeros(1, 3, 4)
    logits[0, 0, 2] = 100.0  # position 0 certain of id 2 (wrong, the target is 1): huge loss if counted
    targets, mask = torch.tensor([[1, 3, 0]]), torch.tensor([[False, True, True]])
    assert prior_loss(logits, targets, mask).item() == pytest.approx(math.log(4))
    with pytest.raises(ValueError, match="mask selects no position"):
        prior_loss(logits, targets, torch.zeros(1, 3, dtype=torch.bool))


# ----------------------------------------------------------------------------- prior
def test_prior_shapes_training_step_and_errors():
    prior = _prior()
    tokens = torch.randint(0, 6, (4, 12), generator=torch.Generator().manual_seed(0))
    loss, terms = prior.training_loss(tokens, torch.tensor([0, 1, 2, 0]), torch.Generator().manual_seed(1))
    loss.backward()
    assert math.isfinite(loss.item()) and 0 < terms["masked_share"] <= 1
    assert prior.token_embedding.weight.grad is not None
    with pytest.raises(ValueError, match=r"tokens must be \(B, 12\)"):
        prior(torch.zeros(2, 5, dtype=torch.long), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="dim .* must be divisible by heads"):
        MaskedTokenPrior(6, 12, 3, dim=10, heads=4)


def test_guidance_zero_is_the_conditional_prior_and_one_extrapolates():
    prior = _prior().eval()
    tokens, classes = torch.full((2, 12), 6), torch.tensor([0, 2])
    cond, uncond = prior(tokens, classes), prior(tokens, torch.full_like(classes, 3))
    torch.testing.assert_close(guided_logits(prior, tokens, classes, 0.0), cond)
    torch.testing.assert_close(guided_logits(prior, tokens, classes, 1.0), 2 * cond - uncond)


# ----------------------------------------------------------------------------- sampler
def test_sampler_fills_every_masked_position():
    prior = _prior()
    out = maskgit_sample(prior, torch.tensor([0, 1, 2, 3]), steps=5, generator=torch.Generator().manual_seed(0))
    assert out.shape == (4, 12) and out.dtype == torch.int64
    assert int(out.min()) >= 0 and int(out.max()) < 6  # no [MASK] id (6) left
    assert prior.training  # mode restored


def test_sampler_never_changes_given_tokens():
    prior = _prior()
    gen = torch.Generator().manual_seed(1)
    given = torch.randint(0, 6, (3, 12), generator=gen)
    known = torch.rand(3, 12, generator=gen) < 0.5
    known[2] = True  # a fully given row stays as it is
    out = maskgit_sample(prior, torch.tensor([0, 1, 2]), steps=4, guidance=1.0, generator=gen,
                         given=given, known=known)
    assert torch.equal(out[known], given[known])
    assert int(out.max()) < 6


def test_sampler_is_reproducible_and_checks_arguments():
    prior = _prior()
    classes = torch.tensor([1, 1])
    a = maskgit_sample(prior, classes, steps=3, generator=torch.Generator().manual_seed(7))
    b = maskgit_sample(prior, classes, steps=3, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="given and known go together"):
        maskgit_sample(prior, classes, given=torch.zeros(2, 12, dtype=torch.long))
    with pytest.raises(ValueError, match="temperature must be > 0"):
        maskgit_sample(prior, classes, temperature=0.0)


def test_a_confident_prior_is_reproduced_by_the_sampler():
    """A prior whose head always says id 4 (bias 50): every sampled token is 4."""
    prior = _prior()
    with torch.no_grad():
        prior.head.weight.zero_()
        prior.head.bias.fill_(-50.0)
        prior.head.bias[4] = 50.0
    out = maskgit_sample(prior, torch.tensor([0, 2]), steps=3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, torch.full((2, 12), 4))
