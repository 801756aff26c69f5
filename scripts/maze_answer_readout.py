"""Which part of a trace maze LoopMDM should answer: its coda, or its trace read-out's walk flag?

    python scripts/maze_answer_readout.py csp_diffusion/checkpoints/maze-loopmdm.safetensors \
        --puzzles gen:open:100:size=30:min_path=110:seed=2

Runs each maze once at 2 x dist(S, G) + 8 loops (enough for the trace, from the true length: a
diagnosis, not a solver) and counts the mazes whose answer verifies as a shortest path, read
through the coda (prelude, core, coda, head) and through the walk flag (the trace read-out's last
output on the core's final state, what a trace model answers with).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from csp_diffusion import bench, models
from puzzles.domains import MazeTask
from puzzles.errors import UserError


@torch.no_grad()
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--puzzles", default="gen:open:100:size=30:min_path=110:seed=2")
    args = ap.parse_args()
    torch.set_num_threads(1)
    task = MazeTask()
    try:  # a missing or damaged checkpoint, a bad generator spec: one line
        model, _ = models.load(args.checkpoint, "loopmdm", "maze")
        mazes = bench.load("maze", args.puzzles).puzzles
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    if not model.config.trace:
        print("error: not a trace model (it has no walk flag)", file=sys.stderr)
        sys.exit(2)
    coda = flag = 0
    for m in mazes:
        v, shape = task.encode(m)
        st = task.structure(shape)
        t = task.trace(v, shape)[2]
        values, given = torch.as_tensor(v)[None], torch.as_tensor(v > 0)[None]
        graph = torch.as_tensor(st.graph)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            by_flag, core = model(values, given, torch.as_tensor(st.positions), graph, 2 * t + 8, return_state=True)
            by_coda = model.coda_logits(core, values, given, graph).float()
        for logits, hit in ((by_coda, "coda"), (by_flag, "flag")):
            answer = np.where(v > 0, v, logits.argmax(-1)[0].numpy() + 1)
            ok = task.verify(v, answer, shape)
            coda, flag = (coda + ok, flag) if hit == "coda" else (coda, flag + ok)
    print(f"{args.puzzles}: shortest paths from the coda {coda}, from the walk flag {flag}, of {len(mazes)}")


if __name__ == "__main__":
    main()
