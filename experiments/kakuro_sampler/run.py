"""The Kakuro sampler's settings, chosen on a tuning set (never the targets' puzzles): generated puzzles from a
seed of their own (99; the targets use 7 and 8), read by a checkpoint with each setting in turn.

    python experiments/kakuro_sampler/run.py --checkpoint runs/kakuro-loopmdm/model.safetensors \
        --settings '{}' '{"max_steps": 64}' '{"chains": 4}'

Each setting is a JSON object of SamplerConfig fields over the task's defaults (puzzles/kakuro/task.py:
`chains`, `steps`, `confident`, ...). Prints, and appends to results/kakuro/sampler-tuning.jsonl, one row a setting
and set: solved (verified) of how many, the median seconds a puzzle, the steps and retractions it took.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csp_diffusion import bench  # noqa: E402
from csp_diffusion.solver import NeuralSolver  # noqa: E402
from puzzles.domains import get_task  # noqa: E402

SETS = {"8-10": "gen:kakuro:40:min_size=8:max_size=10:seed=99", "12": "gen:kakuro:20:size=12:seed=99",
        "16": "gen:kakuro:10:size=16:seed=99"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--settings", nargs="+", default=["{}"])
    ap.add_argument("--sets", default="8-10", help="comma-separated: " + ", ".join(SETS))
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "kakuro" / "sampler-tuning.jsonl")
    args = ap.parse_args()
    task = get_task("kakuro")
    solver = NeuralSolver("loopmdm", "kakuro", checkpoint=args.checkpoint)
    defaults = solver.config
    for name in args.sets.split(","):
        pset = bench.load(task, SETS[name])
        for setting in args.settings:
            solver.config = replace(defaults, **json.loads(setting))
            rs = list(solver.solve(pset.puzzles))
            row = {"checkpoint": args.checkpoint.parent.name + "/" + args.checkpoint.name, "set": name,
                   "spec": SETS[name], "setting": json.loads(setting), "solved": sum(r.verified for r in rs),
                   "n": len(rs), "median_s": round(statistics.median(r.seconds for r in rs), 3),
                   "steps": statistics.mean(r.extra["steps"] for r in rs),
                   "retractions": statistics.mean(r.extra["retractions"] for r in rs)}
            print(json.dumps(row), flush=True)
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    from csp_diffusion.errors import CheckpointError
    from puzzles.errors import UserError

    try:
        main()
    except (UserError, CheckpointError) as e:  # bad input: one line, no traceback
        raise SystemExit(f"error: {e}") from None
