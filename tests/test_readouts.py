"""Read-outs of a feature map, and their training-split score (sslts.evaluate.readouts)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sslts.encoders import CNNEncoder
from sslts.evaluate import nested_svm_cv, parse_readout, readout


def test_readouts_pool_a_known_feature_map():
    h = torch.tensor([[[1.0, 5.0, 2.0, 0.0], [-1.0, -3.0, 4.0, 2.0]]])  # (B=1, D=2, L'=4)
    assert readout(h, "avg").tolist() == [[2.0, 0.5]]
    assert readout(h, "max").tolist() == [[5.0, 4.0]]
    assert readout(h, "bins2-max").tolist() == [[5.0, 2.0, -1.0, 4.0]]  # D blocks of bins
    assert readout(h, "bins2-avg+max").tolist() == [[3.0, 1.0, -2.0, 3.0, 5.0, 4.0]]
    assert parse_readout("bins4-max+avg") == [(4, "max"), (1, "avg")]


def test_a_readout_named_as_the_encoders_pooling_gives_its_embedding():
    encoder = CNNEncoder(3, temporal_bins=4, pooling="max").eval()
    x = torch.randn(5, 3, 60, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(readout(encoder.features(x), "bins4-max"), encoder(x))


@pytest.mark.parametrize("name", ["", "median", "bins0-max", "bins-max", "max+", "bins4max"])
def test_a_malformed_readout_name_is_refused_with_the_grammar(name):
    with pytest.raises(ValueError, match="avg|read-out name"):
        parse_readout(name)


def test_nested_cv_is_perfect_on_separated_classes_and_near_chance_on_shuffled_labels():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 20)
    z = rng.normal(size=(60, 4)) + 10.0 * np.eye(3, 4)[y]  # three far-apart clusters
    separated = nested_svm_cv(z, y, seed=0, folds=5, repeats=2)
    assert separated["mean"] == 1.0 and len(separated["scores"]) == 10
    shuffled = nested_svm_cv(z, rng.permutation(y), seed=0, folds=5, repeats=2)
    assert shuffled["mean"] < 0.6  # chance is 1/3
    assert nested_svm_cv(z, y, seed=0, folds=5, repeats=2) == separated  # seeded folds


def test_nested_cv_needs_a_series_per_fold_in_every_class():
    z, y = np.zeros((12, 2)), np.array([0] * 8 + [1] * 4)
    with pytest.raises(ValueError, match="smallest class has 4 series"):
        nested_svm_cv(z, y, folds=5)
