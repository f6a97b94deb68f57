"""Tests for sslts.data.cleaning: hand-computed values on tiny arrays, errors, and leakage."""
from __future__ import annotations

import copy

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sslts.data.cleaning import (
    ChannelMinMaxScaler,
    ChannelStandardScaler,
    KNNSeriesImputer,
    MeanImputer,
    OutlierDetector,
    channel_correlation,
    decode_bytes,
    fill_along_time,
    missing_summary,
    moving_average,
    redundant_channels,
)

nan = np.nan

TRANSFORMERS = [
    MeanImputer(strategy="mean"),
    MeanImputer(strategy="median"),
    KNNSeriesImputer(n_neighbors=2),
    OutlierDetector(method="zscore", action="clip"),
    OutlierDetector(method="iqr", action="nan"),
    ChannelStandardScaler(),
    ChannelMinMaxScaler(),
]
IDS = ["mean", "median", "knn", "zscore-clip", "iqr-nan", "standard", "minmax"]


def _rng_data(seed=0, n=6, c=3, length=8, nan_frac=0.1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, c, length)) * np.array([1.0, 5.0, 0.1])[:c, None]
    X = X + np.arange(c)[:, None]
    X[rng.random(X.shape) < nan_frac] = nan
    return X


def _fitted_state(est) -> dict:
    """Deep snapshot of every fitted attribute (recursing into nested sklearn estimators)."""
    state = {}
    for k, v in vars(est).items():
        if k.endswith("_") and not k.startswith("__"):
            state[k] = {kk: copy.deepcopy(vv) for kk, vv in vars(v).items()} \
                if isinstance(v, BaseEstimator) else copy.deepcopy(v)
    return state


# ----------------------------------------------------------------------------- decode_bytes
def test_decode_bytes_bytes_array():
    out = decode_bytes(np.array([b"1.5", b"?", b"NaN", b" 2 ", b"-3e1"]))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.array([1.5, nan, nan, 2.0, -30.0], dtype=np.float32))


def test_decode_bytes_mixed_object_keeps_shape():
    vals = np.array([[b"1.5", "2.5", 3.0], [None, b"?", np.float64(4)]], dtype=object)
    out = decode_bytes(vals)
    assert out.shape == (2, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out, np.array([[1.5, 2.5, 3.0], [nan, nan, 4.0]], np.float32))
    np.testing.assert_array_equal(decode_bytes([1, 2]), np.array([1.0, 2.0], np.float32))


def test_decode_bytes_error_names_value_and_index():
    with pytest.raises(ValueError, match=r"b'abc' at index 1 "):
        decode_bytes([b"1", b"abc", b"zzz"])
    with pytest.raises(ValueError, match=r"'x' at index \(1, 0\)"):
        decode_bytes(np.array([[b"1", 2.0], ["x", None]], dtype=object))


# ---------------------------------------------------------------------------- missing values
FILL_X = np.array([[[nan, 1, nan, nan, 4, nan], [nan] * 6],
                   [[2, nan, nan, 5, nan, nan], [nan, nan, 7, nan, nan, nan]]])


@pytest.mark.parametrize("method, expected", [
    ("ffill", [[[nan, 1, 1, 1, 4, 4], [nan] * 6], [[2, 2, 2, 5, 5, 5], [nan, nan, 7, 7, 7, 7]]]),
    ("bfill", [[[1, 1, 4, 4, 4, nan], [nan] * 6],
               [[2, 5, 5, 5, nan, nan], [7, 7, 7, nan, nan, nan]]]),
    ("both", [[[1, 1, 1, 1, 4, 4], [nan] * 6], [[2, 2, 2, 5, 5, 5], [7, 7, 7, 7, 7, 7]]]),
])
def test_fill_along_time_exact(method, expected):
    X = FILL_X.copy()
    np.testing.assert_array_equal(fill_along_time(X, method=method), np.array(expected))
    np.testing.assert_array_equal(X, FILL_X)  # input untouched


def test_fill_along_time_fallback_only_fills_remaining():
    out = fill_along_time(FILL_X, method="both", fallback=0.0)
    np.testing.assert_array_equal(out[0, 1], np.zeros(6))  # the all-NaN row
    np.testing.assert_array_equal(out[1, 1], np.full(6, 7.0))
    out = fill_along_time(FILL_X, method="ffill", fallback=-1.0)
    np.testing.assert_array_equal(out[0, 0], [-1, 1, 1, 1, 4, 4])


