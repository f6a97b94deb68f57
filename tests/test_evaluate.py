"""Tests of sslts.evaluate: metrics, probes, label fractions, diagnostics, embed and fine-tuning."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from sklearn.datasets import make_circles
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits
from torch import nn

from sslts.evaluate import (
    PROTOCOLS,
    alignment,
    classification_metrics,
    effective_rank,
    embed,
    evaluate_embeddings,
    evaluate_label_fractions,
    finetune,
    knn_probe,
    label_fraction_indices,
    linear_probe,
    per_dimension_std,
    representation_summary,
    svm_probe,
    tsne_2d,
    uniformity,
)


@pytest.fixture(autouse=True)
def _single_threaded_native_pools():
    # These problems are tiny: multithreaded BLAS/OpenMP only adds overhead, and on a busy machine
    # spinning threads made the scikit-learn fits and t-SNE here ten times slower. Same results.
    with threadpool_limits(limits=1):
        yield


def blobs(n_per_class: int, seed: int, d: int = 5, k: int = 3, spread: float = 0.3):
    """k well-separated Gaussian blobs in d dimensions (centres 4 units apart on the axes)."""
    rng = np.random.default_rng(seed)
    centres = 4.0 * np.eye(k, d)
    z = np.concatenate([c + spread * rng.standard_normal((n_per_class, d)) for c in centres])
    y = np.repeat(np.arange(k), n_per_class)
    return z.astype(np.float32), y


# --------------------------------------------------------------------------- metrics
def test_metrics_on_a_hand_made_confusion():
    m = classification_metrics([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0])
    assert m["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert m["accuracy"] == pytest.approx(4 / 6)
    # per-class F1: class 0: P=1/2 R=1/2 -> 1/2; class 1: P=2/3 R=1 -> 4/5; class 2: P=1 R=1/2 -> 2/3
    assert m["macro_f1"] == pytest.approx((1 / 2 + 4 / 5 + 2 / 3) / 3)
    assert math.isnan(m["auroc"])  # no scores given


def test_auroc_binary_and_matches_sklearn_ovr_when_all_classes_present():
    # positives {0.35, 0.8} vs negatives {0.1, 0.4}: 3 of 4 pairs ordered correctly
    m = classification_metrics([0, 0, 1, 1], [0, 1, 0, 1], scores=[0.1, 0.4, 0.35, 0.8])
    assert m["auroc"] == pytest.approx(0.75)
    rng = np.random.default_rng(0)
    y = np.array([0, 1, 2] * 10)
    logits = rng.standard_normal((30, 3)) + 1.5 * np.eye(3)[y]
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    expected = roc_auc_score(y, probs, multi_class="ovr", average="macro")
    assert classification_metrics(y, probs.argmax(1), probs)["auroc"] == pytest.approx(expected)
    # raw decision values are softmaxed first, so they give the same AUROC as the probabilities
    assert classification_metrics(y, probs.argmax(1), logits)["auroc"] == pytest.approx(expected)


def test_auroc_skips_classes_absent_from_y_true():
    probs = np.array([[0.7, 0.2, 0.1], [0.5, 0.3, 0.2], [0.2, 0.6, 0.2], [0.6, 0.3, 0.1]])
    y = np.array([0, 0, 1, 1])  # class 2 absent: its AUROC is undefined and left out
    # class 0: pos {.7,.5} vs neg {.2,.6} -> 3/4; class 1: pos {.6,.3} vs neg {.2,.3} -> 3.5/4
    m = classification_metrics(y, probs.argmax(1), probs)
    assert m["auroc"] == pytest.approx((0.75 + 0.875) / 2)
    assert m["confusion"][2] == [0, 0, 0]
    single = classification_metrics([1, 1], [1, 0], np.array([[0.2, 0.8, 0.0], [0.6, 0.4, 0.0]]))
    assert math.isnan(single["auroc"])


def test_metrics_errors():
    with pytest.raises(ValueError, match="differ in length"):
        classification_metrics([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="n_classes=2 but the labels go up to 2"):
        classification_metrics([0, 2], [0, 1], n_classes=2)
    with pytest.raises(ValueError, match="scores has 3 columns but there are 4 classes"):
        classification_metrics([0, 3], [0, 1], np.zeros((2, 3)), n_classes=4)
    with pytest.raises(ValueError, match="integer class labels"):
        classification_metrics([0.0, 1.0], [0, 1])


# --------------------------------------------------------------------------- protocols
def test_linear_probe_separable_blobs_and_c_depends_on_train_only():
    tz, ty = blobs(20, seed=0)
    ez, ey = blobs(10, seed=1)
    res = linear_probe(tz, ty, ez, ey)
    assert (res.accuracy, res.macro_f1, res.auroc) == (1.0, 1.0, 1.0)
    assert res.best_params["cv_folds"] == 5 and res.best_params["C"] in [10.0**p for p in range(-4, 5)]
    np.testing.assert_array_equal(res.y_pred, ey)
    # other test features and shuffled test labels: a different score, the same chosen C
    rng = np.random.default_rng(2)
    other = linear_probe(tz, ty, rng.standard_normal(ez.shape), rng.permutation(ey))
    assert other.best_params == res.best_params
    assert other.accuracy < 1.0
    json.dumps(res.metrics())  # plain floats


def test_linear_probe_tiny_classes():
    tz, ty = blobs(6, seed=0, k=2)
    ez, ey = blobs(3, seed=1, k=2)
    grid = (0.1, 1.0, 10.0)
    two = linear_probe(np.vstack([tz, tz[:2] + 8.0]), np.r_[ty, 2, 2], ez, ey, Cs=grid)
    assert two.best_params["cv_folds"] == 2  # folds shrink to the smallest class (2 samples)
    one = linear_probe(np.vstack([tz, tz[:1] + 8.0]), np.r_[ty, 2], ez, ey, Cs=grid)
    assert one.best_params == {"C": 1.0, "cv_folds": 0, "cv_accuracy": None}  # 1-sample class: no CV
    assert len(one.confusion) == 3 and one.accuracy == 1.0


def test_svm_beats_linear_on_concentric_circles():
    tz, ty = make_circles(200, noise=0.05, factor=0.4, random_state=0)
    ez, ey = make_circles(200, noise=0.05, factor=0.4, random_state=1)
    svm, lin = svm_probe(tz, ty, ez, ey), linear_probe(tz, ty, ez, ey, Cs=(0.01, 1.0, 100.0))
    assert svm.accuracy >= 0.95 and lin.accuracy <= 0.75
    assert svm.best_params["cv_folds"] == 5 and svm.best_params["n_fit"] == 200
    assert svm.auroc > 0.95
    shifted = svm_probe(tz, ty, ez[::-1] * 3.0, ey)  # test split changed: same C
    assert shifted.best_params == svm.best_params


def test_svm_small_train_skips_search_and_large_train_is_subsampled():
    tz, ty = blobs(10, seed=0, k=3)  # 30 < 50 samples: TS2Vec fits C = inf directly
    small = svm_probe(tz, ty, tz, ty)
    assert small.best_params == {"C": math.inf, "cv_folds": 0, "n_fit": 30, "cv_accuracy": None}
    tz, ty = blobs(40, seed=0, k=3)
    capped = svm_probe(tz, ty, tz, ty, max_samples=60, seed=3)
    assert capped.best_params["n_fit"] == 60 and capped.best_params["cv_folds"] == 5


def test_cv_accuracy_is_the_training_split_score_of_the_chosen_c():
    """The recorded train-CV accuracy is what scikit-learn's own CV gives at the chosen C."""
    tz, ty = make_circles(120, noise=0.2, factor=0.5, random_state=0)
    ez, ey = make_circles(60, noise=0.2, factor=0.5, random_state=1)
    svm = svm_probe(tz, ty, ez, ey)
    chosen = SVC(C=svm.best_params["C"], kernel="rbf", gamma="scale", max_iter=10_000_000)
    assert svm.best_params["cv_accuracy"] == pytest.approx(cross_val_score(chosen, tz, ty, cv=5).mean())
    assert 0.5 < svm.best_params["cv_accuracy"] < 1.0   # noisy circles: neither chance nor perfect
    lin = linear_probe(tz, ty, ez, ey, seed=3)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=lin.best_params["C"], max_iter=10_000,
                                                              random_state=3))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=3)
    assert lin.best_params["cv_accuracy"] == pytest.approx(cross_val_score(pipe, tz, ty, cv=folds).mean())
    blobs_z, blobs_y = blobs(20, seed=0)
    assert linear_probe(blobs_z, blobs_y, blobs_z, blobs_y).best_params["cv_accuracy"] == 1.0


