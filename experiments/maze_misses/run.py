"""The mazes a set's LoopMDM run misses, and how each ended (loops, steps, why it stopped, its last grid).

The misses of docs/results/maze.md, "The maze kinds after the fine-tune" and "Frames"; each writes the --out file:

    python experiments/maze_misses/run.py --spec gen:walls:100:size=30:min_path=110:seed=1 \
        --out results/maze/maze-kinds-finetuned/walls30-misses.json
    python experiments/maze_misses/run.py --spec gen:walls:100:size=60:min_path=200:seed=1 --time-limit 180 \
        --out results/maze/maze-frames/walls60-misses-180s.json

One chain, the shipped model, `csp bench`'s default 10 s per maze. Writes every miss (path length, wall
density, the solver's counters and final grid) and the solved mazes' mean path length and density.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from csp_diffusion import bench
from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.solver import NeuralSolver
from puzzles import maze
from puzzles.domains import get_task
from puzzles.errors import UserError
from puzzles.files import write_text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default="gen:walls:100:size=30:min_path=110:seed=1")
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    try:
        mazes = bench.load(get_task("maze"), args.spec).puzzles
    except UserError as e:
        sys.exit(f"error: {e}")
    solver = NeuralSolver("loopmdm", "maze", sampler=SamplerConfig(chains=1, time_limit=args.time_limit))
    rows = [{"solved": bool(r.solved), "path": maze.shortest_length(m), "density": round(float(m.walls.mean()), 3),
             "error": r.error, "wrong_answer": r.solution is not None and not r.verified,
             **{k: v for k, v in r.extra.items() if isinstance(v, (int, float, str))}}
            for m, r in zip(mazes, solver.solve(mazes))]
    solved = [r for r in rows if r["solved"]]
    report = {"spec": args.spec, "mazes": len(rows), "solved": len(solved),
              "solved_mean_path": float(np.mean([r["path"] for r in solved])) if solved else None,
              "solved_mean_density": float(np.mean([r["density"] for r in solved])) if solved else None,
              "misses": [r for r in rows if not r["solved"]]}
    write_text(args.out, json.dumps(report, indent=1))
    print(f"{len(solved)}/{len(rows)} solved; misses:")
    for r in report["misses"]:
        print(f"  path {r['path']}, density {r['density']}, steps {r.get('steps')}, first step "
              f"{r.get('first_step_loops')} loops, {r['error']}")


if __name__ == "__main__":
    main()
