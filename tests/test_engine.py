"""Sweeps as Ray tasks: the same records as a sequential sweep, and a killed task is run again on restart."""

from __future__ import annotations

import json

import pytest

from sslts.engine import run_tasks
from sslts.sweep import run_sweep

ray = pytest.importorskip("ray")

METHODS, SEEDS = ["simclr", "random_init"], [0, 1]


def _records(root) -> dict[str, dict]:
    """What a run computed, by record file name (timings, dates and process facts left out)."""
    out = {}
    for path in sorted(root.rglob("*.json")):
        record = json.loads(path.read_text())
        record["evaluations"] = [{k: v for k, v in e.items() if not k.endswith("_s")} for e in record["evaluations"]]
        out[path.name] = {k: record[k] for k in ("config", "evaluations", "history", "diagnostics", "pretrain_epochs")}
    return out


@pytest.fixture
def local_ray(waves, monkeypatch):
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_a_ray_sweep_with_a_killed_task_completes_on_restart_with_the_sequential_records(waves, tmp_path, local_ray):
    sequential, distributed = tmp_path / "sequential", tmp_path / "ray"
    # A Ray task runs with one thread (Ray sets OMP_NUM_THREADS=1 for a one-CPU task), so it
    # reproduces a local run made with one thread, as `OMP_NUM_THREADS=1 sslts sweep` does.
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            run_sweep(METHODS, ["Waves"], SEEDS, sequential, profile="smoke", progress=False)
    finally:
        torch.set_num_threads(threads)
    assert len(_records(sequential)) == 4

    killed = []

    def kill_first(in_flight):  # a worker dies part-way: no record may be left behind
        if not killed and in_flight:
            ref = next(iter(in_flight))
            killed.append(in_flight[ref])
            ray.cancel(ref, force=True)

    from functools import partial

    from sslts.sweep import _describe, _run_one, sweep_configs
    from sslts.results import record_path

    configs = list(sweep_configs(METHODS, ["Waves"], SEEDS, "smoke"))

    def missing():
        return [c for c in configs if not record_path(distributed, c.to_dict()).is_file()]

    finished = run_tasks(missing, partial(_run_one, out_dir=distributed, checkpoint_dir=None),
                         key=lambda c: record_path(distributed, c.to_dict()), describe=_describe, engine="ray",
                         progress=False, on_start=kill_first)
    assert killed and finished == 3
    assert not record_path(distributed, killed[0].to_dict()).is_file()

    run_sweep(METHODS, ["Waves"], SEEDS, distributed, profile="smoke", progress=False, engine="ray")
    made, expected = _records(distributed), _records(sequential)
    assert made.keys() == expected.keys()
    for name in expected:
        for part in expected[name]:
            assert made[name][part] == expected[name][part], (name, part)


def test_an_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="unknown engine 'spark'; known: local, ray"):
        run_tasks(lambda: [], lambda t: {}, key=str, describe=str, engine="spark")
