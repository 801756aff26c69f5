"""`csp solve sudoku` and `csp generate sudoku` through typer's CliRunner."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from cli_checks import one_line_error
from typer.testing import CliRunner

from cli.app import app
from puzzles import sudoku as sd

P1 = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
S1 = "417369825632158947958724316825437169791586432346912758289643571573291684164875293"
P2 = "52...6.........7.13...........4..8..6......5...........418.........3..2...87....."
NO_SOLUTION = "12345678." + "." * 36 + "........9" + "." * 27
EMPTY = "." * 81
SAMPLE = Path(__file__).resolve().parent.parent / "puzzles" / "data" / "sample.sudoku"

runner = CliRunner()
# the kinds, the shipped matched set (by file name), the hybrid, the oracles
SUDOKU_SOLVERS = ("loopmdm", "ar", "ar-solver", "hrm", "trm", "ar-solver@1e13", "ar-solver@1e14", "ar@1e13", "hrm@1e13",
                  "hrm@1e14", "loopmdm@1e13", "loopmdm@1e14", "trm@1e13", "trm@1e14", "hybrid", "cpsat", "constraint")


def run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)




# ---------------------------------------------------------------- solve one puzzle


@pytest.mark.parametrize("solver", ["cpsat", "constraint"])
def test_solve_one_puzzle_renders_the_grid(solver):
    r = run("solve", "sudoku", P1, "--solver", solver)
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert out.count("+-------+-------+-------+") == 4
    assert "| 4 1 7 | 3 6 9 | 8 2 5 |" in out
    assert f"solved (verified) by {solver}" in out


def test_solve_accepts_a_pretty_grid():
    pretty = "\n".join(" ".join(P1[9 * r : 9 * r + 9]) for r in range(9))
    r = run("solve", "sudoku", pretty, "--solver", "cpsat", "--json")
    assert r.exit_code == 0
    rec = json.loads(r.stdout)
    assert rec["solver"] == "cpsat" and rec["solution"] == S1


def test_default_solver_is_the_shipped_loopmdm():
    r = run("solve", "sudoku", P1, "--json", "--steps", "2")
    assert r.exit_code in (0, 1), r.output
    assert json.loads(r.stdout)["solver"] == "loopmdm"


@pytest.mark.parametrize("solver", ["trm", "ar-solver"])
def test_the_new_baselines_solve_from_their_shipped_matched_models(solver):
    r = run("solve", "sudoku", P1, "--json", "--solver", solver, "--steps", "4")
    assert r.exit_code in (0, 1), r.output
    rec = json.loads(r.stdout)
    assert rec["solver"] == solver and rec["solved"] == rec["verified"]


def test_the_shipped_matched_set_has_training_flops_within_ten_percent():
    from csp_diffusion import models
    from csp_diffusion.solver import shipped_checkpoint, shipped_names

    names = shipped_names("sudoku")
    assert {n.partition("@")[0] for n in names} >= {"loopmdm", "ar", "ar-solver", "hrm", "trm"}
    for budget in {n.partition("@")[2] for n in names}:  # each budget's set, every kind within 10% of the others
        flops = {n: models.load(shipped_checkpoint(n, "sudoku"))[1]["info"]["train_flops"]
                 for n in names if n.endswith(f"@{budget}")}
        assert max(flops.values()) / min(flops.values()) <= 1.1, flops


def test_solve_json_fields():
    r = run("solve", "sudoku", P1, "--json", "--solver", "constraint")
    assert r.exit_code == 0
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert {"task", "solver", "puzzle", "solution", "solved", "verified", "seconds"} <= set(rec)
    assert rec["task"] == "sudoku" and rec["solver"] == "constraint"
    assert rec["puzzle"] == P1 and rec["solution"] == S1
    assert rec["solved"] is True and rec["verified"] is True and "error" not in rec
    assert isinstance(rec["seconds"], float)
    assert "+-------" not in r.stdout


@pytest.mark.parametrize(
    "puzzle, error",
    [(NO_SOLUTION, "no solution"), (EMPTY, "more than one solution")],
    ids=["no-solution", "several-solutions"],
)
@pytest.mark.parametrize("solver", ["cpsat", "constraint"])
def test_unsolved_puzzle_exits_1(puzzle, error, solver):
    r = run("solve", "sudoku", puzzle, "--solver", solver)
    assert r.exit_code == 1
    assert f"not solved: {error}" in r.stdout
    r = run("solve", "sudoku", puzzle, "--solver", solver, "--json")
    assert r.exit_code == 1
    rec = json.loads(r.stdout)
    assert rec["solved"] is False and rec["solution"] is None and rec["error"] == error


def test_no_check_unique_accepts_any_solution():
    r = run("solve", "sudoku", "--solver", "cpsat", EMPTY, "--no-check-unique", "--json")
    assert r.exit_code == 0
    rec = json.loads(r.stdout)
    assert rec["solved"] is True and sd.verify(np.zeros(81, np.int8), sd.parse(rec["solution"])) is None


def test_time_limit_exits_1():
    r = run("solve", "sudoku", "--solver", "cpsat", P2, "--time-limit", "0.000001", "--json")
    assert r.exit_code == 1
    assert json.loads(r.stdout)["error"] == "time limit"


# ---------------------------------------------------------------- bad input: one line, exit 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["1234"], "error: a Sudoku has 81 cells, got 4"),
        ([P1[:5] + "x" + P1[6:]], "error: bad character 'x' at position 6 (expected 1-9 or a blank . 0 _)"),
        (["..5...5.." + "." * 72], "error: givens conflict: r1c3 and r1c7 are both 5"),
        ([], "error: <stdin>: no puzzles found"),  # no argument: the piped stdin, empty here
        ([P1, "--file", "x.txt"], "error: give a PUZZLE or FILE, or --file FILE, not both"),
        ([P1, "--solver", "magic"],
         "error: unknown solver 'magic'; choose from " + ", ".join(SUDOKU_SOLVERS)),
        ([P1, "--time-limit", "0"], "error: --time-limit must be positive, got 0"),
        ([P1, "--time-limit", "-2"], "error: --time-limit must be positive, got -2"),
        (["--file", "does/not/exist.txt"], "error: no such file: does/not/exist.txt"),
        (["--file", P1, "--workers", "0"], "error: --workers must be at least 1, got 0"),
    ],
)
def test_bad_input_exits_2(args, message):
    assert one_line_error(run("solve", "sudoku", *args)) == message


def test_bad_file_contents_exit_2(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text(f"{P1}\n{P1[:-1]}\n")
    line = one_line_error(run("solve", "sudoku", "--file", str(f)))
    assert line == f"error: {f}:2: a Sudoku has 81 cells, got 80"
    f.write_text("source,question,answer,rating\na,..5...5.." + "." * 72 + ",,\n")
    assert "givens conflict: r1c3 and r1c7 are both 5" in one_line_error(run("solve", "sudoku", "-f", str(f)))
    one_line_error(run("solve", "sudoku", "--file", str(tmp_path)))  # a folder


# ---------------------------------------------------------------- solve a file


def test_solve_file_summary(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text(f"# three puzzles\n{P1} {S1}\n\n{P2}\n{P1.replace('.', '0')}\n")
    r = run("solve", "sudoku", "--solver", "cpsat", "--file", str(f))
    assert r.exit_code == 0, r.output
    out = r.stdout
    for col in ("puzzles", "solved", "unsolved", "puzzles/s", "median s", "(solved = verified)"):
        assert col in out
    assert _summary_row(out)[:3] == ["3", "3", "0"]
    assert "3/3" in r.stderr  # the progress bar went to stderr


def _summary_row(out: str) -> list[str]:
    row = [ln for ln in out.splitlines() if ln.strip().startswith("│")][-1]
    return [c.strip() for c in row.strip("│ ").split("│")]


def test_an_unverified_answer_is_never_counted_solved(tmp_path, monkeypatch):
    """A solver that returns an answer which fails verification has not solved the puzzle: not in the
    summary's solved column, not in --json, not in the exit code."""
    from puzzles.result import Result
    from puzzles.sudoku import oracle as sudoku_oracle

    wrong = S1[:-2] + S1[-1] + S1[-2]  # two cells swapped: 81 digits, not a solution

    def answers(grids, solver, **_):
        return iter([Result("sudoku", solver, P1, S1, True, 0.01),
                     Result("sudoku", solver, P1, wrong, False, 0.01, "wrong solution: r9c8 and r9c9")])

    monkeypatch.setattr(sudoku_oracle, "solve_many", answers)
    f = tmp_path / "p.txt"
    f.write_text(f"{P1}\n{P1}\n")
    r = run("solve", "sudoku", "--solver", "cpsat", "--file", str(f))
    assert r.exit_code == 1, r.output
    assert _summary_row(r.stdout)[:3] == ["2", "1", "1"]
    assert f"{f}:2: not solved: wrong solution" in r.stdout
    r = run("solve", "sudoku", "--solver", "cpsat", "--file", str(f), "--json")
    assert r.exit_code == 1
    assert [json.loads(ln)["solved"] for ln in r.stdout.splitlines()] == [True, False]


