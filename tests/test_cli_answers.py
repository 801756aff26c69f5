"""`csp solve` writes each answer as it settles, in --format line|grid|json|csv, to stdout or -o FILE; Ctrl-C keeps
the answers written and says how far it got (exit 130)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_checks import one_line_error
from typer.testing import CliRunner

from cli.app import app
from puzzles import maze as mz
from puzzles import sudoku as sd
from puzzles.kakuro import grid
from puzzles.result import Result

ROOT = Path(__file__).resolve().parents[1]
P1 = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
S1 = "417369825632158947958724316825437169791586432346912758289643571573291684164875293"
P2 = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
S2 = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"
NO_SOLUTION = "12345678." + "." * 36 + "........9" + "." * 27
HARD = ".....5.8....6.1.43..........1.5........1.6...3.......553.....61........4........."  # minutes for constraint


def cli(*args, input: str | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def _file(tmp_path: Path, puzzles: list[str]) -> Path:
    f = tmp_path / "p.txt"
    f.write_text("".join(p + "\n" for p in puzzles))
    return f


# ---------------------------------------------------------------- formats


def test_more_than_five_puzzles_are_written_a_line_each(tmp_path):
    f = _file(tmp_path, [P1, P2, P1, NO_SOLUTION, P2, P1])
    r = cli("solve", "sudoku", f, "-s", "cpsat")
    assert r.exit_code == 1, r.output
    assert r.stdout.splitlines() == [S1, S2, S1, NO_SOLUTION, S2, S1]  # unsolved: as given
    assert "sudoku · cpsat (solved = verified)" in r.stderr and f"{f}:4: not solved: no solution" in r.stderr


def test_five_or_fewer_are_drawn_with_each_ones_status_and_the_summary(tmp_path):
    f = _file(tmp_path, [P1, P2])
    r = cli("solve", "sudoku", f, "-s", "cpsat")
    assert r.exit_code == 0, r.output
    assert f"{f}:1: solved (verified) by cpsat in " in r.stdout and f"{f}:2: solved (verified)" in r.stdout
    assert r.stdout.count("+-------+-------+-------+") == 8 and "(solved = verified)" in r.stdout
    r = cli("solve", "sudoku", f, "-s", "cpsat", "--format", "line")
    assert r.stdout.splitlines() == [S1, S2]


def test_csv_answers(tmp_path):
    r = cli("solve", "sudoku", _file(tmp_path, [P1, NO_SOLUTION]), "-s", "cpsat", "--format", "csv")
    assert r.exit_code == 1, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0]) == ["puzzle", "solution", "solved", "seconds"]
    assert [(x["puzzle"], x["solution"], x["solved"]) for x in rows] == [(P1, S1, "true"), (NO_SOLUTION, "", "false")]
    assert all(float(x["seconds"]) > 0 for x in rows)
    r = cli("solve", "sudoku", P1, "-s", "cpsat", "--format", "csv")  # one puzzle too
    assert r.stdout.splitlines()[1].startswith(f"{P1},{S1},true,")


def test_json_is_format_json(tmp_path):
    f = _file(tmp_path, [P1, P2])
    a = cli("solve", "sudoku", f, "-s", "cpsat", "--json")
    b = cli("solve", "sudoku", f, "-s", "cpsat", "--format", "json")
    strip = [{k: v for k, v in json.loads(line).items() if k not in ("seconds", "branches", "conflicts")}
             for line in a.stdout.splitlines()]
    assert strip == [{k: v for k, v in json.loads(line).items() if k not in ("seconds", "branches", "conflicts")}
                     for line in b.stdout.splitlines()]
    assert [x["source"] for x in strip] == [f"{f}:1", f"{f}:2"]
    assert one_line_error(cli("solve", "sudoku", f, "--json", "--format", "csv")) == (
        "error: --json is --format json; give --json or --format csv, not both")
    assert one_line_error(cli("solve", "maze", "--format", "table", input="S G\n")) == (
        "error: unknown format 'table'; choose from line, grid, json, csv")


def test_output_file_holds_the_answers_and_stdout_the_summary(tmp_path):
    f = _file(tmp_path, [P1, P2])
    out = tmp_path / "answers.txt"
    r = cli("solve", "sudoku", f, "-s", "cpsat", "-o", out)
    assert r.exit_code == 0, r.output
    assert out.read_text().splitlines() == [S1, S2]
    assert "(solved = verified)" in r.stdout and S1 not in r.stdout
    assert f"wrote 2 answers to {out}" in r.stderr
    r = cli("solve", "sudoku", f, "-s", "cpsat", "-o", out, "--format", "csv")
    assert out.read_text().splitlines()[0] == "puzzle,solution,solved,seconds"
    assert "is a folder" in one_line_error(cli("solve", "sudoku", f, "-o", tmp_path))  # checked before any work


def test_maze_and_kakuro_answers_as_lines_read_back(tmp_path):
    mazes = mz.generate(6, 9, seed=3)
    f = tmp_path / "m.maze"
    f.write_text(mz.write_text(mazes, with_path=False))
    r = cli("solve", "maze", f, "-s", "cpsat")  # six: their text, a line each
    assert r.exit_code == 0, r.output
    solved = mz.read_text(r.stdout)
    assert len(solved) == 6 and all(mz.verify(m) is None for m in solved)
    assert "maze results" in r.stderr
    k = ROOT / "puzzles" / "data" / "sample.kakuro"
    out = tmp_path / "answers.kakuro"
    r = cli("solve", "kakuro", k, "-o", out)
    assert r.exit_code == 0, r.output
    answers = grid.read_file(out)
    assert all(grid.verify(p, a.digits) is None for p, a in zip(grid.read_file(k), answers))
    r = cli("solve", "kakuro", k, "--format", "csv")
    assert [x["solved"] for x in csv.DictReader(io.StringIO(r.stdout))] == ["true"] * 3


# ---------------------------------------------------------------- as each settles; Ctrl-C


def _results(puzzles, solutions):
    return [Result("sudoku", "cpsat", p, s, True, 0.01) for p, s in zip(puzzles, solutions)]


def test_exact_answers_are_written_as_each_settles(tmp_path, monkeypatch):
    from puzzles.sudoku import oracle as sudoku_oracle

    seen: list[str] = []

    def one_by_one(grids, solver, **kwargs):
        assert kwargs.get("chunk") == 1  # the pool sends each puzzle alone: each result comes as soon as it can
        for r in _results([P1, P2, P1], [S1, S2, S1]):
            yield r
            seen.append(sys.stdout.buffer.getvalue().decode())  # what was written before the next was asked for

    monkeypatch.setattr(sudoku_oracle, "solve_many", one_by_one)
    r = cli("solve", "sudoku", _file(tmp_path, [P1, P2, P1]), "-s", "cpsat", "--format", "line")
    assert r.exit_code == 0, r.output
    assert [s.splitlines() for s in seen] == [[S1], [S1, S2]]  # (nothing asks for a 4th)


def test_neural_answers_are_written_as_each_settles(tmp_path, monkeypatch):
    import cli.solve as command  # every kind's `csp solve KIND`

    seen: list[str] = []

    class Fake:
        name, config = "fake", type("C", (), {"chains": 1})

        def solve_screened(self, grids, unique):
            for r in _results([P1, P2], [S1, S2]):
                yield r
                seen.append(sys.stdout.buffer.getvalue().decode())

        def describe(self, shape):
            return "fake model"

    monkeypatch.setattr(command, "pick_solver", lambda name, task: ("fake", True))
    monkeypatch.setattr(command, "neural_solver", lambda *a, **k: Fake())
    r = cli("solve", "sudoku", _file(tmp_path, [P1, P2]), "--json")
    assert r.exit_code == 0, r.output
    assert [len(s.splitlines()) for s in seen] == [1]  # the first written before the second was asked for


def test_ctrl_c_keeps_the_answers_written_and_says_how_far(tmp_path, monkeypatch):
    from puzzles.sudoku import oracle as sudoku_oracle

    def interrupted(grids, solver, **kwargs):
        yield from _results([P1, P2], [S1, S2])
        raise KeyboardInterrupt

    monkeypatch.setattr(sudoku_oracle, "solve_many", interrupted)
    f = _file(tmp_path, [P1, P2, P1, P2, P1, P2])
    r = cli("solve", "sudoku", f, "-s", "cpsat")
    assert r.exit_code == 130 and "Traceback" not in r.output
    assert r.stdout.splitlines() == [S1, S2]
    assert r.stderr.splitlines()[-1] == "error: interrupted after 2 of 6"  # under the progress bar's last state
    out = tmp_path / "a.txt"
    r = cli("solve", "sudoku", f, "-s", "cpsat", "-o", out)
    assert r.exit_code == 130 and r.stdout == ""
    assert r.stderr.splitlines()[-1] == f"error: interrupted after 2 of 6; the 2 answers so far are in {out}"
    assert out.read_text().splitlines() == [S1, S2]


def test_ctrl_c_before_any_answer_leaves_an_old_output_file(tmp_path, monkeypatch):
    from puzzles.sudoku import oracle as sudoku_oracle

    def at_once(grids, solver, **kwargs):
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(sudoku_oracle, "solve_many", at_once)
    out = tmp_path / "a.txt"
    out.write_text("old\n")
    r = cli("solve", "sudoku", _file(tmp_path, [P1, P2]), "-s", "cpsat", "-o", out)
    assert r.exit_code == 130 and out.read_text() == "old\n"
    assert r.stderr.splitlines()[-1] == "error: interrupted after 0 of 2"


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_in_a_real_run(tmp_path, workers):
    f = _file(tmp_path, [P1, HARD, HARD, HARD])
    p = subprocess.Popen([sys.executable, "-m", "cli", "solve", "sudoku", str(f), "-s", "constraint", "-t", "600",
                          "-w", workers, "--format", "line"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        first = p.stdout.readline()  # P1's answer, while the hard ones are still at work
        assert first.strip() == S1
        time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 130, err
    assert out == ""  # nothing after the interruption
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "error: interrupted after 1 of 4"


def test_sudoku_line_answers_read_back(tmp_path):
    r = cli("solve", "sudoku", _file(tmp_path, [P1, P2]), "-s", "cpsat", "--format", "line")
    assert [sd.to_string(s.givens) for s in sd.read_text(r.stdout)] == [S1, S2]
