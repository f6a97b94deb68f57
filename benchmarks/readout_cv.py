"""Compare read-outs of pre-trained encoders by cross-validation on the training split only.

For every run record (under ``--records``) whose checkpoint is kept (``sslts sweep`` keeps them in
``results/checkpoints``), this loads the pre-trained encoder, computes its feature map on the
training and test series, pools it with each read-out of ``--readouts`` (see
:mod:`sslts.evaluate.readouts`: ``max``, ``bins4-max``, ``bins4-max+avg``, ...), and scores each:

- ``cv``: TS2Vec's SVM protocol on held-out *training* series (repeated stratified 5-fold, each
  outer fold rerunning the protocol with its own choice of C). This is the column to choose by.
- ``test``: the same protocol fitted on the whole training split, scored on the test split; shown
  beside, never used to choose.

A read-out named as the encoder's own pooling must give the record's SVM accuracy again; each
record's row says whether it did (``reproduces_record``), which checks that the checkpoint is the
record's model. The summary averages over seeds per setting and read-out, and marks the read-out
the training split chooses. Writes ``results/benchmarks/readout_cv.json`` atomically; with
``--merge`` it keeps the rows of that file for checkpoints not examined in this call (each row
names the commit and device that computed it), so records can be added a few at a time.

    python benchmarks/readout_cv.py --records results/full/full/uwave
    python benchmarks/readout_cv.py --records /tmp/scratch/full/uwave --checkpoints /tmp/ckpt --repeats 5
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_READOUTS = "avg,max,bins2-max,bins4-avg,bins4-max,bins8-max,bins4-max+avg,bins4-max+max,bins4-avg+max"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", nargs="+", default=[str(ROOT / "results" / "full")],
                        help="record files or folders (searched recursively)")
    parser.add_argument("--checkpoints", default=str(ROOT / "results" / "checkpoints"))
    parser.add_argument("--readouts", default=DEFAULT_READOUTS, help="comma-separated read-out names")
    parser.add_argument("--repeats", type=int, default=10, help="reshuffles of the 5-fold training-split CV")
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks" / "readout_cv.json"))
    parser.add_argument("--merge", action="store_true", help="keep --out's rows for other checkpoints")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT / "src"))
    import torch

    from sslts.atomic import atomic_write_json
    from sslts.report.full_profile import setting_label
    from sslts.evaluate import nested_svm_cv, parse_readout, readout, svm_probe
    from sslts.pretrained import load_pretrained
    from sslts.provenance import device_description, environment, git_commit
    from sslts.results import load_records

    readouts = [name.strip() for name in args.readouts.split(",") if name.strip()]
    for name in readouts:
        try:
            parse_readout(name)  # a typo fails here, before any loading
        except ValueError as error:
            parser.error(str(error))
    missing = [given for given in args.records if not Path(given).exists()]
    if missing:
        parser.error(f"no such record file or folder: {', '.join(missing)}")
    paths = [p for given in args.records for p in (sorted(Path(given).rglob("*.json")) if Path(given).is_dir() else [Path(given)])]
    records = [r for r in load_records(paths) if r.get("checkpoint") and (Path(args.checkpoints) / r["checkpoint"]).is_file()]
    if not records:
        parser.error(f"no record under {args.records} names a checkpoint kept in {args.checkpoints}; "
                     "run the sweep with checkpoints (the default) first")

    rows, started = [], time.perf_counter()
    analysed_by = {"analysis_commit": git_commit(), "analysis_device": device_description("cpu")}
    for record in records:
        config = record["config"]
        loaded = load_pretrained(record, args.checkpoints)
        encoder = loaded.model.encoder
        own = _own_readout(config)
        with torch.no_grad():
            maps = {split: encoder.features(torch.from_numpy(loaded.standardised(split))) for split in ("train", "test")}
        recorded_svm = next(e["accuracy"] for e in record["evaluations"]
                            if e["protocol"] == "svm" and e["label_fraction"] == 1.0)
        for name in readouts:
            z_train, z_test = (readout(maps[split], name).numpy() for split in ("train", "test"))
            cv = nested_svm_cv(z_train, loaded.train.y, seed=config["seed"], repeats=args.repeats)
            test = svm_probe(z_train, loaded.train.y, z_test, loaded.test.y, seed=config["seed"])
            row = {"method": config["method"], "dataset": config["dataset"], "setting": setting_label(config),
                   "seed": config["seed"], "readout": name, "cv": cv["mean"], "cv_std": cv["std"],
                   "test": test.accuracy, "C": test.best_params["C"], "checkpoint": record["checkpoint"],
                   "record_commit": record["git_commit"], **analysed_by}
            if name == own:
                row["reproduces_record"] = bool(abs(test.accuracy - recorded_svm) < 1e-12)
            rows.append(row)
            print(f"{config['method']} {config['dataset']} seed {config['seed']} {name:>14}: "
                  f"cv {cv['mean']:.3f} test {test.accuracy:.3f}", flush=True)

    import pandas as pd

    if args.merge and Path(args.out).is_file():
        done = {r["checkpoint"] for r in rows}
        kept = [r for r in json.loads(Path(args.out).read_text())["rows"] if r["checkpoint"] not in done]
        print(f"merging {len(kept)} rows of {args.out} for other checkpoints")
        rows = kept + rows
    frame = pd.DataFrame(rows)
    summary = (frame.groupby(["method", "dataset", "setting", "readout"])
               .agg(seeds=("seed", "nunique"), cv=("cv", "mean"), test=("test", "mean"), test_std=("test", "std"))
               .reset_index().sort_values(["method", "dataset", "setting", "cv"], ascending=[True, True, True, False]))
    summary["chosen_by_cv"] = ~summary.duplicated(["method", "dataset", "setting"])
    result = {"kind": "benchmark", "benchmark": "readout_cv", "repeats": args.repeats, "folds": 5,
              "readouts": readouts, "rows": rows, "summary": summary.to_dict("records"),
              "wall_s_this_call": round(time.perf_counter() - started, 1), **environment()}
    atomic_write_json(args.out, result)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary.round(4).to_string(index=False))
    not_reproduced = [r["checkpoint"] for r in rows if r.get("reproduces_record") is False]
    if not_reproduced:
        print(f"warning: the encoder's own read-out did not give the recorded SVM accuracy for {not_reproduced}")
    print(f"wrote {args.out}")
    return result


def _own_readout(config: dict) -> str | None:
    """The read-out name of the encoder's own pooling (CNN encoder only), e.g. ``bins4-max``."""
    if config.get("encoder") != "cnn":
        return None
    params = config.get("encoder_params", {})
    bins, pooling = params.get("temporal_bins", 1), params.get("pooling", "avg")
    return pooling if bins == 1 else f"bins{bins}-{pooling}"


if __name__ == "__main__":
    main()