def test_knn_is_cosine_majority_vote():
    train = np.array([[1, 0.1], [2, 0.5], [10, 3], [0, 1], [10, 4], [1, -5]])  # 3 per class: k = 3 is allowed
    train_y = np.array([0, 0, 1, 1, 1, 0])
    test = np.array([[10, 1], [0.1, 1]])
    # by angle, [10, 1] is nearest to rows 0, 1, 2 (labels 0, 0, 1) -> 0; [0.1, 1] -> rows 3, 4, 2 -> 1
    res = knn_probe(train, train_y, test, np.array([0, 1]), k=3)
    np.testing.assert_array_equal(res.y_pred, [0, 1])
    assert res.auroc == 1.0 and res.best_params["k"] == 3
    # plain Euclidean 3-NN would vote [10, 1] into class 1 (rows 2, 4, 1): the test can tell them apart
    assert KNeighborsClassifier(3).fit(train, train_y).predict(test[:1])[0] == 1
    tie = knn_probe(np.array([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0], [0.01, 1.0]]), np.array([1, 1, 0, 0]),
                    np.array([[1.0, 1.0]]), np.array([1]), k=5)
    assert tie.y_pred.tolist() == [0] and tie.best_params["k"] == 2  # tied vote -> smallest label


def test_knn_uses_no_more_neighbours_than_the_smallest_class_has():
    # One labelled series per class (4 classes): 5 votes would be mostly other classes' votes.
    train = np.eye(4)
    test = np.eye(4) + 0.1
    res = knn_probe(train, np.arange(4), test, np.arange(4), k=5)
    assert res.best_params["k"] == 1 and res.accuracy == 1.0
    assert KNeighborsClassifier(4).fit(train, np.arange(4)).score(test, np.arange(4)) < 1.0


