"""Tests of the training loop: schedule, reproducibility, checkpoints, resume, NaN guard, hooks."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import Tensor

import sslts.methods.simclr as simclr_module
from sslts.augment import build_pipeline
from sslts.encoders import build_encoder
from sslts.methods import SimCLR, SimCLRConfig, SSLMethod, StepContext, build_method
from sslts.policies import DivergenceGuard, Schedule, resolve_device
from sslts.train import TrainConfig, TrainingDiverged, learning_rate, pretrain

N, C, L = 32, 3, 32
AUGMENT = build_pipeline([{"name": "jitter", "sigma": 0.1}, "scaling"])


def tiny_simclr(cls: type[SimCLR] = SimCLR, init_seed: int = 0) -> SimCLR:
    torch.manual_seed(init_seed)
    return cls(build_encoder("cnn", in_channels=C, channels=(8, 16)), SimCLRConfig(proj_hidden=16))


def data(n: int = N) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, C, L)).astype(np.float32)


def config(**overrides) -> TrainConfig:
    # One thread: the tensors are tiny, and bit-exact comparisons need a fixed thread count.
    base = dict(epochs=2, batch_size=8, lr=1e-2, warmup_epochs=1, seed=0, progress=False,
                num_threads=1)
    return TrainConfig(**{**base, **overrides})


def weights(method: torch.nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().clone() for k, v in method.state_dict().items()}


def assert_same_weights(a: dict[str, Tensor], b: dict[str, Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


# --- learning-rate schedule -------------------------------------------------------------------


def test_learning_rate_at_hand_checked_steps() -> None:
    def lr(step: int, **kw) -> float:
        return learning_rate(step, base_lr=0.1, total_steps=10, warmup_steps=4, **kw)

    assert lr(0) == pytest.approx(0.025)  # warm-up start: base / W
    assert lr(1) == pytest.approx(0.05)
    assert lr(3) == pytest.approx(0.1)  # end of warm-up reaches the base rate
    assert lr(4) == pytest.approx(0.1)  # cosine starts at the top
    assert lr(7) == pytest.approx(0.05)  # half-way through the cosine: (1 + cos(pi/2)) / 2
    assert lr(9) == pytest.approx(0.1 * (1 - math.sqrt(3) / 2) / 2)  # cos(5 pi / 6)
    assert lr(9, schedule="constant") == pytest.approx(0.1)
    assert learning_rate(0, base_lr=0.1, total_steps=4, warmup_steps=0) == pytest.approx(0.1)


def test_learning_rate_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"step must be in \[0, 10\), got 10"):
        learning_rate(10, base_lr=1.0, total_steps=10, warmup_steps=0)
    with pytest.raises(ValueError, match=r"warmup_steps must be in \[0, 10\], got 11"):
        learning_rate(0, base_lr=1.0, total_steps=10, warmup_steps=11)
    with pytest.raises(ValueError, match=r"schedule must be one of \['cosine', 'constant'\]"):
        learning_rate(0, base_lr=1.0, total_steps=10, warmup_steps=0, schedule="linear")


class Recording(SimCLR):
    """SimCLR that records the learning rate and batch size the loop hands to each step."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[tuple[float, int]] = []

    def step(self, views, optimizers, ctx):
        self.seen.append((optimizers[0].param_groups[0]["lr"], views[0].shape[0]))
        return super().step(views, optimizers, ctx)


def test_loop_sets_the_schedule_per_step_and_drops_the_last_incomplete_batch() -> None:
    method = tiny_simclr(Recording)
    pretrain(method, data(20), AUGMENT, config(epochs=3, batch_size=8, warmup_epochs=1))
    # 20 // 8 = 2 full batches per epoch (4 samples dropped), 6 steps, 2 of them warm-up.
    expected = [learning_rate(s, base_lr=1e-2, total_steps=6, warmup_steps=2) for s in range(6)]
    assert [lr for lr, _ in method.seen] == pytest.approx(expected)
    assert [b for _, b in method.seen] == [8] * 6


