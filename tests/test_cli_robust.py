"""The CLI under rough handling: stdout that fails, sizes past their bounds, a file name for a puzzle,
options a solver ignores, output off a terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_checks import one_line_error
from typer.testing import CliRunner

from cli.app import app
from puzzles import sudoku as sd

ROOT = Path(__file__).resolve().parents[1]
PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
ROWS = [PUZZLE[r * 9:(r + 1) * 9] for r in range(9)]


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def _csp(*args: str, stdout) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE,
                          text=True, timeout=120)


# ---------------------------------------------------------------- 7: stdout that fails


@pytest.mark.parametrize("args", [("generate", "sudoku", "-n", "3"), ("solve", "sudoku", "-s", "constraint", PUZZLE),
                                  ("solve", "sudoku", "-s", "constraint", "--json", PUZZLE)])
def test_full_stdout_is_one_line(args):
    with open("/dev/full", "w") as full:
        r = _csp(*args, stdout=full)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == ["error: cannot write to stdout: No space left on device"]


def test_closed_stdout_is_one_line():
    r = subprocess.run([sys.executable, "-m", "cli", "generate", "sudoku", "-n", "2"], cwd=ROOT, stdout=None,
                       stderr=subprocess.PIPE, text=True, timeout=120, preexec_fn=lambda: __import__("os").close(1))
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == ["error: cannot write to stdout: it is closed"]


@pytest.mark.parametrize("args", [("generate", "sudoku", "-n", "3"), ("generate", "maze", "-n", "3"),
                                  ("solve", "sudoku", "-s", "constraint", PUZZLE)])
def test_broken_pipe_is_silent(args):
    p = subprocess.Popen([sys.executable, "-m", "cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdout.close()  # the reader has gone before the first line, as `| head -0` leaves it
    err = p.stderr.read().decode()
    p.stderr.close()
    assert p.wait(timeout=120) == 1
    assert err == ""


# ---------------------------------------------------------------- 9: bounds


@pytest.mark.parametrize(("args", "message"), [
    (("generate", "maze", "--size", "100000"), "error: --size must be at most 1001, got 100,000"),
    (("generate", "maze", "-n", "2000000"), "error: -n must be at most 1,000,000, got 2,000,000"),
    (("generate", "sudoku", "-n", "1000001"), "error: -n must be at most 1,000,000, got 1,000,001"),
    (("generate", "sudoku", "-w", "65"), "error: --workers must be at most 64, got 65"),
    (("solve", "sudoku", PUZZLE, "-w", "100"), "error: --workers must be at most 64, got 100"),
    (("solve", "sudoku", PUZZLE, "--loops", "100001"), "error: --loops must be at most 100,000, got 100,001"),
    (("solve", "sudoku", PUZZLE, "--steps", "10001"), "error: --steps must be at most 10,000, got 10,001"),
    (("solve", "sudoku", PUZZLE, "--chains", "1025"), "error: --chains must be at most 1024, got 1025"),
    (("solve", "sudoku", PUZZLE, "-s", "constraint", "--chains", "5000"),
     "error: --chains must be at most 1024, got 5000"),
])
def test_bounds_are_one_line(args, message):
    assert one_line_error(cli(*args)) == message


def test_maze_solve_bounds(tmp_path):
    f = tmp_path / "m.txt"
    assert cli("generate", "maze", "-o", str(f)).exit_code == 0
    assert one_line_error(cli("solve", "maze", str(f), "--loops", "999999")) == (
        "error: --loops must be at most 100,000, got 999,999")


@pytest.mark.parametrize(("spec", "task", "message"), [
    ("gen:hard:2000000", "sudoku", "N must be at most 1,000,000"),
    ("gen:open:10:size=5000", "maze", "a generated maze is at most 1001 wide, got size 5000"),
])
def test_bench_spec_bounds(spec, task, message):
    line = one_line_error(cli("bench", "-p", spec, "--task", task, "--solvers", "cpsat"))
    assert line.endswith(message), line


def test_library_refuses_a_huge_maze():
    from puzzles import maze as mz
    from puzzles.errors import PuzzleError

    with pytest.raises(PuzzleError, match="at most 1001"):
        mz.generate(1, 100_000)


def test_bounds_in_help():
    text = " ".join(cli("generate", "maze", "--help").output.replace("│", " ").split())
    assert "at most 1001" in text and "1,000,000" in text
    assert "1001" in " ".join(cli("solve", "maze", "--help").output.split())
    solve = " ".join(cli("solve", "sudoku", "--help").output.split())
    for bound in ("100,000", "10,000", "1024", "64"):
        assert bound in solve, bound


# ---------------------------------------------------------------- 10: PUZZLE mistaken


@pytest.mark.parametrize("name", ["puzzles.txt", "data/hard", "my.csv", "x.SUDOKU"])
def test_file_name_as_puzzle(name):
    assert one_line_error(cli("solve", "sudoku", name)) == f"error: no such file: {name}"


def test_existing_file_as_puzzle(tmp_path, monkeypatch):
    (tmp_path / "grids").write_text(PUZZLE + "\n")
    monkeypatch.chdir(tmp_path)
    r = cli("solve", "sudoku", "grids", "-s", "constraint")  # an existing file's name is read as the file
    assert r.exit_code == 0, r.output
    assert "grids:1: solved (verified) by constraint" in r.stdout


def _boxed(rows: list[str], blank: str = ".") -> str:
    lines = []
    for r, row in enumerate(rows):
        if r and r % 3 == 0:
            lines.append("------+-------+------")
        cells = [ch if ch != "." else blank for ch in row]
        lines.append(" | ".join(" ".join(cells[b:b + 3]) for b in (0, 3, 6)))
    return "\n".join(lines)


@pytest.mark.parametrize("grid", [
    "\n".join(ROWS),  # 9 lines of 9 cells
    _boxed(ROWS),  # spaced cells, | between boxes, rule lines
    "\n".join(ROWS).replace(".", " "),  # blanks as spaces
    "\n".join(f"{r[:3]}|{r[3:6]}|{r[6:]}" for r in ROWS).replace(".", " "),  # spaces, | between boxes
    "\n".join(f"{r[:3]}|{r[3:6]}|{r[6:]}" for r in ROWS[:3]) + "\n---+---+---\n"
    + "\n".join(f"{r[:3]}|{r[3:6]}|{r[6:]}" for r in ROWS[3:]).replace(".", " "),
])
def test_pasted_grid(grid):
    assert (sd.parse(grid) == sd.parse(PUZZLE)).all()
    r = cli("solve", "sudoku", "-s", "constraint", grid)
    assert r.exit_code == 0, r.output
    assert "solved (verified) by constraint" in r.stdout


def test_too_few_cells_still_says_so():
    assert one_line_error(cli("solve", "sudoku", "53..7\n6..19")) == "error: a Sudoku has 81 cells, got 10"


# ---------------------------------------------------------------- 15: off a terminal


def test_table_off_a_terminal_is_not_cut(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text((PUZZLE + "\n") * 3)
    r = cli("solve", "sudoku", "-s", "constraint", "-f", str(f))
    assert r.exit_code == 0, r.output
    assert "…" not in r.stdout
    header = next(line for line in r.stdout.splitlines() if "puzzles/s" in line)
    assert "median s" in header and "wall s" in header
    title = next(line for line in r.stdout.splitlines() if line.startswith("sudoku"))
    assert title.strip() == "sudoku · constraint (solved = verified)"


def test_plain_progress_throttles(monkeypatch):
    from cli import common

    now = [0.0]
    lines = common.PlainProgress()
    lines._clock = lambda: now[0]
    lines._last = 0.0
    said: list[str] = []
    monkeypatch.setattr(lines, "line", said.append)
    lines.phase("pool")
    for t in range(0, 200, 5):
        now[0] = float(t)
        lines.tick(f"at {t}")
    assert said == ["pool", "at 60", "at 120", "at 180"]


def test_compare_off_a_terminal_prints_phases(tmp_path, monkeypatch):
    import csp_diffusion.study as library

    def fake_run(study, out, on_event):
        on_event({"event": "phase", "what": "generating 5 held-out puzzles"})
        on_event({"event": "variant", "name": "loopmdm", "seed": 0, "budget": 1e6})
        on_event({"event": "phase", "what": "generating the training pool"})
        for k in range(50):
            on_event({"event": "step", "step": k, "loss": 1.0, "progress": k / 50})
        on_event({"event": "phase", "what": "evaluating loopmdm seed 0"})
        on_event({"event": "evaluated", "variant": "loopmdm", "seed": 0, "tier": "easy", "solve_rate": 0.5})
        (out / "report.md").write_text("# report\n")
        return {}

    monkeypatch.setattr(library, "run", fake_run)
    out = tmp_path / "c"
    out.mkdir()
    r = cli("compare", "--seeds", "1", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines() == [
        "generating 5 held-out puzzles",
        "training loopmdm seed 0 at 1e+06 FLOPs (1/105)",  # 7 variants, 5 budgets, 3 tiers
        "loopmdm seed 0 at 1e+06 FLOPs: generating the training pool",
        "evaluating loopmdm seed 0",
        "loopmdm seed 0 easy: 50% solved (1/105)",
    ]


# ---------------------------------------------------------------- 16: ignored options


@pytest.mark.parametrize(("extra", "warning"), [
    (("--chains", "4"), "warning: --chains has no effect with constraint"),
    (("--steps", "4"), "warning: --steps has no effect with constraint"),
    (("--loops", "4"), "warning: --loops has no effect with constraint"),
    (("--show",), "warning: --show has no effect with constraint"),
    (("--decoder", "argmax"), "warning: --decoder has no effect with constraint"),
    (("--no-rules",), "warning: --no-rules has no effect with constraint"),
])
def test_ignored_option_warns(extra, warning):
    r = cli("solve", "sudoku", "-s", "constraint", PUZZLE, *extra)
    assert r.exit_code == 0, r.output
    assert r.stderr.strip().splitlines() == [warning]
    assert "solved (verified)" in r.stdout


def test_ignored_option_warns_for_mazes(tmp_path):
    f = tmp_path / "m.txt"
    assert cli("generate", "maze", "-o", str(f)).exit_code == 0
    r = cli("solve", "maze", str(f), "-s", "cpsat", "--chains", "2")
    assert r.exit_code == 0, r.output
    assert r.stderr.strip().splitlines() == ["warning: --chains has no effect with cpsat"]


def test_chains_default_is_the_kinds_everywhere():
    for command in (("bench",), ("solve", "sudoku"), ("solve", "maze"), ("solve", "kakuro")):
        text = " ".join(cli(*command, "--help").output.replace("│", " ").split())
        assert ("the model kind's own, LoopMDM's sampler the task's (sudoku 64, maze 8, kakuro 32), an AR kind's "
                "sampler 8, else 1" in text), command
        assert "Default: the kind's own, loopmdm sampler, ar argmax, ar-solver argmax, hrm native, trm native" in text