def test_missing_summary_counts():
    s = missing_summary(FILL_X)
    assert s == {"total_nan": 19, "per_channel": [8, 11], "series_affected": 2, "n_values": 24,
                 "fraction": 19 / 24}
    assert missing_summary(np.ones((3, 2, 4)))["series_affected"] == 0


def test_mean_vs_median_imputation():
    X = np.array([[[1, 2, nan], [10, nan, 20]], [[9, nan, nan], [30, 40, 100]]])
    np.testing.assert_array_equal(MeanImputer("mean").fit(X).statistics_, [4.0, 40.0])
    np.testing.assert_array_equal(MeanImputer("median").fit(X).statistics_, [2.0, 30.0])
    out = MeanImputer("median").fit_transform(X)
    np.testing.assert_array_equal(out, [[[1, 2, 2], [10, 30, 20]], [[9, 2, 2], [30, 40, 100]]])


def test_knn_imputation_known_neighbour():
    train = np.array([[[0.0, 0, 0]], [[1.0, 1, 1]], [[10.0, 10, 10]]])
    test = np.array([[[1.1, nan, 0.9]]])
    # nan-Euclidean distances: to [1,1,1] is smallest, then [0,0,0], then [10,10,10]
    np.testing.assert_allclose(KNNSeriesImputer(n_neighbors=1).fit(train).transform(test),
                               [[[1.1, 1.0, 0.9]]])
    np.testing.assert_allclose(KNNSeriesImputer(n_neighbors=2).fit(train).transform(test),
                               [[[1.1, 0.5, 0.9]]])


def test_knn_keeps_shape_with_all_nan_training_position():
    train = np.array([[[0.0, nan]], [[1.0, nan]]])
    out = KNNSeriesImputer(n_neighbors=1).fit(train).transform(np.array([[[0.9, nan]]]))
    assert out.shape == (1, 1, 2)


# ------------------------------------------------------------------------------------ outliers
# train: channel 0 alternates +-1 (mean 0, std 1 -> bounds [-3, 3]);
#        channel 1 alternates 8/12 (mean 10, std 2 -> bounds [4, 16])
Z_TRAIN = np.array([[[1, -1, 1, -1], [8, 12, 8, 12]], [[-1, 1, -1, 1], [12, 8, 12, 8]]], float)
Z_TEST = np.array([[[0, 3.0, 3.5, -4], [10, 16, 16.5, 3]],   # 2 + 2 outliers (3.0, 16: on bound)
                   [[2, -2, nan, 0], [5, 15, 10, nan]],       # clean
                   [[0, 0, 0, 0], [10, 10, 10, 100]]])        # 1 outlier


def test_zscore_flag_counts_and_bounds():
    det = OutlierDetector(method="zscore").fit(Z_TRAIN)
    assert det.threshold_ == 3.0
    np.testing.assert_allclose(det.lower_, [-3, 4])
    np.testing.assert_allclose(det.upper_, [3, 16])
    out, rep = det.transform_with_report(Z_TEST)
    np.testing.assert_array_equal(out, Z_TEST)  # "flag" leaves the data as is
    assert rep["n_flagged_points"] == 5 and rep["n_series_affected"] == 2
    np.testing.assert_array_equal(rep["kept_mask"], [True, True, True])
    assert rep["outlier_mask"][0].sum() == 4 and rep["outlier_mask"][0, 0, 2]


def test_zscore_outlier_inside_training_data():
    X = np.zeros((4, 1, 5))
    X[2, 0, 3] = 100.0  # mean 5, std sqrt(500 - 25) = 21.79 -> z = 95 / 21.79 = 4.36 > 3
    _, rep = OutlierDetector(method="zscore").fit(X).transform_with_report(X)
    assert rep["n_flagged_points"] == 1 and rep["n_series_affected"] == 1
    _, rep = OutlierDetector(method="zscore", threshold=4.5).fit(X).transform_with_report(X)
    assert rep["n_flagged_points"] == 0


