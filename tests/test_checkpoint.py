"""Tests of sslts.checkpoint: the run identity and the training state's save, load and resume."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

import sslts.atomic as atomic
from sslts.augment import build_pipeline
from sslts.checkpoint import TrainingState, checkpoint_path, describe_run
from sslts.encoders import build_encoder
from sslts.methods import SimCLR, StepContext, build_method

C, L = 2, 16
AUGMENT = build_pipeline("jitter")
CPU = torch.device("cpu")

# Tiny tensors: one thread (the conftest fixture) avoids oversubscribing a small shared CPU.
pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_method(seed: int = 0) -> SimCLR:
    torch.manual_seed(seed)
    return build_method("simclr", build_encoder("cnn", in_channels=C, channels=(8, 16)), {"proj_hidden": 16})


def data(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(8, C, L)).astype(np.float32)


def run_of(method: SimCLR, X: np.ndarray | None = None, **train) -> dict:
    X = data() if X is None else X
    settings = {"epochs": 3, "lr": 1e-2, "progress": False, **train}
    return describe_run(method, X, AUGMENT, settings, batch_size=4, steps_per_epoch=2, not_identity=("progress",))


def new_state(method: SimCLR, run: dict, seed: int = 0) -> TrainingState:
    return TrainingState.start(run, method, method.configure_optimizers(1e-2, 0.0), CPU, seed)


def trained_state(seed: int = 0) -> TrainingState:
    """A state one optimiser step and one epoch in, with every generator advanced."""
    method = tiny_method()
    state = new_state(method, run_of(method), seed)
    x = torch.from_numpy(data())
    torch.randperm(8, generator=state.shuffle_gen)
    views = method.make_views(x, AUGMENT, state.augment_gen)
    loss, terms = method.step(views, state.optimizers, StepContext.create("cpu"))
    torch.rand(3)  # the global RNG moves too (dropout)
    state.end_epoch(loss.item(), terms)
    return state


# --- the run identity -------------------------------------------------------------------------


def test_run_id_names_what_changes_the_numbers_and_ignores_what_does_not() -> None:
    method = tiny_method()
    base = run_of(method)
    assert len(base["run_id"]) == 16 and base["train"]["progress"] is False
    assert run_of(method, progress=True)["run_id"] == base["run_id"]  # not part of the identity
    assert run_of(method, lr=1e-3)["run_id"] != base["run_id"]
    assert run_of(method, X=data(seed=1))["run_id"] != base["run_id"]
    assert run_of(tiny_method(seed=1))["run_id"] != base["run_id"]  # other initial weights
    labelled = describe_run(method, data(), AUGMENT, {"epochs": 3}, batch_size=4, steps_per_epoch=2,
                            y=np.zeros(8, dtype=np.int64))
    assert labelled["labels_sha256"] is not None and labelled["run_id"] != base["run_id"]
    assert base["augment"] == AUGMENT.describe()


def test_checkpoint_path_is_named_after_the_method_and_the_run(tmp_path: Path) -> None:
    run = run_of(tiny_method())
    assert checkpoint_path(tmp_path, run) == tmp_path / f"simclr-{run['run_id']}.pt"


# --- save, load, resume -----------------------------------------------------------------------


def test_save_then_load_restores_weights_optimisers_rng_states_epoch_and_histories(tmp_path: Path) -> None:
    saved = trained_state()
    path = saved.save(tmp_path / "ckpt.pt")
    expected_rng = {"shuffle": saved.shuffle_gen.get_state(), "augment": saved.augment_gen.get_state(),
                    "torch": torch.get_rng_state()}

    torch.manual_seed(123)  # the global RNG elsewhere: load must put it back
    method = tiny_method(seed=7)  # other weights, same architecture
    loaded = new_state(method, saved.run, seed=99)  # other generator states
    assert not torch.equal(method.encoder.blocks[0].weight, saved.method.encoder.blocks[0].weight)
    assert not loaded.optimizers[0].state and not torch.equal(loaded.augment_gen.get_state(), expected_rng["augment"])
    loaded.load(path)

    assert loaded.epoch == loaded.resumed_from == 1
    assert loaded.loss_history == saved.loss_history and loaded.term_histories == saved.term_histories
    for (k, a), b in zip(saved.method.state_dict().items(), method.state_dict().values()):
        assert torch.equal(a, b), k
    saved_opt, loaded_opt = saved.optimizers[0].state_dict(), loaded.optimizers[0].state_dict()
    assert saved_opt["state"].keys() == loaded_opt["state"].keys() and saved_opt["state"]
    for key, state in saved_opt["state"].items():
        for name, value in state.items():
            assert torch.equal(value, loaded_opt["state"][key][name]), (key, name)
    assert torch.equal(loaded.shuffle_gen.get_state(), expected_rng["shuffle"])
    assert torch.equal(loaded.augment_gen.get_state(), expected_rng["augment"])
    assert torch.equal(torch.get_rng_state(), expected_rng["torch"])


def test_a_checkpoint_holds_only_what_weights_only_loading_accepts(tmp_path: Path) -> None:
    state = trained_state()
    ckpt = torch.load(state.save(tmp_path / "ckpt.pt"), weights_only=True)
    assert ckpt["run_id"] == state.run["run_id"] and ckpt["config"] == state.run
    assert ckpt["epoch"] == 1 and set(ckpt["rng"]) == {"shuffle", "augment", "torch"}


def test_a_checkpoint_of_another_run_is_refused(tmp_path: Path) -> None:
    state = trained_state()
    path = state.save(tmp_path / "ckpt.pt")
    method = tiny_method()
    other = new_state(method, run_of(method, lr=1e-3))  # another run identity
    with pytest.raises(ValueError, match=r"ckpt.pt is not a checkpoint of this run; delete or move it"):
        other.load(path)
    with pytest.raises(ValueError, match="is not a checkpoint of this run"):
        other.resume(path)
    assert other.epoch == 0 and other.resumed_from is None  # nothing was read


def test_resume_without_a_checkpoint_starts_afresh(tmp_path: Path) -> None:
    method = tiny_method()
    state = new_state(method, run_of(method))
    assert state.resume(tmp_path / "missing.pt") is None
    assert state.epoch == 0 and state.resumed_from is None and state.loss_history == []


# --- atomic writes ----------------------------------------------------------------------------


def test_save_writes_a_temporary_file_in_the_folder_then_renames_it(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "ckpt.pt"
    renames = []
    real_replace = os.replace

    def spy(src, dst):
        renames.append((Path(src), Path(dst), Path(src).is_file(), Path(dst).exists()))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", spy)
    trained_state().save(target)
    [(src, dst, src_written, dst_existed)] = renames
    assert dst == target and src.parent == tmp_path and src != target
    assert src_written and not dst_existed  # the whole file was written before the one rename
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temporary file left behind


def test_an_interrupted_save_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch) -> None:
    state = trained_state()
    path = state.save(tmp_path / "ckpt.pt")
    before = path.read_bytes()

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", interrupted)
    state.end_epoch(0.25, {})
    with pytest.raises(KeyboardInterrupt):
        state.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]
    assert torch.load(path, weights_only=True)["epoch"] == 1