def test_a_dataset_smaller_than_the_batch_is_one_batch() -> None:
    method = tiny_simclr(Recording)
    pretrain(method, data(5), AUGMENT, config(epochs=2, batch_size=8))
    assert [b for _, b in method.seen] == [5, 5]


# --- reproducibility --------------------------------------------------------------------------


def test_pretrain_is_bit_for_bit_reproducible_and_depends_on_the_seed() -> None:
    X = data()
    X_before = X.copy()
    runs = {}
    for name, seed in [("a", 0), ("b", 0), ("c", 1)]:
        method = tiny_simclr()  # same initial weights every time
        result = pretrain(method, X, AUGMENT, config(seed=seed))
        runs[name] = (weights(method), result.loss_history)
    assert_same_weights(runs["a"][0], runs["b"][0])
    assert runs["a"][1] == runs["b"][1] and len(runs["a"][1]) == 2
    assert runs["a"][1] != runs["c"][1]
    assert any(not torch.equal(runs["a"][0][k], runs["c"][0][k]) for k in runs["a"][0])
    np.testing.assert_array_equal(X, X_before)  # the data is not modified


def test_pretrain_leaves_global_torch_state_as_it_found_it() -> None:
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    method = tiny_simclr()
    rng = torch.get_rng_state()
    pretrain(method, data(16), AUGMENT, config(epochs=1))
    assert torch.equal(torch.get_rng_state(), rng)  # the global RNG was forked, not consumed
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == deterministic
    assert not method.training  # returned ready for encode()


def test_train_result_records_history_timing_and_memory() -> None:
    method = tiny_simclr()
    result = pretrain(method, data(), AUGMENT, config())
    assert len(result.loss_history) == 2 and all(math.isfinite(v) for v in result.loss_history)
    assert set(result.term_histories) == {"nt_xent"}
    assert result.term_histories["nt_xent"] == pytest.approx(result.loss_history)
    assert result.epochs_run == 2 and result.resumed_from_epoch is None
    assert result.wall_time_s > 0 and result.samples_per_s == pytest.approx(
        2 * N / result.wall_time_s
    )
    assert result.device == "cpu" and result.amp is False  # amp=True is ignored on the CPU
    assert result.peak_memory_mb is not None and result.peak_memory_mb > 10
    assert result.config["method"] == "simclr" and result.config["train"]["device"] == "cpu"
    json.dumps(result.to_dict())  # a run record is plain JSON


# --- checkpoints and resume -------------------------------------------------------------------


class Interrupt(Exception):
    pass


class InterruptingAugment:
    """The same pipeline (same ``describe()``, hence the same run) that dies after ``calls``."""

    def __init__(self, calls: int) -> None:
        self.calls = calls

    def describe(self):
        return AUGMENT.describe()

    def __call__(self, x: Tensor, g: torch.Generator) -> Tensor:
        if self.calls == 0:
            raise Interrupt
        self.calls -= 1
        return AUGMENT(x, g)


def test_an_interrupted_run_resumes_and_matches_an_uninterrupted_one(tmp_path: Path) -> None:
    X = data()
    reference = tiny_simclr()
    full = pretrain(reference, X, AUGMENT, config(epochs=3, checkpoint_dir=str(tmp_path / "a")))

    # 4 steps per epoch x 2 views: the 17th augmentation call is the first of epoch 3.
    ckpt_dir = str(tmp_path / "b")
    interrupting = InterruptingAugment(16)
    with pytest.raises(Interrupt):
        pretrain(tiny_simclr(), X, interrupting, config(epochs=3, checkpoint_dir=ckpt_dir))
    method = tiny_simclr()  # a fresh process would rebuild the same initial model
    resumed = pretrain(method, X, AUGMENT, config(epochs=3, checkpoint_dir=ckpt_dir))

    assert resumed.resumed_from_epoch == 2 and resumed.epochs_run == 1
    assert resumed.loss_history == full.loss_history
    assert_same_weights(weights(method), weights(reference))


