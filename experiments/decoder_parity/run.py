"""The crossed table: every shipped matched-set model read out by every decoder, the rules on and off.

Kinds: the shipped matched set (Sudoku `KIND@1e13`, mazes `KIND@2e13`), each trained to the same
training FLOPs. Decoders (csp_diffusion/decoders.py): argmax (one call), native (the kind's paper's:
an MDM's margin-ordered unmasking, HRM's and TRM's segments; AR: greedy), sampler (this project's;
AR: sampled chains), each with the puzzle's rules on and off where the decoder can use them, and the
sampler's retraction on and off. Every iterative decoder gets the same model calls (--calls, 32 by
default); an AR kind's sampled chains get about the sampler rows' forward FLOPs per puzzle.

Sets: Sudoku easy, medium (500 each, generated from the benchmark stream, seed 11) and hard (the
architecture study's 500 held-out puzzles); mazes: the study's 500 open 15x15 mazes.

Each row is appended to results/decoder_parity/rows.jsonl as it finishes, with its per-puzzle
results, so a stopped run resumes where it stopped; `--report` writes results/decoder_parity/table.md
(paired bootstrap intervals on the differences the docs cite).

    python experiments/decoder_parity/run.py            # everything (hours of CPU), resumable
    python experiments/decoder_parity/run.py --limit 200 --core   # what docs/results/decoder-parity.md reports
    python experiments/decoder_parity/run.py --report
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from csp_diffusion import bench
from csp_diffusion.study import difference
from puzzles.domains import get_task
from puzzles.files import write_text
from puzzles.seeds import stream

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__import__("os").environ.get("DECODER_PARITY_OUT", ROOT / "results" / "decoder_parity"))
SETS = {"easy": ("sudoku", "gen:easy:500:seed=11"), "medium": ("sudoku", "gen:medium:500:seed=11"),
        "hard": ("sudoku", "study"), "maze": ("maze", "study")}
BUDGET = {"sudoku": "1e13", "maze": "2e13"}
KINDS = ("loopmdm", "hrm", "ar", "ar-solver", "trm")  # TRM last: its segment costs 7 of HRM's


def puzzle_set(name: str, limit: int | None) -> bench.PuzzleSet:
    task_name, source = SETS[name]
    task = get_task(task_name)
    if source != "study":
        return bench.load(task, source, limit)
    if task_name == "sudoku":
        saved = np.load(ROOT / "results" / "first-study" / "sudoku" / "eval-puzzles.npz")
        puzzles, solutions = saved["puzzles"][:limit].astype(np.int64), saved["solutions"][:limit].astype(np.int64)
        return bench.PuzzleSet(task, list(puzzles), list(solutions), "the study's hard set")
    mazes, _ = task.generate("open", 500, {"size": 15}, stream("held-out", 777))  # the study's set (study_set)
    mazes = mazes[:limit]
    return bench.PuzzleSet(task, mazes, [task.reference(m, "study maze") for m in mazes], "the study's open 15x15 set")


def rows_for(kind: str, calls: int, ar_chains: int, core: bool = False) -> list[dict]:
    """The decodings one kind is read with (sampler settings). `core`: LoopMDM's rows all, the others' without
    the retraction ablation and the AR kinds' sampled chains (a few CPU hours fewer)."""
    on_off = (True, False)
    if kind in ("ar", "ar-solver"):
        sampled = [] if core else [{"decoder": "sampler", "rules": True, "chains": ar_chains}]
        return [{"decoder": "argmax", "rules": r} for r in on_off] + sampled
    rows = [{"decoder": "argmax", "rules": True}]
    rows += [{"decoder": "native", "rules": r, "max_steps": calls} for r in (on_off if kind == "loopmdm" else (True,))]
    retract = on_off if kind == "loopmdm" or not core else (True,)
    rows += [{"decoder": "sampler", "rules": r, "retract": t, "max_steps": calls, "chains": 1, "spare_after": 0,
              "patience": 5, "warm_loops": 0} for r in on_off for t in retract]
    return rows


