"""The architecture study: train matched variants with several seeds, evaluate them on one
held-out generated set, and test the research claims on the numbers.

Variants (all share the data, the width, the training loop and the wall-clock budget):
  loopmdm          LoopMDM: 1 + 2 (looped 1..K times) + 1 blocks
  mdm-same-params  the same 4 blocks run once: same parameters, no looping
  mdm-same-compute prelude + K unshared copies of the core + coda: LoopMDM's per-step compute at
                   K loops, K times the core's parameters, no looping
  ar               the autoregressive baseline
  hrm              the HRM-style baseline
Runs live in OUT/VARIANT-seedS (resumable: a finished run is not trained again); the report is
OUT/report.md plus PNG plots when matplotlib is installed.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from csp_diffusion import models
from csp_diffusion.blocks import fast_bf16, pick_device
from csp_diffusion.data import held_out
from csp_diffusion.decoders import decoder
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
        return float(np.mean([o.verified for o in decoder(kind, model, task, config, device, autocast).solve(puzzles)]))

    row = {"variant": name, "kind": kind, "seed": seed, "params": model.num_params(),
           "train_flops": meta["info"]["train_flops"], "train_minutes": meta["info"]["minutes"]}
    k = getattr(model.config, "max_loops", 1)
    row["solve_rate"] = rate(loops=k)
    if name == "loopmdm":
        row["by_loops"] = {str(n): rate(loops=n) for n in sorted({1, 2, k, 2 * k})}
        row["no_retract"] = rate(loops=k, retract=False)
    log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    row["curve"] = [(e["train_flops"], e["solve_rate"]) for e in log if e.get("event") == "eval" and "train_flops" in e]
    return row


def _stat(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def claims(rows: list[dict], study: Study) -> list[dict]:
    """Each research claim with the numbers that decide it; `held` is True, False or None (cannot tell)."""
    by = {}
    for r in rows:
        by.setdefault(r["variant"], []).append(r)

    def mean(name, key="solve_rate"):
        return _stat([r[key] for r in by.get(name, [])]) if name in by else (float("nan"), 0.0)

    loop, same, deep = mean("loopmdm"), mean("mdm-same-params"), mean("mdm-same-compute")
    out = [
        {"claim": "looping beats adding no depth at fixed parameters (loopmdm > mdm-same-params)",
         "numbers": f"{100 * loop[0]:.1f} ± {100 * loop[1]:.1f}% vs {100 * same[0]:.1f} ± {100 * same[1]:.1f}%",
         "held": _beats(loop, same)},
        {"claim": "looping is as good as real depth at the same per-step compute (loopmdm >= mdm-same-compute)",
         "numbers": f"{100 * loop[0]:.1f} ± {100 * loop[1]:.1f}% vs {100 * deep[0]:.1f} ± {100 * deep[1]:.1f}% "
                    f"with {by['mdm-same-compute'][0]['params'] / by['loopmdm'][0]['params']:.1f}x the parameters"
         if "mdm-same-compute" in by else "-",
         "held": None if "mdm-same-compute" not in by else _not(_beats(deep, loop))},
    ]
    ratio = _flops_ratio(by.get("loopmdm", []), by.get("mdm-same-params", []))
    out.append({"claim": "looping reaches the same-size MDM's final accuracy with fewer training FLOPs (LoopMDM reports up to 3.3x)",
                "numbers": "-" if ratio is None else f"{ratio:.2f}x fewer FLOPs",
                "held": None if ratio is None else ratio > 1.0})
    if "ar" in by:
        ar = mean("ar")
        out.append({"claim": "diffusion with retraction beats AR (loopmdm > ar)",
                    "numbers": f"{100 * loop[0]:.1f}% vs {100 * ar[0]:.1f} ± {100 * ar[1]:.1f}%", "held": _beats(loop, ar)})
    if "loopmdm" in by:
        keys = sorted(by["loopmdm"][0]["by_loops"], key=int)
        curve = {k: _stat([r["by_loops"][k] for r in by["loopmdm"]])[0] for k in keys}
        out.append({"claim": "more loops at inference buy accuracy (up to K_max and beyond)",
                    "numbers": ", ".join(f"{k} loops {100 * v:.1f}%" for k, v in curve.items()),
                    "held": _beats((curve[keys[-2]], 0.0), (curve[keys[0]], 0.0)) if len(keys) > 1 else None})
        nr = _stat([r["no_retract"] for r in by["loopmdm"]])
        out.append({"claim": "retraction helps (retract on > off)",
                    "numbers": f"{100 * loop[0]:.1f}% vs {100 * nr[0]:.1f}%", "held": _beats(loop, nr)})
    return out


def _not(verdict: bool | None) -> bool | None:
    return None if verdict is None else not verdict


def _beats(a: tuple[float, float], b: tuple[float, float]) -> bool | None:
    """True when a's mean is above b's by more than their spreads, False when below by more, else None."""
    gap, spread = a[0] - b[0], a[1] + b[1]
    if gap > spread:
        return True
    if gap < -spread:
        return False
    return None


def _first(curve, target: float) -> float | None:
    return next((f for f, rate in curve if rate >= target), None)


def _flops_ratio(loop_rows, mdm_rows) -> float | None:
    """The same-size MDM's training FLOPs to reach its final held-out rate over LoopMDM's to first
    reach that rate (means over seeds); None when a curve is missing or LoopMDM never gets there."""
    if not loop_rows or not mdm_rows or not all(r["curve"] for r in loop_rows + mdm_rows):
        return None
    target = statistics.fmean(r["curve"][-1][1] for r in mdm_rows)
    if target <= 0:
        return None
    mdm = [_first(r["curve"], target) or r["curve"][-1][0] for r in mdm_rows]
    loop = [_first(r["curve"], target) for r in loop_rows]
    if any(f is None for f in loop):
        return None
    return statistics.fmean(mdm) / statistics.fmean(loop)


def report(results: dict) -> str:
    s, rows = results["study"], results["rows"]
    lines = [f"# Architecture comparison: {s['task']}", "",
             f"Budget {s['budget_minutes']} training minutes per run, {s['seeds']} seed(s), width {s['dim']}, "
             f"K_max {s['k_max']}; evaluated on {s['eval_puzzles']} held-out generated puzzles, "
             f"step limit {s['steps']}. Means ± standard deviation over seeds.", "",
             "| variant | params | training GFLOP | solve rate |", "|---|---|---|---|"]
    names = list(dict.fromkeys(r["variant"] for r in rows))
    for name in names:
        rs = [r for r in rows if r["variant"] == name]
        m, sd = _stat([r["solve_rate"] for r in rs])
        lines.append(f"| {name} | {rs[0]['params'] / 1e6:.2f}M | {statistics.fmean(r['train_flops'] for r in rs) / 1e9:,.0f} "
                     f"| {100 * m:.1f} ± {100 * sd:.1f}% |")
    lines += ["", "## Claims", "", "| claim | numbers | held? |", "|---|---|---|"]
    verdict = {True: "yes", False: "no", None: "cannot tell (within the spread)"}
    for c in results["claims"]:
        lines.append(f"| {c['claim']} | {c['numbers']} | {verdict[c['held']]} |")
    return "\n".join(lines) + "\n"


def plots(results: dict, out: Path) -> list[Path]:
    """solve rate against training FLOPs, and LoopMDM's against inference loops (needs matplotlib)."""
    try:
        import matplotlib
    except ImportError:
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["rows"]
    made = []
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for k, name in enumerate(dict.fromkeys(r["variant"] for r in rows)):
        for j, r in enumerate(r for r in rows if r["variant"] == name):
            if r["curve"]:
                f, sr = zip(*r["curve"])
                ax.plot(np.array(f) / 1e12, 100 * np.array(sr), "o-", color=f"C{k}", alpha=0.8,
                        label=name if j == 0 else None)
    ax.set_xlabel("training TFLOP")
    ax.set_ylabel("held-out solved (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "solve_vs_flops.png", dpi=110)
    made.append(out / "solve_vs_flops.png")
    loop_rows = [r for r in rows if r["variant"] == "loopmdm"]
    if loop_rows:
        fig, ax = plt.subplots(figsize=(5, 3.4))
        for r in loop_rows:
            ks = sorted(r["by_loops"], key=int)
            ax.plot([int(k) for k in ks], [100 * r["by_loops"][k] for k in ks], "o-", label=f"seed {r['seed']}")
        ax.set_xlabel("loops at inference")
        ax.set_ylabel("held-out solved (%)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "solve_vs_loops.png", dpi=110)
        made.append(out / "solve_vs_loops.png")
    plt.close("all")
    return made


__all__ = ["Study", "run", "claims", "report", "plots"]
