"""Does a Sudoku model doubt its own mistakes? What retraction can read, checkpoint by checkpoint.

The tables of docs/results/sudoku.md, "Does the model doubt its own mistakes?"; --out writes the rows
(results/sudoku/sudoku-doubt/doubt-*.json; the fine-tunes are trained by the `csp train` commands given there):

    S=../shared/puzzles/sudoku
    C=csp_diffusion/checkpoints/sudoku-loopmdm.safetensors
    .venv/bin/python experiments/sudoku_doubt/run.py --puzzles $S/tdoku_forum_hardest_1905_dev5000.txt --limit 1000 \
        --checkpoints $C,runs/ft-control/model.safetensors,runs/ft-fiendish-own/model.safetensors \
        --out results/sudoku/sudoku-doubt/doubt-forum.json
    .venv/bin/python experiments/sudoku_doubt/run.py --puzzles $S/tdoku_17_clue_dev5000.txt --limit 1000 \
        --out results/sudoku/sudoku-doubt/doubt-tdoku_17_clue_dev5000.json
    .venv/bin/python experiments/sudoku_doubt/run.py --puzzles $S/norvig_top95.txt --limit 1000 \
        --out results/sudoku/sudoku-doubt/doubt-norvig_top95.json

For each checkpoint, on the puzzles' blank cells:
- one pass from the bare puzzle: how often its most probable digit is right, and how sure it is of
  its right and its wrong answers (median probability);
- its own commits read again: the surest `--share` of each puzzle's blank cells take the model's most
  probable digit, right or wrong (the grid the sampler's first step leaves, and what `own_commits`
  trains on), and the model reads that grid. Of the wrong commits, the share it now doubts (the
  committed digit's probability below the sampler's retraction threshold, 0.2), and of the right ones
  the share it doubts as well (a needless retraction); and the AUROC of its doubt (one minus that
  probability) for telling wrong commits from right ones (0.5: no better than chance).
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
from csp_diffusion.sampler import SamplerConfig  # noqa: E402
from csp_diffusion.study import auroc  # noqa: E402
from puzzles.domains import get_task  # noqa: E402
from puzzles.errors import UserError  # noqa: E402
from puzzles.files import write_text  # noqa: E402
from puzzles.sudoku.search import counted_search  # noqa: E402

DOUBT = SamplerConfig().doubt


def named(path: Path) -> str:
    """The checkpoint's path from the repository root where it lies inside it."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def measure(checkpoint: Path, puzzles: np.ndarray, solutions: np.ndarray, share: float) -> dict:
    hybrid = HybridSolver("sudoku", checkpoint=checkpoint)
    blank = puzzles == 0
    probs = hybrid.probabilities(puzzles)
    sure, guess = probs.max(-1), probs.argmax(-1) + 1
    right = guess == solutions
    # commit the surest share of each puzzle's blanks
    ranked = np.where(blank, sure, -1.0).argsort(1)[:, ::-1].argsort(1)  # 0: the surest blank of its row
    commit = blank & (ranked < np.ceil(share * blank.sum(1, keepdims=True)))
    grids = np.where(commit, guess, puzzles)
    again = hybrid.probabilities(grids, givens=puzzles)
    kept = np.take_along_axis(again, (grids - 1).clip(0)[..., None], -1)[..., 0]  # p(committed digit)
    wrong_c, right_c = commit & ~right, commit & right
    return {
        "checkpoint": named(checkpoint), "puzzles": len(puzzles), "blank_cells": int(blank.sum()),
        "one_pass_right": float(right[blank].mean()),
        "sure_right_median": float(np.median(sure[blank & right])),
        "sure_wrong_median": float(np.median(sure[blank & ~right])),
        "committed_share": share, "committed_wrong": float(wrong_c.sum() / commit.sum()),
        "wrong_doubted": float((kept[wrong_c] < DOUBT).mean()) if wrong_c.any() else float("nan"),
        "right_doubted": float((kept[right_c] < DOUBT).mean()),
        "doubt_auroc": auroc(1 - kept[wrong_c], 1 - kept[right_c]) if wrong_c.any() else float("nan"),
        "puzzles_with_a_wrong_commit": float((wrong_c.sum(1) > 0).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--puzzles", required=True)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--checkpoints", default=str(ROOT / "csp_diffusion/checkpoints/sudoku-loopmdm.safetensors"))
    parser.add_argument("--share", type=float, default=0.5, help="share of each puzzle's blank cells committed")
    parser.add_argument("--out", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    task = get_task("sudoku")
    raw = task.read_file(args.puzzles)[0][:args.limit]
    puzzles = np.stack([task.encode(p)[0] for p in raw]).astype(np.int64)
    solutions = np.stack([counted_search(g, 1)[3] for g in puzzles]).astype(np.int64)
    rows = [measure(Path(c), puzzles, solutions, args.share) for c in args.checkpoints.split(",")]
    print(f"{len(puzzles)} puzzles of {Path(args.puzzles).name}; {int(100 * args.share)}% of each puzzle's blanks "
          f"committed (the surest), then read again; doubted: the committed digit's probability below {DOUBT}")
    print("checkpoint | one pass right | sure (right / wrong) | commits wrong | wrong doubted | right doubted | "
          "doubt AUROC")
    for r in rows:
        print(f"{r['checkpoint']} | {100 * r['one_pass_right']:.1f}% | {r['sure_right_median']:.3f} / "
              f"{r['sure_wrong_median']:.3f} | {100 * r['committed_wrong']:.1f}% | {100 * r['wrong_doubted']:.1f}% | "
              f"{100 * r['right_doubted']:.1f}% | {r['doubt_auroc']:.3f}")
    if args.out:
        write_text(args.out, json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    try:
        main()
    except UserError as e:  # a missing or malformed puzzle file, a bad checkpoint: one line
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
