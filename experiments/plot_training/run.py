"""Plot a training run's loss and held-out solve rate against training minutes (needs the `plot` extra).

The training curve of docs/results/sudoku.md, "The shipped model", written to the second argument:

    python experiments/plot_training/run.py results/sudoku/sudoku-loopmdm-train-log.jsonl \
        results/sudoku/sudoku-loopmdm-training.png

(the maze curves, results/maze/maze-loopmdm-training.png and maze-loopmdm-h100-training.png, the same way
from results/maze/maze-loopmdm-train-log.jsonl and maze-loopmdm-h100-train-log.jsonl).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path


def main(log: Path, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    events = [json.loads(line) for line in log.read_text().splitlines()]
    steps = [e for e in events if e["event"] == "step"]
    evals = [e for e in events if e["event"] == "eval"]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot([e["minutes"] for e in steps], [e["loss"] for e in steps], color="tab:blue", label="training loss")
    n_values = events[0].get("config", {}).get("n_values", 9)
    ax.axhline(math.log(n_values), color="tab:blue", linestyle=":", linewidth=1, label=f"chance (ln {n_values})")
    device = events[0].get("device", "cpu")
    ax.set_xlabel(f"training minutes ({'GPU' if device.startswith('cuda') else 'CPU'})")
    ax.set_ylabel("cross-entropy", color="tab:blue")
    ax2 = ax.twinx()
    ax2.plot([e["minutes"] for e in evals], [100 * e["solve_rate"] for e in evals], "o-", color="tab:green",
             label="held-out solve rate")
    ax2.set_ylabel("held-out generated puzzles solved (%)", color="tab:green")
    ax2.set_ylim(0, 100)
    fig.legend(loc="upper center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
