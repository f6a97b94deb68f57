"""Patch masks and the masked reconstruction loss."""

import pytest
import torch

from sslts.masking import expand_patch_mask, masked_mse, n_masked, patch_mask


@pytest.mark.parametrize("n, ratio, expected", [(10, 0.75, 8), (10, 0.4, 4), (4, 0.99, 3), (4, 0.01, 1)])
def test_n_masked_rounds_and_keeps_one_patch_of_each_kind(n, ratio, expected):
    assert n_masked(n, ratio) == expected


def test_patch_mask_hides_exactly_k_patches_per_row_and_is_seeded():
    mask = patch_mask(64, 10, 0.6, torch.Generator().manual_seed(0))
    assert mask.shape == (64, 10) and mask.dtype == torch.bool
    assert (mask.sum(dim=1) == 6).all()
    assert torch.equal(mask, patch_mask(64, 10, 0.6, torch.Generator().manual_seed(0)))
    # Every patch gets hidden in some row: positions are drawn, not fixed.
    assert mask.any(dim=0).all()


def test_expand_patch_mask_repeats_each_patch_and_leaves_the_tail_visible():
    mask = torch.tensor([[True, False, True]])
    steps = expand_patch_mask(mask, patch_size=2, length=7)
    assert steps.shape == (1, 1, 7)
    assert steps[0, 0].tolist() == [True, True, False, False, True, True, False]
    with pytest.raises(ValueError, match="do not fit"):
        expand_patch_mask(mask, patch_size=3, length=7)


def test_masked_mse_counts_only_hidden_entries():
    target = torch.zeros(1, 2, 4)
    pred = torch.tensor([[[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0]]])
    mask = torch.tensor([[[True, False, False, True]]])  # (1, 1, 4): steps 0 and 3, both channels
    # hidden errors: channel 0: 1^2, 4^2; channel 1: 1, 1 -> (1 + 16 + 1 + 1) / 4
    assert masked_mse(pred, target, mask).item() == pytest.approx(19 / 4)
    with pytest.raises(ValueError, match="hides nothing"):
        masked_mse(pred, target, torch.zeros(1, 1, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="ratio"):
        n_masked(10, 1.0)