def test_evaluate_embeddings_registry_and_errors():
    tz, ty = blobs(10, seed=0)
    tz_before, ty_before = tz.copy(), ty.copy()
    out = evaluate_embeddings(tz, ty, tz, ty, protocols=("knn", "svm"))
    np.testing.assert_array_equal(tz, tz_before)  # inputs are never modified
    np.testing.assert_array_equal(ty, ty_before)
    assert list(out) == ["knn", "svm"] and set(PROTOCOLS) == {"linear", "svm", "knn", "linear_svm"}
    assert out["knn"].protocol == "knn" and out["svm"].accuracy == 1.0
    known = r"unknown protocol 'ridge'; known protocols: \['knn', 'linear', 'linear_svm', 'svm'\]"
    with pytest.raises(ValueError, match=known):
        evaluate_embeddings(tz, ty, tz, ty, protocols=("linear", "ridge"))
    with pytest.raises(ValueError, match="train_z has D=5 but test_z has D=4"):
        linear_probe(tz, ty, tz[:, :4], ty)
    with pytest.raises(ValueError, match="single class"):
        linear_probe(tz, np.zeros_like(ty), tz, ty)
    bad = tz.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="train_z contains NaN"):
        knn_probe(bad, ty, tz, ty)


# --------------------------------------------------------------------------- label fractions
def test_label_fraction_indices_stratified_seeded_nested():
    y = np.array([0] * 10 + [1] * 20 + [2] * 3)[np.random.default_rng(0).permutation(33)]
    idx = label_fraction_indices(y, 0.1, seed=0)
    assert np.bincount(y[idx]).tolist() == [1, 2, 1]  # round(1), round(2), max(1, round(0.3))
    half = label_fraction_indices(y, 0.5, seed=0)
    assert np.bincount(y[half]).tolist() == [5, 10, 2]  # 1.5 rounds half up
    assert set(idx) <= set(half) and np.all(np.diff(half) > 0)  # nested, sorted, unique
    np.testing.assert_array_equal(half, label_fraction_indices(y, 0.5, seed=0))
    assert not np.array_equal(half, label_fraction_indices(y, 0.5, seed=1))
    np.testing.assert_array_equal(label_fraction_indices(y, 1.0, seed=5), np.arange(33))
    for bad in (0, 0.0, -0.1, 1.5, float("nan"), True, "0.5"):
        with pytest.raises(ValueError, match=r"fraction must be a number in \(0, 1\]"):
            label_fraction_indices(y, bad)


