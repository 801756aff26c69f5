"""Time a LoopMDM on puzzles solved one at a time, as `csp solve` runs a single puzzle, with the model loaded.

The one-at-a-time figures of docs/results/sudoku.md ("The default", "Speed") and docs/results/maze.md ("The
maze kinds after the fine-tune", "Frames", "Maze results"). It prints; each .txt named is that output kept. The
top95 .md and .json files were written by a loop over the library's solver with these settings, not by this script:

    S=../shared/puzzles/sudoku
    python experiments/latency/run.py sudoku $S/tdoku_forum_hardest_1905_dev5000.txt --limit 50
        # results/sudoku/sudoku-latency-forum-hardest-first50-default.txt
    python experiments/latency/run.py sudoku $S/norvig_top95.txt --chains 8 --spare-after 0 --steps 5
        # results/sudoku/sudoku-loopmdm-latency-together5.{md,json}
    python experiments/latency/run.py sudoku $S/norvig_top95.txt --chains 8 --steps 64 --time-limit 1
        # results/sudoku/sudoku-loopmdm-latency-c8-t1-default.{md,json}
    csp generate maze -n 10 --size 30 --kind walls --min-path 110 --seed 1 -o walls10.maze
    python experiments/latency/run.py maze walls10.maze
        # results/maze/maze-frames/latency-walls30.txt; a later run: latency-walls30-second-run.txt; with
        # OMP_NUM_THREADS=1: latency-walls30-one-thread.txt; before the sampler had frames:
        # results/maze/maze-kinds-finetuned/latency-walls30.txt
    csp generate maze -n 10 --size 30 --kind open --min-path 110 --seed 1 -o hard10.maze
    python experiments/latency/run.py maze hard10.maze [--time-limit 2]    # results/maze/maze-trace-latency.txt

`csp bench` and `csp solve --file` batch their puzzles, and `csp solve PUZZLE` adds about 2 s of
Python and torch start-up, so neither gives the time one puzzle takes on its own. Prints the wall
seconds of each puzzle (* = solved, verified), then solved / total, the median answer when solved, the
median settle time over all (solved or given up) and the slowest, and the puzzles per second of the run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.solver import NeuralSolver
from puzzles import maze, sudoku
from puzzles.errors import UserError
from puzzles.maze.task import MazeTask
from puzzles.sudoku.task import SudokuTask


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("task", choices=("sudoku", "maze"))
    ap.add_argument("file")
    ap.add_argument("--limit", type=int, default=None, help="only the first N puzzles of the file")
    ap.add_argument("--chains", type=int, default=None,
                    help=f"chains per puzzle (default: sudoku as csp solve, {SudokuTask.chains}; maze 1)")
    ap.add_argument("--spare-after", type=int, default=SamplerConfig.spare_after,
                    help="steps before the extra chains join a puzzle still unsolved (0 = all start together)")
    ap.add_argument("--steps", type=int, default=None,
                    help=f"denoising step limit (default: as csp solve, sudoku {SudokuTask.steps}, maze {MazeTask.steps})")
    ap.add_argument("--time-limit", type=float, default=0.0, help="seconds per puzzle (0 = only the step limit)")
    ap.add_argument("--checkpoint", default=None, help="a LoopMDM checkpoint (default: the shipped one)")
    args = ap.parse_args()
    task = SudokuTask if args.task == "sudoku" else MazeTask
    chains = args.chains if args.chains is not None else (task.chains if args.task == "sudoku" else 1)
    config = SamplerConfig(chains=chains, spare_after=args.spare_after, max_steps=args.steps or task.steps,
                           time_limit=args.time_limit)
    try:  # a missing or malformed file, a damaged checkpoint: one line
        if args.task == "sudoku":
            puzzles = [s.givens for s in sudoku.read_file(args.file)]
        else:
            puzzles = maze.read_file(args.file)
        solver = NeuralSolver("loopmdm", args.task, args.checkpoint, sampler=config)
    except (UserError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    times, t0 = [], time.perf_counter()
    for one in puzzles[: args.limit]:
        start = time.perf_counter()
        r = next(iter(solver.solve([one])))
        times.append((r.verified, time.perf_counter() - start))
    print(" ".join(f"{s:.2f}{'*' if ok else ''}" for ok, s in times))
    solved = [s for ok, s in times if ok]
    median = f"median when solved {statistics.median(solved):.2f} s" if solved else "none solved"
    every = [s for _, s in times]
    print(f"{len(solved)}/{len(times)} solved, {median}, median settle (solved or given up) "
          f"{statistics.median(every):.2f} s, slowest {max(every):.2f} s, "
          f"{len(times) / (time.perf_counter() - t0):.2f} puzzles/s one at a time")


if __name__ == "__main__":
    main()