def test_solve_file_json_lines(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text(f"{P1}\n{P2}\n{NO_SOLUTION}\n")
    r = run("solve", "sudoku", "-f", str(f), "--json", "-s", "constraint", "-w", "2")
    assert r.exit_code == 1
    recs = [json.loads(ln) for ln in r.stdout.strip().splitlines()]
    assert [rec["puzzle"] for rec in recs] == [P1, P2, NO_SOLUTION]
    assert [rec["solved"] for rec in recs] == [True, True, False]
    assert recs[2]["error"] == "no solution"
    assert [rec["source"] for rec in recs] == [f"{f}:1", f"{f}:2", f"{f}:3"]
    assert all(rec["solver"] == "constraint" for rec in recs)


def test_solve_file_lists_unsolved(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text(f"{P1}\n{EMPTY}\n")
    r = run("solve", "sudoku", "--solver", "cpsat", "-f", str(f))
    assert r.exit_code == 1
    assert f"{f}:2: not solved: more than one solution" in r.stdout


def test_solve_stdin_and_csv():
    csv_text = f"source,question,answer,rating\nfirst,{P1},{S1},5\nsecond,{P2},,\n"
    r = run("solve", "sudoku", "--solver", "cpsat", "--file", "-", "--json", input=csv_text)
    assert r.exit_code == 0, r.output
    recs = [json.loads(ln) for ln in r.stdout.strip().splitlines()]
    assert [rec["source"] for rec in recs] == ["first", "second"]
    assert recs[0]["solution"] == S1
    r = run("solve", "sudoku", "--solver", "cpsat", "--file", "-", input=f"{P1}\n")
    assert r.exit_code == 0
    one_line_error(run("solve", "sudoku", "--file", "-", input="# nothing here\n"))


def test_solve_bundled_sample():
    r = run("solve", "sudoku", "--solver", "cpsat", "--file", str(SAMPLE), "--json")
    assert r.exit_code == 0, r.output
    recs = [json.loads(ln) for ln in r.stdout.strip().splitlines()]
    assert 2 <= len(recs) <= 3 and all(rec["solved"] for rec in recs)
    for s in sd.read_file(SAMPLE):
        assert sd.count_solutions(s.givens, 2) == 1
        assert sd.difficulty_of(s.givens) == "hard"


# ---------------------------------------------------------------- generate


def test_generate_to_stdout():
    r = run("generate", "sudoku", "-n", "3", "--difficulty", "medium", "--seed", "4")
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 3
    for line in lines:
        puzzle, solution = line.split()
        p, s = sd.parse(puzzle), sd.parse(solution)
        assert sd.verify(p, s) is None and sd.count_solutions(p, 2) == 1
        assert sd.difficulty_of(p) == "medium"
    again = run("generate", "sudoku", "-n", "3", "--difficulty", "medium", "--seed", "4")
    other = run("generate", "sudoku", "-n", "3", "--difficulty", "medium", "--seed", "5")
    assert again.stdout == r.stdout != other.stdout


def test_generate_csv():
    r = run("generate", "sudoku", "-n", "2", "-d", "extreme", "--csv")
    assert r.exit_code == 0
    got = sd.read_text(r.stdout)
    assert len(got) == 2
    assert all(s.source == "generated:extreme" and s.rating > 100 and s.solution is not None for s in got)


def test_generate_to_file_then_solve(tmp_path):
    out = tmp_path / "gen.txt"
    r = run("generate", "sudoku", "-n", "5", "-d", "hard", "--seed", "2", "-o", str(out), "--workers", "2")
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    assert f"wrote 5 hard puzzles to {out}" in r.stderr
    got = sd.read_file(out)
    assert len(got) == 5 and all(s.solution is not None for s in got)
    assert out.read_text() == run("generate", "sudoku", "-n", "5", "-d", "hard", "--seed", "2").stdout
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary new file, not mkstemp's 0600
    r = run("solve", "sudoku", "--solver", "cpsat", "--file", str(out), "--json")
    assert r.exit_code == 0
    recs = [json.loads(ln) for ln in r.stdout.strip().splitlines()]
    assert [rec["solution"] for rec in recs] == [sd.to_string(s.solution) for s in got]


def test_generate_replaces_a_file_atomically(tmp_path):
    out = tmp_path / "gen.txt"
    out.write_text("old contents\n")
    # a bad request leaves the old file as it was
    one_line_error(run("generate", "sudoku", "-n", "2", "-d", "impossible", "-o", str(out)))
    assert out.read_text() == "old contents\n"
    r = run("generate", "sudoku", "-n", "2", "-d", "easy", "-o", str(out))
    assert r.exit_code == 0
    assert len(out.read_text().splitlines()) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gen.txt"]  # no temporary file left behind


@pytest.mark.parametrize(
    "args, message",
    [
        (["-n", "0"], "error: -n must be at least 1, got 0"),
        (["-d", "brutal"], "error: unknown difficulty 'brutal'; choose from easy, medium, hard, extreme, fiendish"),
        (["--seed", "-1"], "error: --seed must be 0 or more, got -1"),
        (["--workers", "0"], "error: --workers must be at least 1, got 0"),
        (["-o", "no/such/folder/x.txt"], "error: cannot write no/such/folder/x.txt: no such folder no/such/folder"),
    ],
)
def test_generate_bad_input_exits_2(args, message):
    assert one_line_error(run("generate", "sudoku", *args)) == message


def test_help():
    for args in (["solve", "sudoku", "--help"], ["generate", "sudoku", "--help"]):
        r = run(*args)
        assert r.exit_code == 0 and "Usage" in r.stdout


@pytest.mark.parametrize("argv", [["solve", "sudoku", "--bogus"], ["solve", "sudoku", "--chains", "x", "1" * 81],
                                  ["bench"]])
def test_usage_errors_are_one_line_from_the_console_entry_point(argv):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "cli", *argv], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "--help" in lines[0], r.stderr