def test_evaluate_label_fractions_rows():
    tz, ty = blobs(20, seed=0)
    ez, ey = blobs(5, seed=1)
    rows = evaluate_label_fractions(tz, ty, ez, ey, fractions=(0.1, 1.0), protocol="knn")
    assert [r["n_labelled"] for r in rows] == [6, 60]
    assert rows[1]["accuracy"] == knn_probe(tz, ty, ez, ey).accuracy == 1.0
    assert set(rows[0]) == {"fraction", "n_labelled", "protocol", "accuracy", "macro_f1", "auroc"}
    with pytest.raises(ValueError, match="unknown protocol"):
        evaluate_label_fractions(tz, ty, ez, ey, protocol="nope")


# --------------------------------------------------------------------------- diagnostics
def test_effective_rank_closed_forms():
    rng = np.random.default_rng(0)
    rank1 = np.outer(rng.standard_normal(20), rng.standard_normal(6))
    assert effective_rank(rank1) == pytest.approx(1.0)
    q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    assert effective_rank(3.0 * q) == pytest.approx(8.0)  # equal singular values -> D
    assert effective_rank(np.vstack([np.eye(4), np.eye(4)])) == pytest.approx(4.0)
    p = np.array([0.75, 0.25])  # singular values 3 and 1
    assert effective_rank(np.diag([3.0, 1.0])) == pytest.approx(np.exp(-(p * np.log(p)).sum()))
    assert effective_rank(np.zeros((3, 2))) == 0.0


def test_alignment_uniformity_and_std_closed_forms():
    assert uniformity(np.array([[1.0, 0.0], [-5.0, 0.0]])) == pytest.approx(-8.0)  # -t * |2|^2
    assert uniformity(np.array([[1.0, 0.0], [-1.0, 0.0]]), t=1.0) == pytest.approx(-4.0)
    angles = np.array([0, 2 * np.pi / 3, 4 * np.pi / 3])  # equilateral triangle: |d|^2 = 3
    assert uniformity(np.c_[np.cos(angles), np.sin(angles)]) == pytest.approx(-6.0)
    assert uniformity(np.ones((4, 3))) == pytest.approx(0.0)  # collapsed
    z1, z2 = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[0.0, 4.0], [0.0, 1.0]])
    assert alignment(z1, z2) == pytest.approx((2.0 + 0.0) / 2)
    assert alignment(z1, z2, alpha=1) == pytest.approx(np.sqrt(2) / 2)
    np.testing.assert_allclose(per_dimension_std(np.array([[1.0, 0.0], [0.0, 1.0]])), [0.5, 0.5])
    raw = per_dimension_std(np.array([[2.0, 0.0], [0.0, 4.0]]), normalize=False)
    np.testing.assert_allclose(raw, [1, 2])
    np.testing.assert_allclose(per_dimension_std(np.tile([[3.0, 4.0]], (5, 1))), [0, 0])
    with pytest.raises(ValueError, match="same shape"):
        alignment(z1, z2[:1])


def test_tsne_and_summary():
    z, y = blobs(15, seed=0, d=6, k=2)
    a, b = tsne_2d(z, seed=0, perplexity=30), tsne_2d(z, seed=0, perplexity=30)  # perplexity clipped
    np.testing.assert_array_equal(a, b)
    c0, c1 = a[y == 0].mean(0), a[y == 1].mean(0)
    spread = max(np.linalg.norm(a[y == k] - a[y == k].mean(0), axis=1).max() for k in (0, 1))
    assert np.linalg.norm(c0 - c1) > spread  # the two blobs stay apart in the map
    s = representation_summary(z, z_aug=z + 0.01, max_samples=10)
    assert s["dim"] == 6 and s["std_collapse_reference"] == pytest.approx(1 / np.sqrt(6))
    assert s["effective_rank"] == pytest.approx(effective_rank(z))
    assert 0 < s["alignment"] < 1e-3 and s["uniformity"] < 0
    assert math.isnan(representation_summary(z)["alignment"])


# --------------------------------------------------------------------------- embed
class TinyEncoder(nn.Module):
    """Conv -> BN -> ReLU -> dropout -> global average pool -> linear; (B, C, L) -> (B, out_dim)."""

    def __init__(self, in_channels: int = 1, out_dim: int = 8, bn_on_features: bool = False):
        super().__init__()
        self.out_dim = out_dim
        self.conv = nn.Sequential(nn.Conv1d(in_channels, 8, 5, padding=2), nn.BatchNorm1d(8),
                                  nn.ReLU(), nn.Dropout(0.2), nn.AdaptiveAvgPool1d(1), nn.Flatten())
        self.fc = nn.Linear(8, out_dim)
        self.feature_bn = nn.BatchNorm1d(out_dim) if bn_on_features else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature_bn(self.fc(self.conv(x)))


