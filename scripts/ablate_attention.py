"""Peer attention + row/col/box embeddings vs full attention + free positions, same model, same budget.

    python scripts/ablate_attention.py [--steps 150] [--batch-size 64] [--out runs/ablate-attention]

Trains both variants of the default LoopMDM for the same number of steps (one after the
other, same seed and data, so the comparison holds however busy the machine is) and prints
the training loss of each at a few points from its log.jsonl, with the minutes it took.
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
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--out", type=Path, default=Path("runs/ablate-attention"))
    args = ap.parse_args()
    curves = {}
    for k, (name, overrides) in enumerate(VARIANTS.items()):
        run = args.out / f"variant{k}"
        if not (run / "model.safetensors").exists():
            train(TrainConfig(steps=args.steps, batch_size=args.batch_size, model_config=overrides,
                              eval_puzzles=0, log_every=10), run)
        log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
        curves[name] = {e["step"]: (e["loss"], e["minutes"]) for e in log if e["event"] == "step"}
    marks = [m for m in (20, 50, 100, args.steps) if m <= args.steps]
    print("| variant | " + " | ".join(f"loss at step {m}" for m in marks) + " | minutes |")
    print("|---|" + "---|" * (len(marks) + 1))
    for name, curve in curves.items():
        cells = [f"{curve[m][0]:.3f}" if m in curve else "-" for m in marks]
        print(f"| {name} | " + " | ".join(cells) + f" | {curve[max(curve)][1]:.1f} |")


if __name__ == "__main__":
    main()
