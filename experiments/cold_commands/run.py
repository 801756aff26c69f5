"""Time whole `csp` commands in fresh processes, in turn, as a new user runs them.

The "Cold commands" figures of docs/results/sudoku.md: each command runs `--runs` times, the commands
alternating (A B A B ...) so both see the same machine; it prints each command's median, min and max
wall seconds and the ratio of each median to the first command's:

    S=../shared/puzzles/sudoku
    P=$(head -1 $S/tdoku_forum_hardest_1905_dev5000.txt)
    head -200 $S/tdoku_forum_hardest_1905_dev5000.txt > /tmp/fh200.txt
    python experiments/cold_commands/run.py --runs 5 \
        "csp solve sudoku $P --solver cpsat" "csp solve sudoku $P --solver hybrid"
    python experiments/cold_commands/run.py --runs 5 --puzzles 200 \
        "csp solve sudoku /tmp/fh200.txt --solver cpsat" "csp solve sudoku /tmp/fh200.txt --solver hybrid"

A command's leading `csp` runs as `python -m cli` with this interpreter; stdout and stderr are dropped.
With `--puzzles N`, puzzles per second (N over the median) are printed too.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("commands", nargs="+", help="whole commands, each one argument")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--puzzles", type=int, default=0, help="puzzles each command solves (for puzzles/s)")
    args = ap.parse_args()
    argvs = []
    for c in args.commands:
        argv = shlex.split(c)
        argvs.append([sys.executable, "-m", "cli", *argv[1:]] if argv[0] == "csp" else argv)
    times: list[list[float]] = [[] for _ in argvs]
    codes: list[set[int]] = [set() for _ in argvs]
    for _ in range(args.runs):
        for k, argv in enumerate(argvs):
            t = time.perf_counter()
            done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[k].append(time.perf_counter() - t)
            codes[k].add(done.returncode)
    base = statistics.median(times[0])
    for c, ts, rc in zip(args.commands, times, codes):
        med = statistics.median(ts)
        rate = f", {args.puzzles / med:.1f} puzzles/s" if args.puzzles else ""
        print(f"{med:.3f} s median ({min(ts):.3f}-{max(ts):.3f}, {len(ts)} runs, exit {sorted(rc)}), "
              f"{med / base:.2f}x the first{rate}: {c}")


if __name__ == "__main__":
    main()
