"""How sure, and how right, is the maze model about a bare maze after one pass at a given loop count?

    python scripts/maze_confidence.py --size 31 --kind perfect --loops 1,2,4,8,16,32 -n 8

For freshly generated mazes (nothing committed yet, as at the sampler's first step) it counts the
open cells the model is at least --confident sure of, and how many of those are wrong. A cell the
model is sure of is one the sampler would commit at once, so wrong ones there are what a decoding
run has to retract. Prints a table (and --json); pure neural, every label from maze.solve.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from csp_diffusion import bench, models
from csp_diffusion.solver import shipped_checkpoint
from puzzles import maze
from puzzles.domains import MazeTask


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--size", type=int, default=31)
    ap.add_argument("--kind", default="perfect", choices=("perfect", "open"))
    ap.add_argument("-n", type=int, default=8, help="mazes")
    ap.add_argument("--loops", default="1,2,4,8,16,32")
    ap.add_argument("--confident", type=float, default=MazeTask.confident)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    task = MazeTask()
    model, _ = models.load(args.checkpoint or shipped_checkpoint("loopmdm", "maze"), "loopmdm", "maze")
    mazes = bench.load("maze", f"gen:{args.kind}:{args.n}:size={args.size}:seed={args.seed}").puzzles
    rows = {int(k): {"open": 0, "sure": 0, "wrong": 0} for k in args.loops.split(",")}
    for m in mazes:
        values, shape = task.encode(m)
        truth = np.where(maze.path_mask(maze.solve(m)).reshape(-1), task.ON, task.OFF)
        st = task.structure(shape)
        v = torch.as_tensor(values)[None]
        free = values == 0
        for loops, row in rows.items():
            with torch.no_grad():
                p = model(v, v > 0, torch.as_tensor(st.positions), torch.as_tensor(st.graph), loops).float().softmax(-1)[0]
            sure = free & (p.max(-1).values.numpy() >= args.confident)
            row["open"] += int(free.sum())
            row["sure"] += int(sure.sum())
            row["wrong"] += int((sure & (p.argmax(-1).numpy() + 1 != truth)).sum())
    if args.json:
        print(json.dumps({"size": args.size, "kind": args.kind, "mazes": len(mazes), "by_loops": rows}))
        return
    print(f"{len(mazes)} bare {args.kind} {args.size}x{args.size} mazes (seed {args.seed}), one pass; "
          f"sure = at least {args.confident} on one value")
    print("| loops | open cells sure | of those wrong |\n|---|---|---|")
    for loops, r in rows.items():
        print(f"| {loops} | {100 * r['sure'] / r['open']:.0f}% | {r['wrong']} ({100 * r['wrong'] / max(1, r['sure']):.1f}%) |")


if __name__ == "__main__":
    main()
