"""Run the tasks of a sweep one after another here, or as Ray tasks on this machine or a cluster.

A sweep is a plan (the runs whose records are missing, recomputed after every finished run,
because some runs can only be named once others finished) and a function that makes one run and
writes its record atomically. :func:`run_tasks` executes that plan:

- ``engine="local"`` (the default, and what ``make book``/``make test`` use): one run at a time in
  this process;
- ``engine="ray"``: each run is a Ray task (Moritz et al. 2018, "Ray: A Distributed Framework for
  Emerging AI Applications", OSDI) with one CPU, and a fraction of a GPU when the cluster has GPUs
  (:data:`GPU_SHARE`). Without ``address`` a local Ray uses this machine's cores; with one
  (``"auto"`` or ``"ray://host:10001"``) it joins an existing cluster.

A Ray task runs with one thread (Ray sets ``OMP_NUM_THREADS=1`` for a one-CPU task), so its record
is the one a local run with ``OMP_NUM_THREADS=1`` makes, bit for bit on the same machine (BLAS and
torch results depend on the thread count in their last digits).

Resuming is the same for both: a task writes its record when it finishes, so a task that fails or is
killed leaves no record, and the next sweep runs it again. A failed task is reported (one line with
the error's first line) and not retried within the same sweep (a run that fails for a reason will
fail again); the sweep goes on with the others.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Hashable

from tqdm import tqdm

ENGINES = ("local", "ray")
GPU_SHARE = 0.25  # four runs share a GPU: the book's models use a small part of one


def run_tasks(plan: Callable[[], list[Any]], run: Callable[[Any], dict[str, Any]], key: Callable[[Any], Hashable],
              describe: Callable[[Any, dict[str, Any], float], str], engine: str = "local", address: str | None = None,
              num_cpus: int | None = None, max_runs: int | None = None, progress: bool = True, expected: int = 0,
              on_start: Callable[[dict[Any, Any]], None] | None = None) -> int:
    """Execute ``plan()`` with ``run`` until it is empty (or ``max_runs`` ran); return the runs finished.

    Args:
        plan: the runs still to make, in order (called again after every finished run).
        run: makes one run and writes its record; must be a picklable top-level function (or a
            ``functools.partial`` of one) for Ray.
        key: the identity of a run (its record path), so a run in flight is not submitted twice.
        describe: the line printed when a run finished, from ``(task, record, seconds)``.
        engine: ``"local"`` or ``"ray"``. address: a Ray cluster to join (Ray only).
        num_cpus: CPUs of a local Ray (default: all). expected: runs that ``plan`` cannot name yet
            but will (counted in the progress bar's total).
        on_start: called with the in-flight map (Ray object ref -> task) after each submission
            round (Ray only); used by the tests to kill a task part-way.

    Raises:
        ValueError: for an unknown engine.
        ImportError: for ``engine="ray"`` without Ray installed (the message says how to install it).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    todo = plan()
    bar = tqdm(total=len(todo) + expected, desc="sweep", unit="run", disable=not progress)
    try:
        if engine == "local":
            return _run_local(plan, run, key, describe, todo, bar, max_runs)
        return _run_ray(plan, run, key, describe, bar, address, num_cpus, max_runs, on_start)
    finally:
        bar.close()


def _run_local(plan, run, key, describe, todo, bar, max_runs) -> int:
    done = 0
    failed: set[Hashable] = set()
    while todo and (max_runs is None or done < max_runs):
        task = todo[0]
        bar.set_postfix_str(f"{task.method} on {task.dataset}, seed {task.seed}")
        started = time.perf_counter()
        try:
            record = run(task)
        except Exception as error:  # one run's failure must not stop the runs after it
            failed.add(key(task))
            tqdm.write(_failed(task, error))
        else:
            done += 1
            bar.update(1)
            tqdm.write(describe(task, record, time.perf_counter() - started))
        todo = [t for t in plan() if key(t) not in failed]
    return done


def _failed(task: Any, error: BaseException) -> str:
    """The line printed for a run that raised: what, why (first line of the error), and what happens next."""
    reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return (f"[sweep] {task.method} on {task.dataset}, seed {task.seed} FAILED ({type(error).__name__}"
            f"{': ' + reason if reason else ''}); no record written, the next sweep runs it again")


def _run_ray(plan, run, key, describe, bar, address, num_cpus, max_runs, on_start) -> int:
    try:
        import ray
    except ImportError:
        raise ImportError("engine 'ray' needs Ray: pip install 'ray>=2.40'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False,
                 log_to_driver=False, ignore_reinit_error=True)
    gpus = GPU_SHARE if ray.cluster_resources().get("GPU", 0) > 0 else 0
    remote = ray.remote(num_cpus=1, num_gpus=gpus, max_retries=0)(_timed)
    in_flight: dict[Any, Any] = {}
    failed: set[Hashable] = set()
    submitted = done = 0
    try:
        while True:
            busy = {key(task) for task in in_flight.values()}
            capacity = max(1, int(ray.available_resources().get("CPU", 0)) + len(in_flight))
            for task in plan():
                if max_runs is not None and submitted >= max_runs or len(in_flight) >= capacity:
                    break
                if key(task) in busy or key(task) in failed:
                    continue
                in_flight[remote.remote(run, task)] = task
                busy.add(key(task))
                submitted += 1
            if on_start is not None:
                on_start(in_flight)
            if not in_flight:
                return done
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                task = in_flight.pop(ref)
                try:
                    record, seconds = ray.get(ref)
                except Exception as error:  # a killed task (RayError) or one that raised
                    failed.add(key(task))
                    tqdm.write(_failed(task, error))
                    continue
                done += 1
                bar.update(1)
                tqdm.write(describe(task, record, seconds))
    finally:
        for ref in in_flight:
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()


def _timed(run: Callable[[Any], dict[str, Any]], task: Any) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    return run(task), time.perf_counter() - started
