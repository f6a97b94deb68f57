"""The CPU allocator setting: what it asks glibc for, when it does nothing, and that it acts once."""

import ctypes
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from sslts import allocator
from sslts.params import ParameterError
from sslts.provenance import environment


class FakeLibc:
    """Records mallopt calls; answers 1 (accepted) unless told to refuse."""

    def __init__(self, accept: bool = True) -> None:
        self.calls: list[tuple[int, int]] = []
        self.accept = accept

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return int(self.accept)


@pytest.fixture
def fresh(monkeypatch):
    """A process whose allocator has not been decided yet, with a fake libc."""
    monkeypatch.setattr(allocator, "_state", None)
    monkeypatch.delenv(allocator.ENV_VAR, raising=False)
    libc = FakeLibc()
    monkeypatch.setattr(allocator, "_libc", lambda: libc)
    return libc


def test_tuning_sets_the_mmap_then_the_trim_threshold_once(fresh):
    assert allocator.allocator_state() == "default"
    state = allocator.tune_cpu_allocator()
    # mallopt's parameter numbers in glibc's <malloc.h>: M_MMAP_THRESHOLD -3, M_TRIM_THRESHOLD -1
    assert fresh.calls == [(-3, 16 * 2**20), (-1, 64 * 2**20)]
    assert state == "glibc malloc, mmap threshold 16 MiB, trim threshold 64 MiB"
    assert allocator.allocator_state() == state
    assert allocator.tune_cpu_allocator() == state
    assert len(fresh.calls) == 2                     # the second call changes nothing


def test_the_environment_variable_turns_it_off(fresh, monkeypatch):
    monkeypatch.setenv(allocator.ENV_VAR, "default")
    assert allocator.tune_cpu_allocator() == "default"
    assert fresh.calls == []


def test_a_bad_environment_value_is_named_in_the_error(fresh, monkeypatch):
    monkeypatch.setenv(allocator.ENV_VAR, "jemalloc")
    with pytest.raises(ValueError, match="SSLTS_CPU_ALLOCATOR must be 'tuned' or 'default', got 'jemalloc'"):
        allocator.tune_cpu_allocator()
    with pytest.raises(ParameterError):  # the kind the command line prints as one line
        allocator.tune_cpu_allocator()
    assert fresh.calls == [] and allocator.allocator_state() == "default"


def test_a_refused_value_leaves_the_state_default(monkeypatch):
    monkeypatch.setattr(allocator, "_state", None)
    monkeypatch.delenv(allocator.ENV_VAR, raising=False)
    monkeypatch.setattr(allocator, "_libc", lambda: FakeLibc(accept=False))
    assert allocator.tune_cpu_allocator() == "default"


def test_without_glibc_nothing_happens(monkeypatch):
    monkeypatch.setattr(allocator, "_state", None)
    monkeypatch.delenv(allocator.ENV_VAR, raising=False)
    monkeypatch.setattr(allocator, "_libc", lambda: None)
    assert allocator.tune_cpu_allocator() == "default"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="needs glibc")
class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                    "fsmblks", "uordblks", "fordblks", "keepcost")]


def _mmapped_blocks(libc: ctypes.CDLL) -> int:
    libc.mallinfo2.restype = _MallInfo2
    return libc.mallinfo2().hblks


def test_real_glibc_takes_the_threshold_blocks_below_it_come_from_the_heap(monkeypatch):
    libc = allocator._libc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        pytest.skip("needs glibc 2.33 or newer (mallinfo2)")
    monkeypatch.setattr(allocator, "_state", None)
    monkeypatch.delenv(allocator.ENV_VAR, raising=False)
    assert allocator.tune_cpu_allocator().startswith(
        f"glibc malloc, mmap threshold {allocator.MMAP_THRESHOLD // 2**20} MiB")
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    before = _mmapped_blocks(libc)
    below = libc.malloc(allocator.MMAP_THRESHOLD - 2**20)  # 15 MiB: glibc's default would mmap it
    assert _mmapped_blocks(libc) == before
    above = libc.malloc(allocator.MMAP_THRESHOLD + 2**20)  # 17 MiB: still fresh pages
    assert _mmapped_blocks(libc) == before + 1
    libc.free(below), libc.free(above)
    blocks = [np.ones(2**20 // 8 * size) for size in (1, 4, 15, 17)]  # memory still works
    assert [float(b.sum()) for b in blocks] == [float(b.size) for b in blocks]


def test_run_records_say_which_allocator_ran(fresh):
    assert environment()["cpu_allocator"] == "default"
    allocator.tune_cpu_allocator()
    assert environment()["cpu_allocator"].startswith("glibc malloc")


# Activations of 64 series x 32 channels x 128 steps are about 1 MiB: above glibc's default mmap
# threshold, so the two runs really take their memory from different places.
_TRAIN_AND_HASH = """
import hashlib, numpy as np, torch
from sslts.allocator import allocator_state
from sslts.augment import build_pipeline
from sslts.encoders import build_encoder
from sslts.methods import build_method
from sslts.train import TrainConfig, pretrain
torch.manual_seed(0)
method = build_method("vicreg", build_encoder("cnn", in_channels=2), {"expander_dim": 64})
X = np.random.default_rng(0).normal(size=(128, 2, 128)).astype(np.float32)
result = pretrain(method, X, build_pipeline("jitter,time_warp"),
                  TrainConfig(epochs=2, batch_size=64, warmup_epochs=1, progress=False, num_threads=1))
weights = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in method.parameters()))
print(allocator_state())
print(result.loss_history, weights.hexdigest())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="needs glibc")
def test_training_gives_the_same_numbers_with_either_allocator():
    """Only where memory comes from changes: losses and trained weights are bit-identical."""
    outputs = {}
    for setting in ("default", "tuned"):
        env = {**os.environ, allocator.ENV_VAR: setting}
        done = subprocess.run([sys.executable, "-c", _TRAIN_AND_HASH], env=env, capture_output=True,
                              text=True, timeout=300, check=True)
        outputs[setting] = done.stdout.strip().splitlines()[-2:]   # [state, numbers]
    assert outputs["default"][0] == "default"
    assert outputs["tuned"][0].startswith("glibc malloc")
    assert outputs["default"][1] == outputs["tuned"][1]
