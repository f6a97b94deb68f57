"""The study's sweep: pre-training runs and few-label evaluations, resumable, in parallel lanes.

:func:`plan` lists every task in the order it should run: the seed-0 runs first (so the first
records give every method), then the further seeds, then the extensions (larger encoder). A task is
done when its record exists, so a rerun skips it; an evaluation is ready once its snapshot's sidecar
exists, so one lane evaluates the snapshots another lane is still training past. Lanes share the
list through lock files (``<snapshots>/locks``), one CPU-heavy task per lane; start one per core::

    sslts scarce sweep --lane 0 &   sslts scarce sweep --lane 1 &

A lane whose lock is left behind by a killed process (its pid is gone) is taken over.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .corpora import POOL_SIZES, corpus_for
from .evaluate import evaluate, record_name
from .records import ROOT, exists, write
from .scale import ScaleRun, run_pretraining, snapshot_path

SNAPSHOTS = Path("build/scarce/snapshots")
TARGETS = ("uwave", "har")
SEEDS = (0, 1, 2, 3, 4)
METHODS = ("vicreg", "simclr")
THIRD_METHOD = "barlow_twins"  # seeds 0-1 on the UWave pool only
POOLS = {"uwave": "uwave-pool", "har": "har-train"}
MAIN_BUDGET = 100_000
CURVE_BUDGET = 500_000
BASELINE_FEATURES = ("untrained", "minirocket", "minirocket-ridge", "supervised_cnn")


@dataclass(frozen=True)
class Task:
    """A pre-training run (``run``) or an evaluation (``config``), done when its record exists."""

    record: str
    run: ScaleRun | None = None
    config: dict[str, Any] | None = None
    snapshot: Path | None = None  # an evaluation waits for this snapshot's sidecar
    until: int | None = None  # a pre-training stage: train to this snapshot for now
    serves: tuple[str, ...] = ()  # a stage: the evaluation records that need its snapshots

    def ready(self) -> bool:
        return self.snapshot is None or self.snapshot.with_suffix(".json").exists()

    def done(self, root: Path) -> bool:
        """A record exists; a pre-training stage is done when the snapshot it trains to exists, or
        when every evaluation it serves has its record (a fresh clone has the committed records
        but not the snapshots, which are not committed: it need not train the stage again)."""
        if self.until is not None:
            return (snapshot_path(SNAPSHOTS, self.run, self.until).with_suffix(".json").exists()
                    or (bool(self.serves) and all(exists(root, record) for record in self.serves)))
        return exists(root, self.record)


def runs(seed: int) -> list[ScaleRun]:
    """The pre-training runs of one seed: each method on each target's pool, VICReg on the cross-dataset corpus.

    Seed 0 of VICReg trains on to :data:`CURVE_BUDGET` for the budget curve; with a constant learning
    rate its 20k and 100k snapshots are those a 100k-pass run would have given.
    """
    long = seed == 0
    curve = (20_000, MAIN_BUDGET, CURVE_BUDGET) if long else (20_000, MAIN_BUDGET)
    out = []
    for method in METHODS:
        for target in TARGETS:
            vicreg_long = long and method == "vicreg"
            out.append(ScaleRun(method, POOLS[target], seed=seed, budget=CURVE_BUDGET if vicreg_long else MAIN_BUDGET,
                                snapshots=curve if vicreg_long else (20_000, MAIN_BUDGET)))
    out.append(ScaleRun("vicreg", corpus_for("uwave"), seed=seed, budget=CURVE_BUDGET if long else MAIN_BUDGET,
                        snapshots=curve if long else (20_000, MAIN_BUDGET)))
    return out


def evaluations(run: ScaleRun) -> list[Task]:
    """The evaluation tasks of a run's snapshots on every target it serves."""
    targets = TARGETS if run.corpus.startswith("xd-") else [t for t in TARGETS if run.corpus.startswith(POOLS[t])]
    tasks = []
    for passes in sorted(run.snapshots):
        snap = snapshot_path(SNAPSHOTS, run, passes)
        for target in targets:
            config = {"target": target, "features": "ssl", "method": run.method, "encoder": run.encoder,
                      "corpus": run.corpus, "run": run.name, "budget": passes, "snapshot": str(snap), "seed": run.seed}
            tasks.append(Task(record_name({**config, "passes": passes}), config=config, snapshot=snap))
    return tasks