def test_iqr_flag_and_clip_values_equal_bounds():
    train = np.array([[[0.0, 1, 2, 3, 4]]])  # Q1 = 1, Q3 = 3, IQR = 2 -> bounds [-2, 6]
    test = np.array([[[-2.0, -2.5, 6, 7, nan]]])
    det = OutlierDetector(method="iqr", action="clip").fit(train)
    assert det.threshold_ == 1.5
    out, rep = det.transform_with_report(test)
    assert rep["n_flagged_points"] == 2
    np.testing.assert_array_equal(out, [[[-2.0, -2.0, 6, 6, nan]]])
    assert np.nanmin(out) == det.lower_[0] == -2.0 and np.nanmax(out) == det.upper_[0] == 6.0
    out = OutlierDetector(method="iqr", threshold=0.5, action="nan").fit(train).transform(test)
    np.testing.assert_array_equal(out, [[[nan, nan, nan, nan, nan]]])  # bounds [0, 4]


def test_outlier_constant_and_all_nan_training_channels():
    train = np.stack([np.full((3, 4), 5.0), np.full((3, 4), nan)], axis=1)
    test = np.array([[[5.0, 5.0, 5.1, 4.0], [1e9, -1e9, 0.0, nan]]])
    for method in ("zscore", "iqr"):
        det = OutlierDetector(method=method).fit(train)
        mask = det.outlier_mask(test)  # constant channel: anything != 5 is flagged
        np.testing.assert_array_equal(mask, [[[False, False, True, True], [False] * 4]])
        assert np.isneginf(det.lower_[1]) and np.isposinf(det.upper_[1])


def test_drop_mask():
    det = OutlierDetector(method="zscore", action="drop").fit(Z_TRAIN)
    out, rep = det.transform_with_report(Z_TEST)
    np.testing.assert_array_equal(rep["kept_mask"], [False, True, False])
    np.testing.assert_array_equal(out, Z_TEST[[1]])
    y = np.array([0, 1, 2])
    assert y[rep["kept_mask"]].tolist() == [1]
    np.testing.assert_array_equal(det.transform(Z_TEST), out)


# ----------------------------------------------------------------------------------- smoothing
def test_moving_average_exact_with_shrinking_edges():
    X = np.array([[[1.0, 2, 3, 4, 5]]])
    np.testing.assert_allclose(moving_average(X, 3), [[[1.5, 2, 3, 4, 4.5]]])
    np.testing.assert_allclose(moving_average(X, 5), [[[2, 2.5, 3, 3.5, 4]]])
    np.testing.assert_allclose(moving_average(X, 99), np.full((1, 1, 5), 3.0))
    np.testing.assert_array_equal(moving_average(X, 1), X)


def test_moving_average_nan_safe():
    X = np.array([[[1.0, nan, 3, nan, nan]], [[nan, nan, nan, nan, nan]]])
    out = moving_average(X, 3)
    np.testing.assert_allclose(out, [[[1, 2, 3, 3, nan]], [[nan] * 5]])


# ------------------------------------------------------------------------------------- scaling
def test_standard_scaler_zero_mean_unit_std_per_channel():
    X = _rng_data(nan_frac=0.0)
    X[:, 2] = 7.0  # constant channel -> scale 1, output 0
    sc = ChannelStandardScaler().fit(X)
    Z = sc.transform(X)
    np.testing.assert_allclose(Z[:, :2].mean(axis=(0, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :2].std(axis=(0, 2)), 1, atol=1e-12)
    assert sc.scale_[2] == 1.0 and np.all(Z[:, 2] == 0)
    np.testing.assert_allclose(sc.inverse_transform(Z), X)


def test_standard_scaler_ignores_and_keeps_nan_and_float32():
    X = _rng_data(nan_frac=0.2).astype(np.float32)
    Z = ChannelStandardScaler().fit_transform(X)
    assert Z.dtype == np.float32
    np.testing.assert_array_equal(np.isnan(Z), np.isnan(X))
    np.testing.assert_allclose(np.nanmean(Z, axis=(0, 2)), 0, atol=1e-5)


@pytest.mark.parametrize("rng_", [(0.0, 1.0), (-1.0, 1.0)])
def test_minmax_bounds(rng_):
    X = _rng_data(nan_frac=0.1)
    sc = ChannelMinMaxScaler(feature_range=rng_).fit(X)
    Z = sc.transform(X)
    np.testing.assert_allclose(np.nanmin(Z, axis=(0, 2)), rng_[0], atol=1e-12)
    np.testing.assert_allclose(np.nanmax(Z, axis=(0, 2)), rng_[1], atol=1e-12)
    np.testing.assert_allclose(sc.inverse_transform(Z), X)


# --------------------------------------------------------------------------------- correlation
def test_channel_correlation_known_values():
    X = np.array([[[1.0, 2, 3], [1, 3, 2]]])  # centred [-1,0,1] . [-1,1,0] / (sqrt2*sqrt2) = 0.5
    np.testing.assert_allclose(channel_correlation(X), [[1, 0.5], [0.5, 1]])


def test_channel_correlation_scaled_copy_and_negation():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(5, 40))
    X = np.stack([base, 3 * base + 2, -base, rng.normal(size=(5, 40)), np.ones((5, 40))], axis=1)
    X[0, 3, 0] = nan  # complete-case pooling drops this time point for all channels
    corr = channel_correlation(X)
    assert corr.shape == (5, 5)
    assert corr[0, 1] == pytest.approx(1.0) and corr[0, 2] == pytest.approx(-1.0)
    assert corr[1, 2] == pytest.approx(-1.0) and abs(corr[0, 3]) < 0.5
    assert np.all(np.isnan(corr[4])) and np.all(np.isnan(corr[:, 4]))  # constant channel
    pairs = redundant_channels(corr, threshold=0.95)
    assert {(i, j) for i, j, _ in pairs} == {(0, 1), (0, 2), (1, 2)}
    assert all(abs(r) >= 0.95 for *_, r in pairs)
    named = redundant_channels(corr, 0.95, names=["a", "b", "c", "d", "e"])
    assert {(i, j) for i, j, _ in named} == {("a", "b"), ("a", "c"), ("b", "c")}
    assert redundant_channels(corr, threshold=1.01) == []