def test_a_finished_run_is_loaded_not_retrained(tmp_path: Path) -> None:
    X = data()
    first = tiny_simclr()
    pretrain(first, X, AUGMENT, config(checkpoint_dir=str(tmp_path)))
    again = tiny_simclr()
    result = pretrain(again, X, AUGMENT, config(checkpoint_dir=str(tmp_path), progress=True))
    assert result.epochs_run == 0 and result.resumed_from_epoch == 2
    assert_same_weights(weights(again), weights(first))
    fresh = pretrain(tiny_simclr(), X, AUGMENT, config(checkpoint_dir=str(tmp_path)), resume=False)
    assert fresh.epochs_run == 2 and fresh.resumed_from_epoch is None


def test_a_different_run_does_not_resume_from_another_runs_checkpoint(tmp_path: Path) -> None:
    X = data()
    short = pretrain(tiny_simclr(), X, AUGMENT, config(epochs=2, checkpoint_dir=str(tmp_path)))
    # More epochs change the cosine schedule, another seed changes the batches, other initial
    # weights are another model: none of them may continue the 2-epoch run.
    for cfg, init in [(config(epochs=3), 0), (config(seed=1), 0), (config(), 1)]:
        cfg = TrainConfig.from_dict({**cfg.to_dict(), "checkpoint_dir": str(tmp_path)})
        result = pretrain(tiny_simclr(init_seed=init), X, AUGMENT, cfg)
        assert result.resumed_from_epoch is None
        assert result.checkpoint_path != short.checkpoint_path


def test_checkpoint_loads_with_weights_only_and_holds_the_resolved_config(tmp_path: Path) -> None:
    method = tiny_simclr()
    result = pretrain(method, data(), AUGMENT, config(checkpoint_dir=str(tmp_path)))
    path = Path(result.checkpoint_path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary files left behind
    ckpt = torch.load(path, weights_only=True)
    assert ckpt["epoch"] == 2 and ckpt["loss_history"] == list(result.loss_history)
    assert ckpt["config"]["train"]["epochs"] == 2 and ckpt["config"]["train"]["device"] == "cpu"
    assert ckpt["config"]["method_config"] == method.config.to_dict()
    assert ckpt["config"]["augment"] == AUGMENT.describe()
    assert_same_weights(ckpt["model"], weights(method))
    assert {"shuffle", "augment", "torch"} <= set(ckpt["rng"])
    assert len(ckpt["optimizers"]) == 1 and ckpt["optimizers"][0]["state"]


def test_a_foreign_checkpoint_at_the_run_path_is_refused(tmp_path: Path) -> None:
    result = pretrain(tiny_simclr(), data(), AUGMENT, config(checkpoint_dir=str(tmp_path)))
    ckpt = torch.load(result.checkpoint_path, weights_only=True)
    ckpt["run_id"] = "someone-else"
    torch.save(ckpt, result.checkpoint_path)
    with pytest.raises(ValueError, match="is not a checkpoint of this run"):
        pretrain(tiny_simclr(), data(), AUGMENT, config(checkpoint_dir=str(tmp_path)))


# --- divergence -------------------------------------------------------------------------------


def test_a_nan_loss_raises_training_diverged_naming_the_epoch(monkeypatch) -> None:
    calls = {"n": 0}
    real_nt_xent = simclr_module.nt_xent

    def nan_from_epoch_2(z1: Tensor, z2: Tensor, temperature: float) -> Tensor:
        calls["n"] += 1
        loss = real_nt_xent(z1, z2, temperature=temperature)
        return loss * float("nan") if calls["n"] > 4 else loss  # 4 steps per epoch

    monkeypatch.setattr(simclr_module, "nt_xent", nan_from_epoch_2)
    method = tiny_simclr()
    with pytest.raises(TrainingDiverged, match=r"diverged at epoch 2 of 2 \(step 1 of 4") as info:
        pretrain(method, data(), AUGMENT, config())
    err = info.value
    assert isinstance(err, RuntimeError)
    assert (err.epoch, err.step) == (2, 5)
    assert err.last_finite_loss is not None and math.isfinite(err.last_finite_loss)
    assert f"last finite loss was {err.last_finite_loss:.6g} at step 4" in str(err)
    assert "Lower the learning rate" in str(err)
    assert all(torch.isfinite(p).all() for p in method.parameters())  # no NaN update was applied


def test_fine_tuning_diverges_with_the_same_error_as_pre_training() -> None:
    from sslts.evaluate import finetune

    X = data(16)
    X[3, 0, 0] = np.inf  # an extreme value reaches the loss in the first epoch
    y = np.arange(16) % 2
    encoder = build_encoder("cnn", in_channels=C, channels=(8, 16))
    with pytest.raises(TrainingDiverged, match=r"fine-tuning diverged at epoch 1 of 2 \(step \d of 2") as info:
        finetune(encoder, X, y, X, y, epochs=2, batch_size=8, progress=False)
    assert info.value.epoch == 1 and "Lower the learning rate (lr=0.001)" in str(info.value)


def test_divergence_guard_remembers_the_last_finite_loss() -> None:
    guard = DivergenceGuard("training", epochs=3, steps_per_epoch=2, advice="Try again.")
    assert guard.check(1.5, epoch=0, i=0) == 1.5 and guard.check(0.5, epoch=0, i=1) == 0.5
    with pytest.raises(TrainingDiverged) as info:
        guard.check(float("inf"), epoch=1, i=1)
    assert (info.value.epoch, info.value.step, info.value.last_finite_loss) == (2, 4, 0.5)
    assert str(info.value).endswith("the last finite loss was 0.5 at step 2. Try again.")
    with pytest.raises(TrainingDiverged, match="no finite loss was seen in this run"):
        DivergenceGuard("training", 1, 1, "").check(float("nan"), 0, 0)


def test_schedule_scales_each_groups_own_rate_and_a_constant_one_keeps_it_exactly() -> None:
    params = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))]
    opt = torch.optim.SGD([{"params": params[:1], "lr": 0.3}, {"params": params[1:], "lr": 0.03}], lr=0.3)
    schedule = Schedule(total_steps=10, warmup_steps=4).attach([opt])
    schedule.apply([opt], 1)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.3 * 2 / 4, 0.03 * 2 / 4])
    constant = Schedule(total_steps=10, kind="constant")
    for step in range(10):
        constant.apply([opt], step)
        assert [g["lr"] for g in opt.param_groups] == [0.3, 0.03]  # bit for bit the initial rates


