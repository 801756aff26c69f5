"""Maze LoopMDM: does the walk hold? The true path's cells the walk flag lights, loop by loop, in one pass.

The diagnosis of docs/results/maze.md, "Every kind from side 11 to 201" (why large rooms fail); each writes
its --out .json and .md (with --checkpoint and the pilot's model: results/maze/maze-rooms15-pilot/walk-rooms-*):

    python experiments/maze_walk/run.py --spec gen:rooms:4:size=31:open=100:seed=3 --out results/maze/maze-walk/rooms-31
    python experiments/maze_walk/run.py --spec gen:rooms:2:size=61:seed=3 --out results/maze/maze-walk/rooms-61

Runs the core once per maze, cold and in the maze's own frame, for 2T + 40 loops (T = dist(S, G)),
and reads the walk flag (the trace read-out's last output) after every loop. Per maze: the shortest path
T, the share of the path's cells lit at the best loop ("peak") and at the last ("end"), the loop of the
peak, and the cells lit off the path at the end. A walk that reached far and then went dark (peak well
above end) lost cells it had lit; one with a low peak never got there. Pure diagnosis: the solver's
sampler, checks and frames are not involved. Writes OUT.json and OUT.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from csp_diffusion import bench
from csp_diffusion.solver import NeuralSolver
from puzzles import maze
from puzzles.domains import get_task
from puzzles.errors import UserError
from puzzles.files import write_text


def walk(solver: NeuralSolver, m: maze.Maze, extra: int = 40) -> dict:
    model, task = solver.model, solver.task
    v, shape = task.encode(m)
    structure = task.structure(shape)
    values = torch.as_tensor(v, device=solver.device)[None]
    trace = task.trace(v[None], shape)
    steps = 2 * int(trace["length"][0]) + extra
    on = torch.as_tensor(trace["on"][0], device=solver.device)
    states: list[torch.Tensor] = []
    with torch.no_grad(), torch.autocast(solver.device.type, dtype=torch.bfloat16, enabled=solver.autocast):
        model(values, values > 0, torch.as_tensor(structure.positions, device=solver.device),
              torch.as_tensor(structure.graph, device=solver.device), steps, grad_loops=steps, states=states)
        lit = torch.stack([model.trace_head(h.float())[0, :, -1].float() > 0 for h in states])  # (loops, cells)
    share = (lit & on).sum(1).float() / on.sum()
    peak = int(share.argmax())
    return {"T": int(trace["length"][0]), "peak": round(float(share[peak]), 3), "peak_loop": peak + 1,
            "end": round(float(share[-1]), 3), "off_path_end": int((lit[-1] & ~on).sum()), "loops": steps}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True, help="a maze set: a file or a gen: spec")
    ap.add_argument("--checkpoint", type=Path, default=None)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    try:
        mazes = bench.load(get_task("maze"), args.spec).puzzles
        solver = NeuralSolver("loopmdm", "maze", args.checkpoint)
    except (UserError, OSError) as e:
        sys.exit(f"error: {e}")
    if not solver.model.trace:
        sys.exit("error: this diagnosis reads a trace model's walk flag; the checkpoint has none")
    rows = []
    for i, m in enumerate(mazes):
        rows.append({"maze": i, **walk(solver, m)})
        r = rows[-1]
        print(f"maze {i}: T {r['T']}, path lit at peak {r['peak']:.0%} (loop {r['peak_loop']}), at the end "
              f"{r['end']:.0%}, lit off the path {r['off_path_end']}", flush=True)
    write_text(args.out.with_suffix(".json"), json.dumps({"spec": args.spec, "mazes": rows}, indent=1))
    lines = [f"`{args.spec}`: one cold pass of 2T + 40 loops per maze, the walk flag read after every loop.", "",
             "| maze | T | path lit at peak (loop) | at the end | lit off the path |", "|---|---|---|---|---|"]
    lines += [f"| {r['maze']} | {r['T']} | {r['peak']:.0%} ({r['peak_loop']}) | {r['end']:.0%} | {r['off_path_end']} |"
              for r in rows]
    write_text(args.out.with_suffix(".md"), "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