# ------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("est", TRANSFORMERS, ids=IDS)
def test_transform_before_fit_raises(est):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        clone(est).transform(np.zeros((2, 3, 8)))


@pytest.mark.parametrize("est", TRANSFORMERS, ids=IDS)
def test_wrong_ndim_raises(est):
    with pytest.raises(ValueError, match=r"3-D array .*got 2-D"):
        clone(est).fit(np.zeros((4, 5)))
    fitted = clone(est).fit(_rng_data())
    with pytest.raises(ValueError, match="3-D array"):
        fitted.transform(np.zeros(5))
    with pytest.raises(ValueError, match="has 2 channels but .* fitted with 3"):
        fitted.transform(np.zeros((2, 2, 8)))


@pytest.mark.parametrize("fn", [fill_along_time, missing_summary, channel_correlation,
                                lambda X: moving_average(X, 3)])
def test_functions_wrong_ndim(fn):
    with pytest.raises(ValueError, match="must be a 3-D array"):
        fn(np.zeros((4, 5)))


def test_bad_option_names():
    X = _rng_data()
    msg = r"method must be one of \['bfill', 'both', 'ffill'\]; got 'linear'"
    with pytest.raises(ValueError, match=msg):
        fill_along_time(X, method="linear")
    with pytest.raises(ValueError, match="strategy must be one of .*'mode'"):
        MeanImputer(strategy="mode").fit(X)
    with pytest.raises(ValueError, match="method must be one of .*'mad'"):
        OutlierDetector(method="mad").fit(X)
    with pytest.raises(ValueError, match="action must be one of .*'remove'"):
        OutlierDetector(action="remove").fit(X)
    with pytest.raises(ValueError, match="window must be a positive odd integer"):
        moving_average(X, 4)
    with pytest.raises(ValueError, match="window must be a positive odd integer"):
        moving_average(X, 0)
    with pytest.raises(ValueError, match="threshold must be >= 0"):
        OutlierDetector(threshold=-1.0).fit(X)
    with pytest.raises(ValueError, match="length 5 but KNNSeriesImputer was fitted with length 8"):
        KNNSeriesImputer().fit(X).transform(X[..., :5])
    with pytest.raises(ValueError, match="feature_range must satisfy min < max"):
        ChannelMinMaxScaler(feature_range=(1, 0)).fit(X)
    with pytest.raises(ValueError, match="square"):
        redundant_channels(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="names has 1 entries"):
        redundant_channels(np.eye(2), names=["a"])


# ------------------------------------------------------------------- no mutation, no leakage
@pytest.mark.parametrize("est", TRANSFORMERS, ids=IDS)
def test_fit_returns_self_and_transform_does_not_mutate(est):
    train, test = _rng_data(0), _rng_data(1)
    train0, test0 = train.copy(), test.copy()
    est = clone(est)
    assert est.fit(train) is est
    out = est.transform(test)
    assert out is not test and out.shape == test.shape
    np.testing.assert_array_equal(train, train0)
    np.testing.assert_array_equal(test, test0)


