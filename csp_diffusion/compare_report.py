"""The architecture study's verdicts and write-up: each research claim judged on the runs' numbers,
the report (markdown) and the plots. compare.py makes the runs."""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from csp_diffusion.compare import Study


def _stat(values: list[float]) -> tuple[float, float]:
    """(mean, standard deviation); one value has no spread to judge by (nan: every verdict on it is None)."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else float("nan"))


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
    out.append({"claim": "looping reaches the same-size MDM's final accuracy with fewer training FLOPs "
                         "(LoopMDM reports up to 3.3x)",
                "numbers": "-" if ratio is None else f"{ratio:.2f}x fewer FLOPs",
                "held": None if ratio is None else ratio > 1.0})
    if "ar" in by:
        ar = mean("ar")
        out.append({"claim": "diffusion with retraction beats AR (loopmdm > ar)",
                    "numbers": f"{100 * loop[0]:.1f}% vs {100 * ar[0]:.1f} ± {100 * ar[1]:.1f}%", "held": _beats(loop, ar)})
    if "loopmdm" in by:
        keys = sorted(by["loopmdm"][0]["by_loops"], key=int)
        curve = {k: _stat([r["by_loops"][k] for r in by["loopmdm"]]) for k in keys}
        out.append({"claim": "more loops at inference buy accuracy (up to K_max and beyond)",
                    "numbers": ", ".join(f"{k} loops {100 * v[0]:.1f}%" for k, v in curve.items()),
                    "held": _beats(curve[keys[-2]], curve[keys[0]]) if len(keys) > 1 else None})
        nr = _stat([r["no_retract"] for r in by["loopmdm"]])
        out.append({"claim": "retraction helps (retract on > off)",
                    "numbers": f"{100 * loop[0]:.1f}% vs {100 * nr[0]:.1f}%", "held": _beats(loop, nr)})
    return out


def _not(verdict: bool | None) -> bool | None:
    return None if verdict is None else not verdict


def _beats(a: tuple[float, float], b: tuple[float, float]) -> bool | None:
    """True when a's mean is above b's by more than their spreads, False when below by more, else None
    (also when a spread is unknown: a single seed decides nothing)."""
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
             f"step limit {s['steps']}. Means ± standard deviation over seeds (a claim needs 2 seeds or more).", "",
             "| variant | params | training GFLOP | solve rate |", "|---|---|---|---|"]
    names = list(dict.fromkeys(r["variant"] for r in rows))
    for name in names:
        rs = [r for r in rows if r["variant"] == name]
        m, sd = _stat([r["solve_rate"] for r in rs])
        lines.append(f"| {name} | {rs[0]['params'] / 1e6:.2f}M | {statistics.fmean(r['train_flops'] for r in rs) / 1e9:,.0f} "
                     f"| {100 * m:.1f}" + (" (one seed)" if math.isnan(sd) else f" ± {100 * sd:.1f}") + "% |")
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
    made.append(_save(fig, ax, "training TFLOP", out / "solve_vs_flops.png"))
    loop_rows = [r for r in rows if r["variant"] == "loopmdm"]
    if loop_rows:
        fig, ax = plt.subplots(figsize=(5, 3.4))
        for r in loop_rows:
            ks = sorted(r["by_loops"], key=int)
            ax.plot([int(k) for k in ks], [100 * r["by_loops"][k] for k in ks], "o-", label=f"seed {r['seed']}")
        made.append(_save(fig, ax, "loops at inference", out / "solve_vs_loops.png"))
    plt.close("all")
    return made


def _save(fig, ax, xlabel: str, path: Path) -> Path:
    ax.set_xlabel(xlabel)
    ax.set_ylabel("held-out solved (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


__all__ = ["claims", "report", "plots"]
