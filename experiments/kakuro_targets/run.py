"""The Kakuro LoopMDM against the issue's targets, on held-out generated puzzles (never a published one).

Each set is a `gen:` spec of `csp bench` (its puzzles come from the benchmark's seed stream, which the
training pool never draws from), and each row is what this command prints for it:

    csp bench --task kakuro --puzzles SPEC --solvers loopmdm [--no-retract] [--no-rules] [--checkpoints DIR]

run through the same library calls (`csp_diffusion.bench`) so that each row keeps its per-puzzle outcomes
for the paired differences. Rows:

- `8-10`: 1000 puzzles, each side drawn from 8 to 10 (target: at least 99% verified, median under 1 s);
- `16`: 200 of 16x16 and `24`: 50 of 24x24, larger than any training grid (12x12) (target: at least 95%);
- retraction off and the sum rule off, on the first 100 of `8-10` and on `16`, each against the default
  (paired bootstrap intervals over the puzzles);
- the size curve: 50 puzzles of each side 6, 8, 10, 12, 14, 16, 20, 24 and 30 (20 of 30): solve rate and
  seconds a puzzle against the side, drawn in results/kakuro/targets-size-curve.png;
- `human`: the 24 human-made puzzles of experiments/kakuro_human (7x7 to 30x30), read by the model (no target;
  the never-wrong solvers' figures on them are in results/kakuro/human.json).

Sides count the clue row and column. Each row is appended to results/kakuro/targets-rows.jsonl as it
finishes, keyed by its set and settings, so a stopped run resumes where it stopped; `--report` rewrites
results/kakuro/targets.md and the plot from the rows so far.

    python experiments/kakuro_targets/run.py                             # the shipped model, everything
    python experiments/kakuro_targets/run.py --checkpoints DIR --only 8-10   # DIR/kakuro-loopmdm.safetensors
    python experiments/kakuro_targets/run.py --checkpoints DIR --limit 50   # an interim check: 50 of each set
    python experiments/kakuro_targets/run.py --report
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csp_diffusion import bench, models  # noqa: E402
from csp_diffusion.study import difference  # noqa: E402
from puzzles.domains import get_task  # noqa: E402
from puzzles.files import write_text  # noqa: E402

OUT = Path(os.environ.get("KAKURO_TARGETS_OUT", ROOT / "results" / "kakuro"))
SEED = 7  # the benchmark stream's seed of every set here
CURVE = {6: 50, 8: 50, 10: 50, 12: 50, 14: 50, 16: 50, 20: 50, 24: 50, 30: 20}
SETS = {"8-10": f"gen:kakuro:1000:min_size=8:max_size=10:seed={SEED}", "16": f"gen:kakuro:200:size=16:seed={SEED}",
        "24": f"gen:kakuro:50:size=24:seed={SEED}",
        **{f"curve-{side}": f"gen:kakuro:{n}:size={side}:seed={SEED + 1}" for side, n in CURVE.items()},
        "human": "experiments/kakuro_human/puzzles.kakuro"}  # 24 human-made ones, 7x7 to 30x30 (evaluation only)
TARGETS = {"8-10": 0.99, "16": 0.95, "24": 0.95}
ABLATIONS = {"8-10": 100, "16": 200}  # sets (and how many of their puzzles) read with retraction off, rules off
SETTINGS = {"default": {}, "no retraction": {"retract": False}, "no sum rule": {"rules": False}}


def plan(only: set[str] | None, cap: int | None = None) -> list[tuple[str, int | None, str]]:
    """(set, limit, setting) of every row, the targets first; `cap`: at most that many puzzles of each set."""
    rows = [(name, None, "default") for name in ("8-10", "16", "24")]
    rows += [(name, limit, setting) for name, limit in ABLATIONS.items() for setting in ("no retraction", "no sum rule")]
    rows += [(name, limit, "default") for name, limit in ABLATIONS.items() if limit is not None]  # the pairs' base
    rows += [(f"curve-{side}", None, "default") for side in CURVE]
    rows.append(("human", None, "default"))
    if cap is not None:
        rows = [(name, min(limit or cap, cap), setting) for name, limit, setting in rows]
    return [r for r in dict.fromkeys(rows) if only is None or r[0] in only]


def command(name: str, limit: int | None, setting: str, checkpoints: Path | None) -> str:
    flags = {"no retraction": " --no-retract", "no sum rule": " --no-rules"}.get(setting, "")
    return (f"csp bench --task kakuro --puzzles {SETS[name]} --solvers loopmdm{flags}"
            + (f" --limit {limit}" if limit else "") + (f" --checkpoints {checkpoints}" if checkpoints else ""))


def measure(only: set[str] | None, checkpoints: Path | None, cap: int | None = None) -> None:
    path = OUT / "targets-rows.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []
    done = {r["key"] for r in rows}
    task = get_task("kakuro")
    sets: dict[str, bench.PuzzleSet] = {}
    for name, limit, setting in plan(only, cap):
        key = json.dumps([name, limit, setting, str(checkpoints or "shipped")])
        if key in done:
            continue
        if name not in sets:
            t0 = time.perf_counter()
            spec = SETS[name] if SETS[name].startswith("gen:") else str(ROOT / SETS[name])  # a file: from the root
            sets[name] = bench.load(task, spec, cap)
            print(f"{name}: {len(sets[name].puzzles)} puzzles generated in {time.perf_counter() - t0:.0f} s", flush=True)
        pset = sets[name]
        if limit:
            pset = bench.PuzzleSet(task, pset.puzzles[:limit], pset.references[:limit], pset.name)
        sampler = {**models.sampling_defaults("loopmdm", task, None), "retract": True, "rules": True,
                   "time_limit": None, **SETTINGS[setting]}  # as `csp bench` builds it with no options given
        run = bench.run("loopmdm", pset, sampler, None, checkpoints)
        row = bench.summarize(pset, run)
        row.update(key=key, set=name, limit=limit, setting=setting, command=command(name, limit, setting, checkpoints),
                   bits="".join("1" if r.solved else "0" for r in run.results),
                   seconds=[round(r.seconds, 4) for r in run.results])
        with open(path, "a") as f:  # one line a row: a stop loses at most the row under way
            f.write(json.dumps(row) + "\n")
        print(f"{name:9} {setting:14} {row['solved']}/{row['puzzles'] - row['no_solution']} verified, median "
              f"{row['median_seconds']:.2f} s", flush=True)


def _checkpoint(row: dict) -> str:
    return json.loads(row["key"])[3]


def _bits(row: dict) -> np.ndarray:
    return np.array([[c == "1" for c in row["bits"]]])


def report() -> str:
    rows = [json.loads(line) for line in (OUT / "targets-rows.jsonl").read_text().splitlines()]
    lines = ["# Kakuro LoopMDM: the issue's targets", "",
             "Made by `python experiments/kakuro_targets/run.py` (docs/results/kakuro.md); each row is the `csp bench` "
             "command beside it. Solved = verified by the kind's verifier; seconds are each puzzle's own.", "",
             "| set | setting | solved (95% CI) | target | median s | p95 s | checkpoint | command |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        target = TARGETS.get(r["set"]) if r["setting"] == "default" and r["limit"] is None else None
        verdict = "" if target is None else (" hit" if r["solve_rate"] >= target else " **miss**")
        ckpt = _checkpoint(r)
        first = f" (first {r['limit']})" if r["limit"] else ""
        scored = r["puzzles"] - r["no_solution"]
        lines.append(f"| {r['set']}{first} | {r['setting']} | {r['solved']}/{scored} = {100 * r['solve_rate']:.1f}% "
                     f"({100 * r['ci95_low']:.1f}-{100 * r['ci95_high']:.1f}) | "
                     f"{'' if target is None else f'>= {100 * target:.0f}%'}{verdict} | {r['median_seconds']:.2f} "
                     f"| {r['p95_seconds']:.2f} | {ckpt} | `{r['command']}` |")
    for ckpt in dict.fromkeys(_checkpoint(r) for r in rows):  # each model's pairs and curve apart
        mine = [r for r in rows if _checkpoint(r) == ckpt]
        lines += ["", f"Paired differences, {ckpt} (default - ablation, 95% bootstrap over the same puzzles):", ""]
        for off in (r for r in mine if r["setting"] != "default"):
            base = [r for r in mine if r["set"] == off["set"] and r["limit"] == off["limit"] and r["setting"] == "default"]
            if base:
                est, lo, hi = difference(_bits(base[0]), _bits(off))
                lines.append(f"- {off['set']} (first {off['limit']}), {off['setting']}: {100 * est:+.1f} points "
                             f"[{100 * lo:+.1f}, {100 * hi:+.1f}]")
        curve = sorted(((int(r["set"].split("-")[1]), r) for r in mine if r["set"].startswith("curve-")),
                       key=lambda sr: sr[0])
        if curve:
            lines += ["", f"Size curve, {ckpt} (default settings):", "", "| side | solved | median s |", "|---|---|---|"]
            lines += [f"| {side} | {r['solved']}/{r['puzzles'] - r['no_solution']} | {r['median_seconds']:.2f} |"
                      for side, r in curve]
            name = "targets-size-curve" + ("" if ckpt == "shipped" else "-" + Path(ckpt).name)
            plot(curve, OUT / f"{name}.png")
    return "\n".join(lines) + "\n"


def plot(curve: list[tuple[int, dict]], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    sides = [s for s, _ in curve]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    rate = [100 * r["solve_rate"] for _, r in curve]
    a.errorbar(sides, rate, yerr=[[100 * (r["solve_rate"] - r["ci95_low"]) for _, r in curve],
                                  [100 * (r["ci95_high"] - r["solve_rate"]) for _, r in curve]], marker="o", capsize=3)
    a.axvline(12, ls=":", c="gray")
    a.set(xlabel="side (clue row and column included)", ylabel="verified (%)", ylim=(0, 102),
          title="solved; dotted: the largest training side")
    b.plot(sides, [r["median_seconds"] for _, r in curve], marker="o", label="median")
    b.plot(sides, [r["p95_seconds"] for _, r in curve], marker=".", ls="--", label="95th percentile")
    b.set(xlabel="side", ylabel="seconds a puzzle", yscale="log", title="time")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoints", type=Path, default=None,
                    help="a folder holding kakuro-loopmdm.safetensors (default: the shipped model)")
    ap.add_argument("--only", default=None, help=f"comma-separated sets, of {', '.join(SETS)}")
    ap.add_argument("--limit", type=int, default=None, help="at most N puzzles of each set (an interim check)")
    ap.add_argument("--report", action="store_true", help="only rewrite targets.md and the plot from the rows so far")
    args = ap.parse_args()
    only = None if args.only is None else set(args.only.split(","))
    if only and only - set(SETS):
        ap.error(f"unknown set(s) {', '.join(sorted(only - set(SETS)))}; choose from {', '.join(SETS)}")
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.report:
        measure(only, args.checkpoints, args.limit)
    write_text(OUT / "targets.md", report())
    print(f"wrote {OUT / 'targets.md'}")


if __name__ == "__main__":
    main()
