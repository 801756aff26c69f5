"""Which single right digit unlocks a hard Sudoku for the model, and does its own belief point there?

The figures of docs/results/sudoku.md, "One right digit"; --out writes them:

    S=../shared/puzzles/sudoku
    .venv/bin/python experiments/sudoku_hints/run.py --puzzles $S/tdoku_forum_hardest_1905_dev5000.txt --start 1000 --limit 100 \
        --out results/sudoku/sudoku-hints-forum-hardest-1000-1099.json

For each puzzle, each blank cell in turn is filled with its solution digit (one hint, a committed cell, not a
given, as the sampler commits it) and the model reads the grid once: the hint unlocks the puzzle when the
model's most probable digits then complete the solution. Prints how many puzzles one hint unlocks, and where
the unlocking cells stand in the model's own belief from the bare puzzle: their top probability (how sure the
model is of its best digit there), their rank among the puzzle's blanks by it (0: the least sure), and its
probability of the right digit there, against every blank's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csp_diffusion.hybrid import HybridSolver  # noqa: E402
from puzzles import sudoku  # noqa: E402
from puzzles.errors import UserError  # noqa: E402
from puzzles.files import write_text  # noqa: E402
from puzzles.sudoku.search import search  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--puzzles", required=True)
    ap.add_argument("--start", type=int, default=1000, help="first puzzle (default 1000: outside the first 1000)")
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args()
    try:
        rows = sudoku.read_file(args.puzzles)[args.start:args.start + args.limit]
        if not rows:
            raise UserError(f"{args.puzzles} has no puzzles from number {args.start}")
        hybrid = HybridSolver("sudoku")
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    puzzles = np.stack([r.givens for r in rows]).astype(np.int64)
    found = [search(p.astype(np.int8), 2) for p in puzzles]
    for k, (count, _, _) in enumerate(found):
        if count != 1:
            print(f"error: puzzle {args.start + k} has {'no' if count == 0 else 'more than one'} solution",
                  file=sys.stderr)
            sys.exit(2)
    solutions = np.stack([first for _, _, first in found]).astype(np.int64)
    bare = hybrid.probabilities(puzzles)
    top = bare.max(-1)
    truth = np.take_along_axis(bare, (solutions - 1)[..., None].clip(0), -1)[..., 0]
    unlocked, key_top, key_rank, all_top, key_true, all_true = 0, [], [], [], [], []
    for p, s, t, r in zip(puzzles, solutions, top, truth):
        blanks = np.flatnonzero(p == 0)
        hinted = np.repeat(p[None], len(blanks), 0)
        hinted[np.arange(len(blanks)), blanks] = s[blanks]
        probs = hybrid.probabilities(hinted, givens=np.repeat(p[None], len(blanks), 0))
        grids = np.where(hinted > 0, hinted, probs.argmax(-1) + 1)
        keys = blanks[(grids == s).all(1)]
        rank = np.empty(81)
        rank[blanks] = t[blanks].argsort().argsort() / max(len(blanks) - 1, 1)  # 0: least sure blank, 1: surest
        unlocked += len(keys) > 0
        key_top += t[keys].tolist()
        key_rank += rank[keys].tolist()
        all_top += t[blanks].tolist()
        key_true += r[keys].tolist()
        all_true += r[blanks].tolist()
    out = {"puzzles": len(puzzles), "unlocked_by_one_hint": unlocked, "unlocking_cells": len(key_top),
           "median_top_probability_unlocking": float(np.median(key_top)) if key_top else None,
           "median_top_probability_all_blanks": float(np.median(all_top)),
           "median_true_probability_unlocking": float(np.median(key_true)) if key_true else None,
           "median_true_probability_all_blanks": float(np.median(all_true)),
           "median_rank_unlocking": float(np.median(key_rank)) if key_rank else None,
           "share_unlocking_in_least_sure_quarter": float(np.mean(np.array(key_rank) <= 0.25)) if key_rank else None}
    where = "no cell" if not key_top else (
        f"the model's top probability there, from the bare puzzle: median {out['median_top_probability_unlocking']:.3f} "
        f"(all blanks {out['median_top_probability_all_blanks']:.3f}); their rank among the blanks by it, 0 the "
        f"least sure: median {out['median_rank_unlocking']:.2f}, {out['share_unlocking_in_least_sure_quarter']:.0%} "
        f"in the least sure quarter; its probability of the right digit there: median "
        f"{out['median_true_probability_unlocking']:.3f} (all blanks {out['median_true_probability_all_blanks']:.3f})")
    print(f"{unlocked} of {len(puzzles)} puzzles are unlocked by one right digit ({len(key_top)} unlocking cells); {where}")
    if args.out:
        write_text(args.out, json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
