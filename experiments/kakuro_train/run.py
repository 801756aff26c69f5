"""The shipped Kakuro LoopMDM's training run: generated puzzles of sides 5 to 12 on a 12x12 canvas (never a
published puzzle), warm-up then a constant rate with an EMA of the weights, so every checkpoint is a usable
model; snapshots at 1e13, 3e13, 1e14 and 3e14 training FLOPs for the budget curve. Resumable: rerun the same
command; the pool is generated once (into CSP_CACHE) and the run continues from its last checkpoint.

    .venv/bin/python experiments/kakuro_train/run.py                 # runs/kakuro-loopmdm/
    .venv/bin/python experiments/kakuro_train/run.py --flops 1e15    # a larger budget, same run

Ships with: cp runs/kakuro-loopmdm/model.safetensors csp_diffusion/checkpoints/kakuro-loopmdm.safetensors
(its log: runs/kakuro-loopmdm/log.jsonl, copied to results/kakuro/train-log.jsonl).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csp_diffusion.runtime import fast_bf16, pick_device  # noqa: E402
from csp_diffusion.train import TrainConfig, train  # noqa: E402

OUT = ROOT / "runs" / "kakuro-loopmdm"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flops", type=float, default=3e14)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    cfg = TrainConfig(task="kakuro", model="loopmdm", model_config={"dim": 64, "max_loops": 8}, flops=args.flops,
                      batch_size=64, lr=1e-3, schedule="constant", warmup_fraction=0.01, ema=0.999, pool_size=20_000,
                      grid=12, eval_puzzles=64, eval_every_minutes=15.0, checkpoint_every_minutes=3.0,
                      autocast=fast_bf16(pick_device(None)), snapshots=[1e13, 3e13, 1e14, 3e14])

    def on_event(e: dict) -> None:
        if e.get("event") in ("phase", "start", "eval", "snapshot", "end") or (
                e.get("event") == "step" and e["step"] % 200 == 0):
            print(json.dumps(e), flush=True)

    train(cfg, args.out, resume=(args.out / "state.pt").is_file(), on_event=on_event)


if __name__ == "__main__":
    main()