def test_one_device_resolution_for_every_loop() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == resolve_device(None).type == expected
    assert resolve_device("cpu") == torch.device("cpu")
    if torch.cuda.is_available():
        assert resolve_device("cuda").index is not None  # compares equal to the parameters' device


# --- inputs and config ------------------------------------------------------------------------


def test_pretrain_rejects_bad_inputs() -> None:
    method = tiny_simclr()
    X = data(8)
    with pytest.raises(TypeError, match="X must be a numpy array"):
        pretrain(method, X.tolist(), AUGMENT, config())
    with pytest.raises(ValueError, match=r"shape \(n, C, L\) with n >= 2, got \(8, 3\)"):
        pretrain(method, X[:, :, 0], AUGMENT, config())
    bad = X.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        pretrain(method, bad, AUGMENT, config())
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        pretrain(method, X, AUGMENT, {"epochs": 1})
    with pytest.raises(TypeError, match="method must be an SSLMethod"):
        pretrain(method.encoder, X, AUGMENT, config())


def test_train_config_validation() -> None:
    with pytest.raises(ValueError, match=r"unknown TrainConfig field\(s\) \['epoch'\]"):
        TrainConfig.from_dict({"epoch": 3})
    with pytest.raises(TypeError, match="TrainConfig.amp must be bool, got str"):
        TrainConfig.from_dict({"amp": "yes"})
    with pytest.raises(TypeError, match="TrainConfig.max_grad_norm must be float or None, got str"):
        TrainConfig.from_dict({"max_grad_norm": "1.0"})
    with pytest.raises(ValueError, match=r"TrainConfig.batch_size must be >= 2"):
        TrainConfig(batch_size=1)
    with pytest.raises(ValueError, match=r"schedule must be one of \['cosine', 'constant'\]"):
        TrainConfig(schedule="step")
    with pytest.raises(ValueError, match="TrainConfig.device must be 'auto' or a torch device"):
        TrainConfig(device="gpu")
    assert TrainConfig(epochs=3, warmup_epochs=10).warmup_epochs == 3
    overrides = {"max_grad_norm": None, "checkpoint_dir": "x"}
    assert TrainConfig.from_dict(overrides).checkpoint_dir == "x"
    assert TrainConfig(checkpoint_dir=Path("x")).checkpoint_dir == "x"