def baselines(seed: int) -> list[Task]:
    tasks = []
    for target in TARGETS:
        for features in BASELINE_FEATURES:
            config = {"target": target, "features": features, "seed": seed,
                      **({"encoder": "cnn"} if features == "untrained" else {})}
            tasks.append(Task(record_name(config), config=config))
    return tasks


def pretraining(run: ScaleRun, until: int | None = None) -> Task:
    """The task that trains ``run`` to ``until`` passes for now (a stage), or to its budget."""
    if until is None or until == run.budget:
        return Task(f"pretrain/{run.name}.json", run=run)
    return Task(f"stage/{run.name}-{until}", run=run, until=until)


def plan() -> list[Task]:
    """Every task, in priority order (a ready snapshot evaluation goes first: see :func:`next_task`).

    Seeds 0-1 at the main budget first (seed 0's long runs stop there for now), then VICReg on the
    UWave pool carried on to the curve's end and the wider CNN, the UCR benchmark's cheap systems
    (corpus encoder, untrained CNN, MiniRocket), seeds 2-4 (the paired tests' power), the pool sizes,
    Barlow Twins on the UWave pool (seeds 0-1), the UCR benchmark's per-dataset VICReg runs, the suite
    benchmark, and the other long runs.
    """
    def of(run: ScaleRun) -> list[Task]:
        if run.budget <= MAIN_BUDGET:
            return [pretraining(run), *evaluations(run)]
        early = [t for t in evaluations(run) if t.config["budget"] <= MAIN_BUDGET]
        stage = replace(pretraining(run, MAIN_BUDGET), serves=tuple(t.record for t in early))
        return [stage, *evaluations(run)]

    seeds = {seed: [*of(runs(seed)[0]), *baselines(seed), *(t for run in runs(seed)[1:] for t in of(run))]
             for seed in SEEDS}
    longer = [pretraining(run) for run in runs(0) if run.budget > MAIN_BUDGET]
    sizes = [t for n in POOL_SIZES
             for t in of(ScaleRun("vicreg", f"uwave-pool-{n}", budget=MAIN_BUDGET, snapshots=(20_000, MAIN_BUDGET)))]
    wide = of(ScaleRun("vicreg", "uwave-pool", encoder="cnn-wide", budget=MAIN_BUDGET, snapshots=(20_000, MAIN_BUDGET)))
    # a third method's budget points on the UWave pool (the issue asks for VICReg, SimCLR and one more)
    third = [t for seed in (0, 1) for t in of(ScaleRun(THIRD_METHOD, "uwave-pool", seed=seed, budget=MAIN_BUDGET,
                                                         snapshots=(20_000, MAIN_BUDGET)))]
    # after two seeds: how far VICReg on the UWave pool goes (budget, then capacity); the UCR benchmark
    # without its per-dataset runs; seeds 2-4; the pool sizes; a third method; the per-dataset runs; the suite; the rest
    ucr = ucr_tasks()
    own = [t for t in ucr if (t.run is not None and t.run.corpus.startswith("train:")) or t.record.endswith("/own-s0.json")]
    cheap = [t for t in ucr if t not in own]  # the other fold's corpus run, then untrained, MiniRocket, corpus encoder
    return [*seeds[0], *seeds[1], longer[0], *wide, *cheap, *seeds[2], *seeds[3], *seeds[4], *sizes, *third, *own,
            *ucr_tasks("suite"), *longer[1:]]


