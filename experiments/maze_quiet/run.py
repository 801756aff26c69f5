"""Quiet cells against dense passes: the same mazes solved one at a time both ways, side by side.

The table of docs/results/maze.md, "Quiet cells"; each appends to its --out file:

    python experiments/maze_quiet/run.py --spec gen:perfect:5:size=61:seed=1 \
        --out results/maze/maze-quiet/side-perfect-5-size-61.jsonl
    python experiments/maze_quiet/run.py --spec gen:walls:10:size=60:min_path=200:seed=1 --time-limit 180 \
        --out results/maze/maze-quiet/side-walls-10-size-60-min_path-200.jsonl

Each maze runs with the quiet cells (the default on grids above Sampler.QUIET_CELLS cells; quiet.py) and
with every cell recomputed every loop, in turn, so both see the same machine. One chain, `--time-limit`
seconds per maze. Each row (maze, mode, verified, seconds, first-step loops, the share of cell updates the
quiet passes ran) is appended to OUT as it finishes; a rerun skips the rows OUT has. Prints the table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from csp_diffusion import bench
from csp_diffusion.quiet import QuietCells
from csp_diffusion.sampler import Sampler, SamplerConfig
from csp_diffusion.solver import NeuralSolver
from puzzles.domains import get_task
from puzzles.errors import UserError

MODES = {"quiet": Sampler.QUIET_CELLS, "dense": float("inf")}  # mode -> Sampler.QUIET_CELLS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True, help="a maze generator spec, as csp bench takes it")
    ap.add_argument("--modes", default="quiet,dense", help="of quiet, dense")
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--out", type=Path, required=True, help="a JSONL file, appended to")
    args = ap.parse_args()
    modes = args.modes.split(",")
    if not set(modes) <= set(MODES):
        ap.error(f"--modes: choose from {', '.join(MODES)}")
    try:
        mazes = bench.load(get_task("maze"), args.spec).puzzles
        solver = NeuralSolver("loopmdm", "maze", sampler=SamplerConfig(chains=1, time_limit=args.time_limit))
        rows = [json.loads(line) for line in args.out.read_text().splitlines()] if args.out.exists() else []
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except json.JSONDecodeError as e:
        print(f"error: {args.out} is not a file this script wrote ({e}); move it away to start over", file=sys.stderr)
        sys.exit(2)
    done = {(r["maze"], r["mode"]) for r in rows}
    console = Console(stderr=True)
    computed = []  # the share of cell updates of each quiet step, gathered from QuietCells
    run = QuietCells.run

    def counting(self, h, inject, blocks, loops):
        before = self.computed
        out = run(self, h, inject, blocks, loops)
        computed.append((self.computed - before, h.shape[0] * h.shape[1] * loops))
        return out

    QuietCells.run = counting
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for i, m in enumerate(mazes):
        for mode in modes:
            if (i, mode) in done:
                continue
            Sampler.QUIET_CELLS, computed[:] = MODES[mode], []
            r = next(iter(solver.solve([m])))
            ran, dense = sum(c for c, _ in computed), sum(d for _, d in computed)
            row = {"spec": args.spec, "maze": i, "mode": mode, "verified": r.verified, "seconds": r.seconds,
                   "first_step_loops": int(r.extra.get("first_step_loops", 0)),
                   "updates_share": ran / dense if dense else 1.0}
            rows.append(row)
            with args.out.open("a") as f:
                f.write(json.dumps(row) + "\n")
            console.print(f"maze {i} {mode}: {'verified' if r.verified else 'unsolved'} in {r.seconds:.1f} s")

    table = Table(title=f"{args.spec}: quiet cells against dense passes (one chain, one maze at a time)")
    for col in ("mode", "mazes", "solved (verified)", "median s", "mean s", "cell updates run"):
        table.add_column(col)
    for mode in modes:
        mine = [r for r in rows if r["mode"] == mode and r["spec"] == args.spec]
        if mine:
            secs = [r["seconds"] for r in mine]
            table.add_row(mode, str(len(mine)), str(sum(r["verified"] for r in mine)), f"{statistics.median(secs):.1f}",
                          f"{statistics.mean(secs):.1f}", f"{100 * statistics.mean(r['updates_share'] for r in mine):.1f}%")
    Console().print(table)
    pairs = [(a, b) for a in rows for b in rows if a["spec"] == b["spec"] == args.spec and a["maze"] == b["maze"]
             and a["mode"] == "dense" and b["mode"] == "quiet"]
    if pairs:
        ratios = sorted(a["seconds"] / b["seconds"] for a, b in pairs)
        same = sum(a["verified"] == b["verified"] and a["first_step_loops"] == b["first_step_loops"] for a, b in pairs)
        Console().print(f"dense / quiet seconds, median over {len(pairs)} mazes: {statistics.median(ratios):.1f}x "
                        f"(range {ratios[0]:.1f}-{ratios[-1]:.1f}); same outcome and first-step loops: {same}/{len(pairs)}")


if __name__ == "__main__":
    main()