# --- the step hook: a method with two optimisers needs no change to the loop ----------------


class TwoOptimisers(SimCLR):
    """Encoder and projector on separate optimisers (as a GAN's generator and discriminator)."""

    def configure_optimizers(self, lr, weight_decay):
        return [
            torch.optim.AdamW(self.encoder.parameters(), lr=lr, weight_decay=weight_decay),
            torch.optim.AdamW(self.projector.parameters(), lr=10 * lr, weight_decay=weight_decay),
        ]

    def step(self, views, optimizers, ctx: StepContext):
        self.lrs = getattr(self, "lrs", []) + [[o.param_groups[0]["lr"] for o in optimizers]]
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)
        with ctx.autocast():
            loss, terms = self.training_step(*views)
        loss.backward()
        for opt in optimizers:
            opt.step()
        return loss.detach(), terms


def test_a_method_with_two_optimisers_only_overrides_hooks() -> None:
    method = tiny_simclr(TwoOptimisers)
    result = pretrain(method, data(16), AUGMENT, config())
    assert len(result.loss_history) == 2 and len(method.lrs) == 4
    for enc_lr, proj_lr in method.lrs:  # each optimiser follows the schedule from its own lr
        assert proj_lr == pytest.approx(10 * enc_lr)
    first = learning_rate(0, base_lr=1e-2, total_steps=4, warmup_steps=2)
    assert method.lrs[0][0] == pytest.approx(first)


class _LabelledToy(SSLMethod):
    """A method that needs labels: a linear classifier on the encoder, trained with cross-entropy."""

    name = "labelled_toy"
    needs_labels = True

    def __init__(self, encoder):
        super().__init__(encoder)
        self.head = torch.nn.Linear(encoder.out_dim, 3)
        self.seen: list[torch.Tensor] = []

    def make_views(self, x, augment, generator, y=None):
        self.seen.append(y.clone())
        return x, y

    def training_step(self, x, y):
        loss = torch.nn.functional.cross_entropy(self.head(self.encoder(x)), y)
        return loss, {"ce": loss.item()}


def test_labels_reach_make_views_batch_by_batch():
    X = np.random.default_rng(0).normal(size=(12, 1, 16)).astype(np.float32)
    y = np.arange(12) % 3
    method = _LabelledToy(build_encoder("cnn", in_channels=1))
    pretrain(method, X, lambda x, g: x, TrainConfig(epochs=1, batch_size=4, warmup_epochs=0, progress=False), y=y)
    seen = torch.cat(method.seen).numpy()
    assert sorted(seen.tolist()) == sorted(y.tolist())  # every label once per epoch, in batches of 4
    assert all(len(batch) == 4 for batch in method.seen)


def test_labels_are_required_by_labelled_methods_and_refused_by_the_others():
    X = np.random.default_rng(0).normal(size=(8, 1, 16)).astype(np.float32)
    config = TrainConfig(epochs=1, batch_size=4, warmup_epochs=0, progress=False)
    with pytest.raises(ValueError, match="trains with labels"):
        pretrain(_LabelledToy(build_encoder("cnn", in_channels=1)), X, lambda x, g: x, config)
    with pytest.raises(ValueError, match="must not see labels"):
        pretrain(build_method("simclr", build_encoder("cnn", in_channels=1)), X, lambda x, g: x, config,
                 y=np.zeros(8, dtype=np.int64))
    with pytest.raises(ValueError, match=r"shape \(8,\)"):
        pretrain(_LabelledToy(build_encoder("cnn", in_channels=1)), X, lambda x, g: x, config,
                 y=np.zeros(7, dtype=np.int64))
