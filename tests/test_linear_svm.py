"""Tests for the linear-SVM probe (``PROTOCOLS["linear_svm"]``), the NC-VQVAE thesis's protocol."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from sslts.evaluate.protocols import LINEAR_CS, PROTOCOLS, evaluate_embeddings, get_protocol, linear_svm_probe


def blobs(n_per_class: int, k: int = 3, d: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``k`` well separated Gaussian blobs (centres 10 apart on the axes, std 0.3)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per_class)
    centres = 10.0 * np.eye(k, d)
    return centres[y] + 0.3 * rng.standard_normal((y.size, d)), y


def test_registered_under_its_name():
    assert get_protocol("linear_svm") is linear_svm_probe and PROTOCOLS["linear_svm"] is linear_svm_probe


def test_a_threshold_in_one_dimension_gives_the_known_predictions():
    # Classes split at z = 0.5 with a wide margin: any linear SVM puts the boundary inside
    # (0.2, 0.8), so the test points' labels are known by hand.
    z = np.array([[0.0], [0.1], [0.2], [0.8], [0.9], [1.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    test = np.array([[-3.0], [0.15], [0.85], [4.0]])
    r = linear_svm_probe(z, y, test, np.array([0, 0, 1, 1]), cv=3)
    assert r.protocol == "linear_svm" and r.y_pred.tolist() == [0, 0, 1, 1]
    assert r.accuracy == 1.0 and r.auroc == 1.0 and r.confusion == [[2, 0], [0, 2]]
    assert r.best_params["cv_folds"] == 3 and r.best_params["cv_accuracy"] == 1.0


def test_separable_blobs_are_classified_perfectly_and_c_is_from_the_grid():
    tz, ty = blobs(20, seed=0)
    ez, ey = blobs(10, seed=1)
    r = linear_svm_probe(tz, ty, ez, ey)
    assert r.accuracy == 1.0 and r.macro_f1 == 1.0 and r.auroc == 1.0
    assert r.best_params["C"] in LINEAR_CS and r.best_params["cv_folds"] == 5


def test_the_model_is_scaler_then_linearsvc_refitted_with_the_chosen_c():
    rng = np.random.default_rng(3)
    tz, ez = rng.standard_normal((60, 5)), rng.standard_normal((40, 5))
    ty, ey = (tz[:, 0] + 0.8 * rng.standard_normal(60) > 0).astype(int), (ez[:, 0] > 0).astype(int)
    r = linear_svm_probe(tz, ty, ez, ey, seed=0)
    ref = make_pipeline(StandardScaler(), LinearSVC(C=r.best_params["C"], max_iter=10_000, random_state=0))
    np.testing.assert_array_equal(r.y_pred, ref.fit(tz, ty).predict(ez))


def test_c_is_chosen_on_the_training_split_only():
    tz, ty = blobs(15, seed=0)
    ez, ey = blobs(5, seed=1)
    a = linear_svm_probe(tz, ty, ez, ey)
    b = linear_svm_probe(tz, ty, ez[::-1] * 3.0, ey[::-1])  # another test split
    assert a.best_params == b.best_params


def test_search_max_searches_a_subsample_then_refits_on_all():
    tz, ty = blobs(30, seed=0)
    r = linear_svm_probe(tz, ty, tz, ty, search_max=30)
    assert r.best_params["n_search"] == 30 and r.accuracy == 1.0
    assert "n_search" not in linear_svm_probe(tz, ty, tz, ty, search_max=500).best_params
    out = evaluate_embeddings(tz, ty, tz, ty, protocols=("linear_svm", "knn"), search_max=30)
    assert out["linear_svm"].best_params["n_search"] == 30


def test_a_class_with_one_series_skips_the_search():
    z = np.array([[0.0], [0.1], [0.2], [5.0]])
    r = linear_svm_probe(z, np.array([0, 0, 0, 1]), z, np.array([0, 0, 0, 1]))
    assert r.best_params == {"C": 1.0, "cv_folds": 0, "cv_accuracy": None}


@pytest.mark.parametrize("kwargs, message", [({"cv": 1}, "cv must be an int >= 2"),
                                             ({"Cs": ()}, "Cs must be a non-empty"),
                                             ({"Cs": (1.0, -1.0)}, "Cs must be a non-empty")])
def test_bad_settings_raise(kwargs, message):
    tz, ty = blobs(5)
    with pytest.raises(ValueError, match=message):
        linear_svm_probe(tz, ty, tz, ty, **kwargs)
