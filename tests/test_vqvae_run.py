"""NC-VQVAE's configuration, measures and a tiny two-stage run on synthetic series."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sslts.vqvae import VQVAEConfig, run_vqvae
from sslts.vqvae.evaluate import inception_score
from sslts.vqvae.train import train_tokenizer

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = dict(num_codes=8, latent_dim=8, hidden=8, downsamples=2, proj_dim=16, stage1_epochs=2, batch_size=8,
            prior_dim=16, prior_depth=1, prior_heads=2, stage2_epochs=2, sample_steps=3, cas_epochs=1,
            fidelity_epochs=1, device="cpu")


def _toy(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two classes of length-30 series: a sine and a ramp, with noise."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, 30)
    y = np.arange(n) % 2
    X = np.where(y[:, None] == 0, np.sin(2 * np.pi * 3 * t), 2 * t - 1)[:, None, :]
    return (X + 0.1 * rng.normal(size=X.shape)).astype(np.float32), y


def test_inception_score_known_values():
    assert inception_score(np.eye(3)) == pytest.approx(3.0)
    assert inception_score(np.full((4, 5), 0.2)) == pytest.approx(1.0)
    # all samples confidently class 0: no diversity, IS = 1
    assert inception_score(np.tile([1.0, 0.0], (6, 1))) == pytest.approx(1.0)
    # two samples [0.75, 0.25] and [0.25, 0.75]: marginal 1/2, KL = 0.75 ln 1.5 + 0.25 ln 0.5
    expected = np.exp(0.75 * np.log(1.5) + 0.25 * np.log(0.5))
    assert inception_score(np.array([[0.75, 0.25], [0.25, 0.75]])) == pytest.approx(expected)
    with pytest.raises(ValueError, match="rows sum to 1"):
        inception_score(np.array([[0.5, 0.6]]))


@pytest.mark.parametrize("change, message", [
    ({"variant": "fancy"}, "variant must be one of"),
    ({"ssl_loss": "simclr"}, "ssl_loss must be one of"),
    ({"augmentation": "flip"}, "augmentation must be one of"),
    ({"num_codes": 0}, "num_codes must be a positive int"),
    ({"prior_dim": 10, "prior_heads": 4}, "prior_dim .10. must be divisible by prior_heads"),
    ({"stage1_lr": 0.0}, "stage1_lr must be a finite number > 0"),
    ({"bogus": 1}, "unknown VQVAEConfig fields"),
])
def test_config_refuses_bad_values(change, message):
    with pytest.raises(ValueError, match=message):
        VQVAEConfig().replace(**change)


def test_config_method_names():
    assert VQVAEConfig(variant="naive").method == "vqvae-naive"
    assert VQVAEConfig().method == "nc-vqvae-vibcreg-window_warp"
    assert VQVAEConfig(augmentation="slice_and_resize").augmentation_spec() == "crop_resize"


def test_stage1_same_seed_same_numbers():
    X, _ = _toy(16, 0)
    config = VQVAEConfig(**{**TINY, "ssl_loss": "barlow_twins", "augmentation": "gaussian_noise"})
    a = train_tokenizer(X, config)[1]["history"]
    b = train_tokenizer(X, config)[1]["history"]
    assert a == b
    c = train_tokenizer(X, config.replace(seed=1))[1]["history"]
    assert a != c


def test_two_stage_smoke_run_writes_a_complete_record(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLTS_GIT_COMMIT", "test")  # no git call from the provenance helper
    train, test = _toy(24, 1), _toy(16, 2)
    record = run_vqvae(train, test, VQVAEConfig(**TINY), dataset="toy", profile="smoke", results_root=tmp_path)
    s1, s2 = record["stage1"], record["stage2"]
    assert {(r["pooling"], r["protocol"]) for r in s1["probes"]} == {
        (p, q) for p in ("mean", "flatten") for q in ("linear_svm", "knn")}
    assert all(0.0 <= r["accuracy"] <= 1.0 for r in s1["probes"])
    assert s1["tokens_per_series"] == 8 and len(s1["history"]) == 2
    assert 1.0 <= s1["codebook"]["perplexity"] <= 8.0 and s1["recon_mse_test"] > 0
    assert s2["n_generated"] == 24 and s2["fid"] >= 0 and 1.0 <= s2["is"] <= 2.0 and 0 <= s2["cas"] <= 1
    assert record["config"]["method"] == "nc-vqvae-vibcreg-window_warp"
    written = json.loads(open(record["path"]).read())
    assert written["kind"] == "vqvae" and written["stage2"]["fid"] == pytest.approx(s2["fid"])