def key(set_name: str, solver: str, cfg: dict, n: int) -> str:
    return json.dumps({"set": set_name, "solver": solver, "n": n, **cfg}, sort_keys=True)


def measure(sets: list[str], limit: int | None, calls: int, ar_chains: int, core: bool) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "rows.jsonl"
    done = {json.loads(line)["key"] for line in path.read_text().splitlines()} if path.is_file() else set()
    psets = {name: puzzle_set(name, limit) for name in sets}
    for kind in KINDS:  # kind by kind across the sets: the rows the docs lean on most land first
        for set_name, pset in psets.items():
            solver = f"{kind}@{BUDGET[pset.task.name]}"
            for cfg in rows_for(kind, calls, ar_chains, core):
                k = key(set_name, solver, cfg, len(pset.puzzles))
                if k in done:
                    continue
                t0 = time.perf_counter()
                run = bench.run(solver, pset, {"time_limit": 0.0, **cfg}, 0.0)
                row = bench.summarize(pset, run)
                row.update(key=k, set=set_name, config=cfg, bits="".join("1" if r.solved else "0" for r in run.results),
                           calls=float(np.mean([r.extra.get("passes", 0) for r in run.results])))
                with open(path, "a") as f:  # one line per row: a stopped run loses at most the row under way
                    f.write(json.dumps(row) + "\n")
                print(f"{set_name:6} {solver:16} {json.dumps(cfg):90} {100 * row['solve_rate']:5.1f}% "
                      f"{row['flops_per_puzzle'] / 1e9:7.2f} GFLOP {time.perf_counter() - t0:6.0f}s", flush=True)


def _label(cfg: dict) -> str:
    text = cfg["decoder"]
    if cfg["decoder"] == "sampler" and "chains" in cfg and cfg["chains"] > 1:
        text += f" ({cfg['chains']} chains)"
    if cfg.get("retract") is False:
        text += ", no retraction"
    return text + ("" if cfg["rules"] else ", rules off")


def report() -> str:
    rows = [json.loads(line) for line in (OUT / "rows.jsonl").read_text().splitlines()]
    lines = ["# Decoder parity: the shipped matched set, every decoder, the rules on and off", "",
             "Made by `python experiments/decoder_parity/run.py` (docs/results/decoder-parity.md). Solved = "
             "verified; calls = mean model calls per puzzle (all chains); GFLOP = forward FLOPs per puzzle.", ""]
    for set_name in dict.fromkeys(r["set"] for r in rows):
        mine = [r for r in rows if r["set"] == set_name]
        lines += [f"## {set_name} ({mine[0]['puzzles']} puzzles: {mine[0]['puzzles_from']})", "",
                  "| model | decoding | solved (95% CI) | cells | calls | GFLOP |", "|---|---|---|---|---|---|"]
        for r in mine:
            cells = "-" if r["cell_accuracy"] is None else f"{100 * r['cell_accuracy']:.1f}%"
            lines.append(f"| {r['solver']} | {_label(r['config'])} | {100 * r['solve_rate']:.1f}% "
                         f"({100 * r['ci95_low']:.0f}-{100 * r['ci95_high']:.0f}) | {cells} | {r['calls']:.1f} "
                         f"| {r['flops_per_puzzle'] / 1e9:.2f} |")
        lines += ["", "Paired differences (95% bootstrap over puzzles):", ""]
        for a, b, what in _pairs(mine):
            est, lo, hi = difference(_m(a), _m(b))
            lines.append(f"- {what}: {100 * est:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}] points")
        lines.append("")
    return "\n".join(lines)


