"""Peer attention + row/col/box embeddings vs full attention + free positions, same model, same budget.

    python scripts/ablate_attention.py [--minutes 4] [--out runs/ablate-attention]

Trains both variants of the default LoopMDM for the same wall-clock budget (one after the
other, same seed and data) and prints the training loss curve of each from its log.jsonl.
Chance level is ln 9 = 2.20.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from csp_diffusion.train import TrainConfig, train

VARIANTS = {
    "peer attention, row/col/box embeddings": {},
    "full attention, free positions": {"peer_attention": False, "free_positions": True},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=4.0)
    ap.add_argument("--out", type=Path, default=Path("runs/ablate-attention"))
    args = ap.parse_args()
    curves = {}
    for k, (name, overrides) in enumerate(VARIANTS.items()):
        run = args.out / f"variant{k}"
        if not (run / "model.safetensors").exists():
            train(TrainConfig(minutes=args.minutes, model_config=overrides, eval_puzzles=0), run)
        log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
        curves[name] = [(e["minutes"], e["loss"]) for e in log if e["event"] == "step"]
    marks = [1, 2, 3, args.minutes]
    print("| variant | " + " | ".join(f"loss at {m:g} min" for m in marks) + " |")
    print("|---|" + "---|" * len(marks))
    for name, curve in curves.items():
        cells = []
        for m in marks:
            before = [loss for t, loss in curve if t <= m]
            cells.append(f"{before[-1]:.3f}" if before else "-")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