def ucr_tasks(group: str = "ucr") -> list[Task]:
    """A benchmark group (:data:`sslts.scarce.ucr.GROUPS`): the corpus encoders it needs, then per problem
    its own VICReg run and four records (``<group>/<problem>/<system>-s0.json``).

    The corpus encoders are the seed-0 runs at the main budget (:func:`sslts.scarce.ucr.xd_run`). Their
    snapshots are not committed, so a fresh clone whose group still lacks ``xd`` records trains them
    again first (a stage that serves those records: done once its snapshot exists or they all do).
    """
    from . import ucr

    problems = ucr.group_problems(group)
    tasks = []
    if group == "ucr":  # the other fold's run at the main budget, with its record (xd-a's is a seed-0 run)
        xd_b = ucr.xd_run("GunPoint") if ucr.xd_run("GunPoint").corpus == "xd-b" else ucr.xd_run("Coffee")
        tasks.append(Task(f"pretrain/{xd_b.name}.json", run=xd_b))
    for run in dict.fromkeys(ucr.xd_run(p) for p in problems):
        serves = tuple(f"{group}/{p}/xd-s0.json" for p in problems if ucr.xd_run(p) == run)
        tasks.append(Task(f"snapshot/{group}/{run.name}-{MAIN_BUDGET}", run=run, until=MAIN_BUDGET, serves=serves))
    for problem in problems:
        own = ucr.own_run(problem)
        tasks.append(Task(f"pretrain/{own.name}.json", run=own))
        for system in ucr.SYSTEMS:
            snap = {"xd": snapshot_path(SNAPSHOTS, ucr.xd_run(problem), MAIN_BUDGET),
                    "own": snapshot_path(SNAPSHOTS, own, ucr.OWN_BUDGET)}.get(system)
            tasks.append(Task(f"{group}/{problem}/{system}-s0.json", config={"ucr": problem, "system": system, "seed": 0},
                              snapshot=snap))
    return tasks


def _lock(task: Task) -> Path | None:
    """An exclusive lock on ``task`` (on its run, for a pre-training task: one lane per run's checkpoints)."""
    name = f"run__{task.run.name}" if task.run is not None else task.record.replace("/", "__")
    path = SNAPSHOTS / "locks" / (name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        try:
            os.kill(int(path.read_text() or 0), 0)
            return None  # held by a live process
        except (ProcessLookupError, ValueError):
            path.unlink(missing_ok=True)  # left by a killed lane: take it over
            return _lock(task)
    with os.fdopen(fd, "w") as handle:
        handle.write(str(os.getpid()))
    return path


def next_task(tasks: list[Task], root: Path, failed: set[str]) -> tuple[Task, Path] | None:
    """The first ready snapshot evaluation, else the first task in plan order, that this lane can lock."""
    todo = [t for t in tasks if t.record not in failed and not t.done(root) and t.ready()]
    for task in sorted(todo, key=lambda t: t.snapshot is None):  # stable: snapshots first, then plan order
        lock = _lock(task)
        if lock is not None:
            if task.done(root):  # finished by another lane meanwhile
                lock.unlink(missing_ok=True)
                continue
            return task, lock
    return None


def run_task(task: Task, root: Path) -> None:
    if task.run is not None:
        run_pretraining(task.run, SNAPSHOTS, records=root, progress=True, until=task.until)
        return
    config = dict(task.config)
    if "ucr" in config:
        from .ucr import evaluate_problem

        write(root, task.record, evaluate_problem(config["ucr"], config["system"], SNAPSHOTS, config["seed"]))
        return
    if config["features"] == "ssl":
        sidecar = json.loads(Path(config["snapshot"]).with_suffix(".json").read_text())
        config["passes"] = int(sidecar["passes"])
    write(root, task.record, evaluate(config))


def sweep(lane: int = 0, root: str | Path = ROOT, threads: int = 1, max_tasks: int | None = None) -> int:
    """Run tasks until none is left (or ``max_tasks`` ran); returns the number run by this lane."""
    import torch

    torch.set_num_threads(threads)
    root, failed, done = Path(root), set(), 0
    tasks = plan()
    with tqdm(total=len(tasks), desc=f"scarce lane {lane}", unit="task", position=lane) as bar:
        while max_tasks is None or done < max_tasks:
            bar.n = sum(t.done(root) for t in tasks)
            bar.refresh()
            picked = next_task(tasks, root, failed)
            if picked is None:
                if all(t.done(root) or t.record in failed for t in tasks):
                    break
                time.sleep(20)  # evaluations waiting for snapshots another lane is training
                continue
            task, lock = picked
            bar.set_postfix_str(task.record)
            try:
                run_task(task, root)
                done += 1
            except Exception as error:  # one failed task must not stop the lane
                failed.add(task.record)
                print(f"lane {lane}: {task.record} failed: {error}", file=sys.stderr)
                traceback.print_exc(limit=3)
            finally:
                lock.unlink(missing_ok=True)
    return done