def summary() -> str:
    """One compact table: each model's solve rate per tier (easy / medium / hard, then mazes) under each
    decoding, the rules on unless a column says off."""
    rows = [json.loads(line) for line in (OUT / "rows.jsonl").read_text().splitlines()]
    columns = (("argmax", {"decoder": "argmax", "rules": True}), ("native", {"decoder": "native", "rules": True}),
               ("sampler", {"decoder": "sampler", "rules": True, "retract": True}),
               ("sampler, rules off", {"decoder": "sampler", "rules": False, "retract": True}))
    sets = list(dict.fromkeys(r["set"] for r in rows))
    lines = [f"| model | {' | '.join(name for name, _ in columns)} |", "|---" * (len(columns) + 1) + "|"]
    for task, budget in (("sudoku", "1e13"), ("maze", "2e13")):
        mine = [s_ for s_ in sets if SETS[s_][0] == task]
        for kind in KINDS:
            cells = []
            for _, cfg in columns:
                got = []
                for set_name in mine:
                    hit = [r for r in rows if r["set"] == set_name and r["solver"] == f"{kind}@{budget}"
                           and all(r["config"].get(k, v) == v for k, v in cfg.items())]
                    got.append(f"{100 * hit[0]['solve_rate']:.1f}" if hit else "·")
                cells.append(" / ".join(got))
            if any(c.strip("· /") for c in cells):
                lines.append(f"| {kind}@{budget} ({' / '.join(mine)}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _m(row: dict) -> np.ndarray:
    return np.array([[c == "1" for c in row["bits"]]])


def _pairs(rows: list[dict]):
    """(row a, row b, what a - b measures): the rule check, retraction under each rule setting, and each
    architecture against LoopMDM under one decoder."""
    def find(solver_kind, **cfg):
        for r in rows:
            if r["solver"].partition("@")[0] == solver_kind and all(r["config"].get(k, v) == v for k, v in cfg.items()):
                return r
        return None

    for kind in ("loopmdm", "hrm", "trm"):
        on = find(kind, decoder="sampler", rules=True, retract=True)
        off = find(kind, decoder="sampler", rules=False, retract=True)
        if on and off:
            yield on, off, f"{kind}, sampler: rules on - off"
        for rules in (True, False):
            a = find(kind, decoder="sampler", rules=rules, retract=True)
            b = find(kind, decoder="sampler", rules=rules, retract=False)
            if a and b:
                yield a, b, f"{kind}, sampler, rules {'on' if rules else 'off'}: retraction on - off"
    for decoder, rules in (("argmax", True), ("sampler", True), ("sampler", False)):
        loop = find("loopmdm", decoder=decoder, rules=rules, retract=True)
        for rival in ("hrm", "trm"):
            other = find(rival, decoder=decoder, rules=rules, retract=True)
            if loop and other:
                yield loop, other, f"loopmdm - {rival}, both {decoder}, rules {'on' if rules else 'off'}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated, of " + ", ".join(SETS))
    ap.add_argument("--limit", type=int, default=None, help="the first N puzzles of each set")
    ap.add_argument("--calls", type=int, default=32, help="model calls of every iterative decoder")
    ap.add_argument("--ar-chains", type=int, default=4, help="an AR kind's sampled chains")
    ap.add_argument("--core", action="store_true", help="skip the baselines' retraction ablation and sampled AR chains")
    ap.add_argument("--report", action="store_true", help="only write table.md from the rows so far")
    args = ap.parse_args()
    sets = [s for s in args.sets.split(",") if s]
    if not sets or any(s not in SETS for s in sets):
        ap.error(f"--sets takes a comma-separated list of {', '.join(SETS)}")
    if args.report and not (OUT / "rows.jsonl").is_file():
        ap.error(f"no rows to report yet: {OUT / 'rows.jsonl'} does not exist")
    if not args.report:
        measure(sets, args.limit, args.calls, args.ar_chains, args.core)
    write_text(OUT / "table.md", report())
    write_text(OUT / "summary.md", summary() + "\n")
    print(f"wrote {OUT / 'table.md'} and summary.md")


if __name__ == "__main__":
    main()
