"""The architecture study: train matched variants with several seeds, evaluate them on one
held-out generated set, and test the research claims on the numbers.

Variants (all share the data, the width, the training loop and the wall-clock budget):
  loopmdm          LoopMDM: 1 + 2 (looped 1..K times) + 1 blocks
  mdm-same-params  the same 4 blocks run once: same parameters, no looping
  mdm-same-compute prelude + K unshared copies of the core + coda: LoopMDM's per-step compute at
                   K loops, K times the core's parameters, no looping
  ar               the autoregressive baseline
  hrm              the HRM-style baseline
Runs live in OUT/VARIANT-seedS (resumable: a finished run is not trained again); the claims, the
report (OUT/report.md) and the plots (PNG, when matplotlib is installed) are made in compare_report.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from csp_diffusion import models
from csp_diffusion.compare_report import claims, plots, report
from csp_diffusion.data import held_out
from csp_diffusion.runtime import fast_bf16, pick_device
from csp_diffusion.sampler import SamplerConfig
from csp_diffusion.train import TrainConfig, train
from puzzles.domains import get_task
from puzzles.files import write_text


@dataclass
class Study:
    task: str = "sudoku"
    budget_minutes: float = 3.0
    seeds: int = 2
    k_max: int = 4
    dim: int = 64
    batch_size: int = 64
    eval_puzzles: int = 100
    steps: int = 32  # decoding step limit at evaluation
    pool_size: int = 20_000
    device: str | None = None

    def variants(self) -> dict[str, tuple[str, dict]]:
        width = {"dim": self.dim}
        mdm = {**width, "trace": 0}  # the plain objective, so the variants differ only in their loops and depth
        return {
            "loopmdm": ("loopmdm", {**mdm, "max_loops": self.k_max}),
            "mdm-same-params": ("loopmdm", {**mdm, "max_loops": 1}),
            "mdm-same-compute": ("loopmdm", {**mdm, "max_loops": 1, "core": 2 * self.k_max}),
            "ar": ("ar", width),
            "hrm": ("hrm", width),
        }


def run(study: Study, out: Path, on_event: Callable[[dict], None] = lambda e: None) -> dict:
    """Train what is missing, evaluate everything, write OUT/results.json and OUT/report.md."""
    out.mkdir(parents=True, exist_ok=True)
    task = get_task(study.task)
    device = pick_device(study.device)
    on_event({"event": "phase", "what": f"generating {study.eval_puzzles} held-out puzzles"})
    puzzles = held_out(task, study.eval_puzzles, seed=777)[0]
    rows = []
    for name, (kind, overrides) in study.variants().items():
        for seed in range(study.seeds):
            folder = out / f"{name}-seed{seed}"
            on_event({"event": "variant", "name": name, "seed": seed})
            if not _finished(folder):
                cfg = TrainConfig(task=study.task, model=kind, model_config=overrides, minutes=study.budget_minutes,
                                  seed=seed, batch_size=study.batch_size, pool_size=study.pool_size, device=study.device,
                                  eval_every_minutes=study.budget_minutes / 4, eval_puzzles=32,
                                  warmup=50, autocast=fast_bf16(device))
                train(cfg, folder, resume=(folder / "state.pt").is_file(), on_event=on_event)
            on_event({"event": "phase", "what": f"evaluating {name} seed {seed}"})
            rows.append(_evaluate(name, kind, seed, folder, task, puzzles, study, device))
            on_event({"event": "evaluated", **rows[-1]})
    results = {"study": study.__dict__, "rows": rows, "claims": claims(rows, study)}
    write_text(out / "results.json", json.dumps(results, indent=1))
    write_text(out / "report.md", report(results))
    plots(results, out)
    return results


def _finished(folder: Path) -> bool:
    log = folder / "log.jsonl"
    return log.is_file() and any(json.loads(line).get("event") == "end" for line in log.read_text().splitlines())


def _evaluate(name, kind, seed, folder, task, puzzles, study: Study, device) -> dict:
    model, meta = models.load(folder / "model.safetensors", kind, study.task, device)
    autocast = fast_bf16(device)

    def rate(**cfg) -> float:
        config = SamplerConfig(**{"loops": 1, "max_steps": study.steps, **cfg})
        outcomes = models.decoder(kind, model, task, config, device, autocast).solve(puzzles)
        return float(np.mean([o.verified for o in outcomes]))

    row = {"variant": name, "kind": kind, "seed": seed, "params": model.num_params(),
           "train_flops": meta["info"]["train_flops"], "train_minutes": meta["info"]["minutes"]}
    k = model.max_loops
    row["solve_rate"] = rate(loops=k)
    if name == "loopmdm":
        row["by_loops"] = {str(n): rate(loops=n) for n in sorted({1, 2, k, 2 * k})}
        row["no_retract"] = rate(loops=k, retract=False)
    log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    row["curve"] = [(e["train_flops"], e["solve_rate"]) for e in log if e.get("event") == "eval" and "train_flops" in e]
    return row


__all__ = ["Study", "run"]