def test_embed_restores_modes_and_matches_eval_forward():
    torch.manual_seed(0)
    enc = TinyEncoder(in_channels=2)
    enc.train()
    enc.fc.eval()  # a mixed mode must come back exactly
    X = np.random.default_rng(0).standard_normal((7, 2, 16)).astype(np.float32)
    stats = enc.conv[1].running_mean.clone()
    z = embed(enc, X, batch_size=3)
    assert enc.training and enc.conv.training and not enc.fc.training
    torch.testing.assert_close(enc.conv[1].running_mean, stats)  # eval mode: BN stats untouched
    with torch.no_grad():
        expected = enc.eval()(torch.from_numpy(X)).numpy()
    assert z.dtype == np.float32
    np.testing.assert_allclose(z, expected, rtol=1e-5, atol=1e-6)


def test_embed_prefers_encode_and_accepts_callables():
    class Method(nn.Module):
        def forward(self, x):
            raise AssertionError("forward must not be used for embeddings")

        def encode(self, x):
            return x.mean(dim=-1)  # (B, C)

    X = np.arange(24, dtype=np.float32).reshape(3, 2, 4)
    np.testing.assert_allclose(embed(Method(), X), X.mean(-1))
    np.testing.assert_allclose(embed(lambda x: x.amax(dim=-1), X, batch_size=2), X.max(-1))
    with pytest.raises(ValueError, match=r"must return a \(B, D\) tensor"):
        embed(lambda x: x, X)
    with pytest.raises(ValueError, match=r"non-empty \(n, C, L\)"):
        embed(Method(), X[0])
    with pytest.raises(TypeError, match="encoder must be"):
        embed(42, X)


# --------------------------------------------------------------------------- fine-tuning
def series(n_per_class: int, seed: int):
    """Two classes of noisy 1-channel series with means -1 and +1: separable after pooling."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n_per_class)
    X = (2.0 * y - 1.0)[:, None, None] + rng.standard_normal((2 * n_per_class, 1, 32))
    return X.astype(np.float32), y


def test_finetune_learns_copies_and_is_reproducible():
    Xtr, ytr = series(32, seed=0)
    Xte, yte = series(16, seed=1)
    torch.manual_seed(0)
    enc = TinyEncoder()
    before = {k: v.clone() for k, v in enc.state_dict().items()}
    kwargs = dict(epochs=12, batch_size=16, lr=1e-2, seed=0, progress=False)
    rng_state = torch.get_rng_state()
    r1 = finetune(enc, Xtr, ytr, Xte, yte, **kwargs)
    assert torch.equal(torch.get_rng_state(), rng_state)  # the caller's global RNG is untouched
    r2 = finetune(enc, Xtr, ytr, Xte, yte, **kwargs)
    assert r1.accuracy >= 0.9 and r1.auroc >= 0.9 and len(r1.history) == 12
    assert r1.history[-1] < r1.history[0]
    for k, v in enc.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)  # caller's weights untouched
    assert r1.history == r2.history and r1.y_pred.tolist() == r2.y_pred.tolist()
    assert finetune(enc, Xtr, ytr, Xte, yte, **{**kwargs, "seed": 1}).history != r1.history


def test_finetune_fraction_augment_single_sample_batch_and_errors():
    Xtr, ytr = series(16, seed=0)
    calls = []

    def augment(x, generator):
        calls.append(x.shape[0])
        return x + 0.1 * torch.randn(x.shape, generator=generator)

    torch.manual_seed(0)
    enc = TinyEncoder(bn_on_features=True)  # BatchNorm on (B, D) fails on a batch of one
    r = finetune(enc, Xtr[:17], ytr[:17], Xtr, ytr, epochs=2, batch_size=16, progress=False,
                 augment=augment)
    assert r.n_train == 17 and calls == [16, 16]  # the single-sample last batch was dropped
    half = finetune(enc, Xtr, ytr, Xtr, ytr, epochs=1, progress=False, train_fraction=0.5)
    assert half.n_train == 16
    with pytest.raises(ValueError, match="out_dim"):
        finetune(nn.Flatten(), Xtr, ytr, Xtr, ytr, epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        finetune(enc, Xtr, ytr, Xtr, ytr, epochs=0, progress=False)
    with pytest.raises(ValueError, match=r"\(C, L\)"):
        finetune(enc, Xtr, ytr, Xtr[:, :, :16], ytr, epochs=1, progress=False)
