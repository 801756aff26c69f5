"""Do Sudoku chains gain from running in frames (symmetries of the grid)? The same sampler at F frames.

The comparison of docs/results/sudoku.md, "Frames for Sudoku chains"; it prints, and
results/sudoku/sudoku-frames-forum-hardest-1000-1299.jsonl is the three runs' lines kept:

    .venv/bin/python experiments/sudoku_frames/run.py --frames 8,1 --start 1000 --limit 100
    .venv/bin/python experiments/sudoku_frames/run.py --frames 8,1 --start 1100 --limit 100
    .venv/bin/python experiments/sudoku_frames/run.py --frames 8,1 --start 1200 --limit 100

Runs the shipped LoopMDM (8 chains, 64 steps, no time limit) on puzzles start..start+limit of a file, with
chain c in frame c mod F (`SudokuTask.n_frames`; frames move cells only, identity first), and prints one
JSON line per F: the puzzles solved (verified) and which. Puzzles 1000 on of the forum-hardest file are
outside the first 1000 every other figure uses, so a setting chosen here is not chosen on them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csp_diffusion.sampler import SamplerConfig  # noqa: E402
from csp_diffusion.solver import NeuralSolver  # noqa: E402
from puzzles.domains import get_task  # noqa: E402
from puzzles.errors import UserError  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--puzzles", default=str(ROOT.parent / "shared/puzzles/sudoku/tdoku_forum_hardest_1905_dev5000.txt"))
    parser.add_argument("--frames", default="8,1")
    parser.add_argument("--start", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--chains", type=int, default=8)
    args = parser.parse_args()
    task = get_task("sudoku")
    raw = task.read_file(args.puzzles)[0][args.start:args.start + args.limit]
    solver = NeuralSolver("loopmdm", "sudoku", sampler=SamplerConfig(chains=args.chains))
    for frames in (int(f) for f in args.frames.split(",")):
        solver.task.n_frames = frames  # the solver's own task: its sampler runs the chains in these frames
        t = time.perf_counter()
        results = list(solver.solve(raw))
        print(json.dumps({"frames": frames, "start": args.start, "n": len(raw), "chains": args.chains,
                          "solved": sum(r.verified for r in results),
                          "which": [i for i, r in enumerate(results) if r.verified],
                          "seconds": round(time.perf_counter() - t, 1)}), flush=True)


if __name__ == "__main__":
    try:
        main()
    except UserError as e:  # a missing or malformed puzzle file, a bad checkpoint: one line
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