@pytest.mark.parametrize("est", TRANSFORMERS, ids=IDS)
def test_leakage_fitted_state_unchanged_by_transform(est):
    train = _rng_data(0)
    test = _rng_data(1) * 1000.0 + 500.0  # wildly different statistics
    est = clone(est).fit(train)
    before = _fitted_state(est)
    est.transform(test)
    np.testing.assert_equal(_fitted_state(est), before)
    # the check can fail: fitting on train+test changes the state
    both = clone(est).fit(np.concatenate([train, test]))
    with pytest.raises(AssertionError):
        np.testing.assert_equal(_fitted_state(both), before)


def test_leakage_scalers_use_train_formula():
    train = _rng_data(0, nan_frac=0.0)
    test = _rng_data(1, nan_frac=0.0) * 1000.0 + 500.0
    mu, sd = train.mean(axis=(0, 2))[None, :, None], train.std(axis=(0, 2))[None, :, None]
    out = ChannelStandardScaler().fit(train).transform(test)
    np.testing.assert_allclose(out, (test - mu) / sd)
    leaky = ChannelStandardScaler().fit(np.concatenate([train, test])).transform(test)
    assert not np.allclose(leaky, out)
    lo, hi = train.min(axis=(0, 2))[None, :, None], train.max(axis=(0, 2))[None, :, None]
    out = ChannelMinMaxScaler().fit(train).transform(test)
    np.testing.assert_allclose(out, (test - lo) / (hi - lo))
    assert not np.allclose(ChannelMinMaxScaler().fit(np.concatenate([train, test])).transform(test),
                           out)


def test_leakage_imputers_fill_with_train_values():
    train = _rng_data(0, nan_frac=0.0)
    test = _rng_data(1, nan_frac=0.3) * 1000.0 + 500.0
    out = MeanImputer().fit(train).transform(test)
    expected = np.where(np.isnan(test), train.mean(axis=(0, 2))[None, :, None], test)
    np.testing.assert_allclose(out, expected)
    leaky = MeanImputer().fit(np.concatenate([train, test])).transform(test)
    assert not np.allclose(leaky, out)
    # KNN: the only candidate neighbours are training series
    tr = np.array([[[0.0, 0, 0]], [[10.0, 10, 10]]])
    te = np.array([[[100.0, nan, 100]], [[100.0, 100, 100]]])
    assert KNNSeriesImputer(n_neighbors=1).fit(tr).transform(te)[0, 0, 1] == 10.0
    assert KNNSeriesImputer(n_neighbors=1).fit(np.concatenate([tr, te])).transform(te)[0, 0, 1] \
        == 100.0


def test_leakage_outlier_bounds_from_train():
    det = OutlierDetector(method="zscore").fit(Z_TRAIN)
    test = Z_TRAIN + 1000.0  # every test point is far outside the training bounds
    _, rep = det.transform_with_report(test)
    assert rep["n_flagged_points"] == test.size
    _, rep = OutlierDetector(method="zscore").fit(np.concatenate([Z_TRAIN, test])) \
        .transform_with_report(test)
    assert rep["n_flagged_points"] == 0


# ------------------------------------------------------------------------------------ pipeline
def test_inside_sklearn_pipeline():
    train, test = _rng_data(0, nan_frac=0.2), _rng_data(1, nan_frac=0.2) * 10 + 3
    y = np.arange(len(train)) % 2
    steps = [("fill", FunctionTransformer(fill_along_time, kw_args={"method": "both"})),
             ("impute", MeanImputer()), ("clip", OutlierDetector(action="clip")),
             ("scale", ChannelStandardScaler())]
    pre = Pipeline(steps).fit(train)
    manual = fill_along_time(test)
    manual = MeanImputer().fit(fill_along_time(train)).transform(manual)
    tr = MeanImputer().fit_transform(fill_along_time(train))
    det = OutlierDetector(action="clip").fit(tr)
    manual = ChannelStandardScaler().fit(det.transform(tr)).transform(det.transform(manual))
    np.testing.assert_allclose(pre.transform(test), manual)
    assert not np.isnan(pre.transform(test)).any()
    clf = Pipeline(steps + [("flat", FunctionTransformer(lambda X: X.reshape(len(X), -1))),
                            ("lr", LogisticRegression())]).fit(train, y)
    assert clf.predict(test).shape == (len(test),)
    assert clone(clf).get_params()["clip__threshold"] is None
