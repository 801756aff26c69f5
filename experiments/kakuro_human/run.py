"""Human-made Kakuros through the real CLI: does `csp solve kakuro FILE --solver cpsat --json` verify every answer?

    python experiments/kakuro_human/run.py [FILE ...] [--out results/kakuro/human.json]

(from any folder: the script finds the repository itself). FILE defaults to experiments/kakuro_human/puzzles.kakuro,
the published puzzles listed in SOURCES.md beside this script. For each file it runs the command above as a
subprocess (`python -m cli`, the entry point `csp` also calls, with this interpreter) and checks what it wrote:
exactly one JSON object per puzzle of the file, in order, each naming its puzzle; every `solved` one `verified`
and its `solution` text accepted again by puzzles.kakuro.grid's verifier here; an unsolved one saying why (no
solution, more than one solution, time limit). Writes OUT (per puzzle: file, index, size, white cells, status,
seconds as the CLI measured them; per size: counts and times) in one atomic write, then prints a summary table.
Exit 0 when every check holds (unsolved puzzles are reported, not failures), 1 when one does not.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from puzzles.files import write_text  # noqa: E402
from puzzles.kakuro import grid  # noqa: E402

DEFAULT_FILE = Path(__file__).with_name("puzzles.kakuro")
DEFAULT_OUT = ROOT / "results" / "kakuro" / "human.json"
CLI_ARGS = ["solve", "kakuro", "{file}", "--solver", "cpsat", "--json"]


def run_cli(path: Path) -> tuple[int, list[str], str]:
    """(exit code, stdout lines, stderr) of `csp solve kakuro PATH --solver cpsat --json`."""
    args = [a.format(file=path) for a in CLI_ARGS]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    return done.returncode, done.stdout.splitlines(), done.stderr


def check_file(path: Path) -> tuple[list[dict], list[str], int]:
    """(a row per puzzle, the problems found, the CLI's exit code) for one file."""
    puzzles = grid.read_file(path)
    code, lines, stderr = run_cli(path)
    problems = []
    if code not in (0, 1):  # 0: all solved, 1: some not; anything else is a failure of the command itself
        problems.append(f"{path}: the CLI exited {code}: {stderr.strip()[-500:]}")
    records = []
    for n, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            problems.append(f"{path}: stdout line {n} is not one JSON object: {line[:80]!r}")
    if len(records) != len(puzzles):
        problems.append(f"{path}: {len(records)} JSON objects for {len(puzzles)} puzzles")
    rows = []
    for i, (k, rec) in enumerate(zip(puzzles, records), 1):
        where = f"{path}: puzzle {i}"
        if not str(rec.get("source", "")).startswith(f"{path}: puzzle {i} ") or \
                grid.parse(rec.get("puzzle") or "#", checked=False) != k:
            problems.append(f"{where}: the JSON object {i} is not this puzzle ({rec.get('source')})")
        recheck = None
        if rec.get("solved"):
            if not rec.get("verified"):
                problems.append(f"{where}: solved but not verified")
            recheck = grid.verify(k, grid.parse(rec["solution"], checked=False).digits)
            if recheck is not None:
                problems.append(f"{where}: the answer fails the verifier here: {recheck}")
        elif not rec.get("error"):
            problems.append(f"{where}: unsolved without a reason")
        h, w = k.shape
        rows.append({"file": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path), "index": i,
                     "size": f"{h}x{w}", "white_cells": int(k.white.sum()),
                     "status": "solved" if rec.get("solved") else rec.get("error"),
                     "verified": bool(rec.get("solved") and rec.get("verified") and recheck is None),
                     "seconds": rec.get("seconds"), "branches": rec.get("branches"),
                     "conflicts": rec.get("conflicts")})
    return rows, problems, code


def by_size(rows: list[dict]) -> list[dict]:
    """One summary row per size, smallest area first."""
    groups = defaultdict(list)
    for r in rows:
        groups[r["size"]].append(r)

    def area(size: str) -> tuple[int, int]:
        h, w = map(int, size.split("x"))
        return h * w, h

    out = []
    for size in sorted(groups, key=area):
        g = groups[size]
        secs = [r["seconds"] for r in g if r["seconds"] is not None]
        out.append({"size": size, "puzzles": len(g), "solved": sum(r["status"] == "solved" for r in g),
                    "verified": sum(r["verified"] for r in g),
                    "unsolved": {s: sum(r["status"] == s for r in g) for s in sorted({r["status"] for r in g} - {"solved"})},
                    "median_seconds": round(statistics.median(secs), 4) if secs else None,
                    "max_seconds": round(max(secs), 4) if secs else None})
    return out


def table(summary: list[dict], rows: list[dict]) -> str:
    head = ("size", "puzzles", "solved", "verified", "not solved", "median s", "max s")
    lines = [[s["size"], str(s["puzzles"]), str(s["solved"]), str(s["verified"]),
              ", ".join(f"{n} {why}" for why, n in s["unsolved"].items()) or "-",
              f"{s['median_seconds']:.3f}", f"{s['max_seconds']:.3f}"] for s in summary]
    secs = [r["seconds"] for r in rows if r["seconds"] is not None]
    lines.append(["all", str(len(rows)), str(sum(r["status"] == "solved" for r in rows)),
                  str(sum(r["verified"] for r in rows)), str(sum(r["status"] != "solved" for r in rows) or "-"),
                  f"{statistics.median(secs):.3f}" if secs else "-", f"{max(secs):.3f}" if secs else "-"])
    widths = [max(len(x) for x in col) for col in zip(head, *lines)]
    fmt = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    return "\n".join([fmt(head), fmt(["-" * w for w in widths]), *map(fmt, lines)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, default=[DEFAULT_FILE])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    rows, problems, codes, one_each = [], [], {}, True
    for path in args.files:
        path = path.resolve()
        r, p, code = check_file(path)
        one_each &= len(r) == len(grid.read_file(path)) and not any("JSON object" in x for x in p)
        rows += r
        problems += p
        codes[str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)] = code
    summary = by_size(rows)
    result = {
        "command": "csp " + " ".join(CLI_ARGS).replace("{file}", "FILE"),
        "files": list(codes), "exit_codes": codes,
        "checks": {"one_json_object_per_puzzle": one_each,
                   "every_solved_answer_verified": all(r["verified"] for r in rows if r["status"] == "solved"),
                   "problems": problems},
        "by_size": summary, "puzzles": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_text(args.out, json.dumps(result, indent=1) + "\n")
    print(table(summary, rows))
    unsolved = [r for r in rows if r["status"] != "solved"]
    for r in unsolved:
        print(f"not solved: {r['file']} puzzle {r['index']} ({r['size']}): {r['status']}")
    for p in problems:
        print(f"PROBLEM: {p}")
    print(f"wrote {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
