"""One input convention for every `csp solve`: PUZZLE (Sudoku), FILE, `-` for stdin, or nothing with stdin piped;
`--skip-invalid` reports each bad puzzle with its line and solves the rest."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from cli_checks import one_line_error
from typer.testing import CliRunner

from cli.app import app
from puzzles import maze as mz
from puzzles import sudoku as sd
from puzzles.kakuro import grid

ROOT = Path(__file__).resolve().parents[1]
P1 = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
S1 = "417369825632158947958724316825437169791586432346912758289643571573291684164875293"
P2 = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
S2 = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"
MAZES = ROOT / "puzzles" / "data" / "sample.maze"
KAKURO = ROOT / "puzzles" / "data" / "sample.kakuro"
SMALL_KAKURO = "#  4\\ 3\\\n\\4 .  .\n\\3 .  .\n"


def cli(*args, input: str | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


# ---------------------------------------------------------------- PUZZLE | FILE | - | piped stdin


def test_sudoku_takes_a_file_a_dash_or_piped_stdin_as_its_argument(tmp_path):
    f = tmp_path / "two.txt"
    f.write_text(f"{P1}\n{P2}\n")
    for args, stdin in (([f], None), (["-"], f.read_text()), ([], f.read_text()), (["--file", f], None),
                        (["--file", "-"], f.read_text())):
        r = cli("solve", "sudoku", *args, "-s", "cpsat", "--json", input=stdin)
        assert r.exit_code == 0, (args, r.output)
        assert [x["solution"] for x in _records(r.stdout)] == [S1, S2], args
    r = cli("solve", "sudoku", P1, "-s", "cpsat", "--json")  # a PUZZLE is still a puzzle
    assert r.exit_code == 0 and _records(r.stdout)[0]["solution"] == S1


@pytest.mark.parametrize("kind, text, check", [
    ("maze", MAZES.read_text(), lambda out: all(mz.verify(m) is None for m in mz.read_text(out))),
    ("kakuro", KAKURO.read_text(), lambda out: len(grid.read_text(out)) == 3),
])
def test_mazes_and_kakuro_read_piped_stdin_without_an_argument(kind, text, check):
    r = cli("solve", kind, "-s", "cpsat", "--format", "line", input=text)
    assert r.exit_code == 0, r.output
    assert check(r.stdout)


@pytest.mark.parametrize("kind, said", [
    ("sudoku", "error: give a PUZZLE, a FILE of puzzles or - for standard input (or pipe puzzles in)"),
    ("maze", "error: give a FILE of mazes, or - for standard input (or pipe them in)"),
    ("kakuro", "error: give a FILE of Kakuro puzzles, or - for standard input (or pipe them in)"),
])
def test_nothing_to_read_at_a_terminal_is_one_line(kind, said):
    master, slave = pty.openpty()
    try:
        r = subprocess.run([sys.executable, "-m", "cli", "solve", kind], cwd=ROOT, stdin=slave, capture_output=True,
                           text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        os.close(slave)
        os.close(master)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines() == [said] and r.stdout == ""


def test_ambiguous_input_is_refused(tmp_path, monkeypatch):
    f = tmp_path / "p.txt"
    f.write_text(P1 + "\n")
    assert one_line_error(cli("solve", "sudoku", P1, "--file", f)) == (
        "error: give a PUZZLE or FILE, or --file FILE, not both")
    assert one_line_error(cli("solve", "sudoku", f, "--file", f)) == (
        "error: give a PUZZLE or FILE, or --file FILE, not both")
    monkeypatch.chdir(tmp_path)
    (tmp_path / P2).write_text(P1 + "\n")  # a file named like a puzzle
    assert one_line_error(cli("solve", "sudoku", P2)) == (
        f"error: {P2} is both a puzzle and a file's name; give --file {P2} to read the file")
    assert one_line_error(cli("solve", "sudoku", "missing.sdk")) == "error: no such file: missing.sdk"


@pytest.mark.parametrize("kind, path, count", [("maze", MAZES, 1), ("kakuro", KAKURO, 3)])
def test_a_byte_order_mark_and_crlf_in_maze_and_kakuro_files(tmp_path, kind, path, count):
    f = tmp_path / f"p.{kind}"
    f.write_bytes(("\ufeff" + path.read_text().replace("\n", "\r\n")).encode())
    for args, stdin in (([f], None), (["-"], f.read_bytes().decode())):
        r = cli("solve", kind, *args, "-s", "cpsat", "--json", input=stdin)
        assert r.exit_code == 0, r.output
        assert len(_records(r.stdout)) == count


# ---------------------------------------------------------------- --skip-invalid


def test_skip_invalid_reports_each_bad_sudoku_and_solves_the_rest(tmp_path):
    f = tmp_path / "p.txt"
    conflict = "55" + "." * 79
    f.write_text(f"{P1}\n{P1[:-1]}\n\n{P2}\n{conflict}\n")
    r = cli("solve", "sudoku", f, "-s", "cpsat", "--format", "line", "--skip-invalid")
    assert r.exit_code == 1, r.output  # a skipped puzzle is not solved
    assert r.stdout.splitlines() == [S1, S2]
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: skipped {f}:2: a Sudoku has 81 cells, got 80",
                        f"warning: skipped {f}:5: givens conflict: r1c1 and r1c2 are both 5"]
    assert "Traceback" not in r.output


def test_skip_invalid_skips_a_bad_grid_of_nine_lines(tmp_path):
    rows = [P1[k * 9:k * 9 + 9] for k in range(9)]
    bad = rows[:4] + ["12x456789"] + rows[5:]
    f = tmp_path / "p.sdk"
    f.write_text("\n".join(bad) + "\n\n" + "\n".join(rows) + "\n")
    r = cli("solve", "sudoku", f, "-s", "cpsat", "--json", "--skip-invalid")
    assert [x["solution"] for x in _records(r.stdout)] == [S1]
    assert [line for line in r.stderr.splitlines() if not line.startswith("solving")] == [
        f"warning: skipped {f}:5: bad character 'x' in a grid row (expected 1-9 or a blank . 0 _)"]


def test_skip_invalid_for_mazes_and_kakuro(tmp_path):
    good = MAZES.read_text().strip("\n")
    f = tmp_path / "m.maze"
    f.write_text(f"{good}\n\nS x G\n\n{good}\n")
    r = cli("solve", "maze", f, "-s", "cpsat", "--json", "--skip-invalid")
    assert r.exit_code == 1, r.output
    assert [x["solved"] for x in _records(r.stdout)] == [True, True]
    first = good.count("\n") + 3
    assert [line for line in r.stderr.splitlines() if not line.startswith("solving")] == [
        f"warning: skipped {f}: maze 2 (line {first}): bad character 'x' at row 1, col 3 (expected '#', ' ', 'S', 'G' "
        "or 'o')"]
    k = tmp_path / "k.kakuro"
    k.write_text(f"{SMALL_KAKURO}\n#  3\\\n\\3 x\n\n{SMALL_KAKURO}")
    r = cli("solve", "kakuro", k, "--json", "--skip-invalid")
    assert r.exit_code == 1, r.output
    assert [x["solved"] for x in _records(r.stdout)] == [True, True]
    (line,) = [line for line in r.stderr.splitlines() if not line.startswith("solving")]
    assert line.startswith(f"warning: skipped {k}: puzzle 2 (line 5): bad cell 'x' at row 2, col 2")


def test_without_skip_invalid_one_bad_puzzle_stops_before_any_work(tmp_path, monkeypatch):
    from puzzles.sudoku import oracle as sudoku_oracle

    def never(*args, **kwargs):
        raise AssertionError("solved before the input was checked")

    monkeypatch.setattr(sudoku_oracle, "solve_many", never)
    f = tmp_path / "p.txt"
    f.write_text(f"{P1}\n{P1[:-1]}\n{P2}\n")
    assert one_line_error(cli("solve", "sudoku", f, "-s", "cpsat")) == f"error: {f}:2: a Sudoku has 81 cells, got 80"
    m = tmp_path / "m.maze"
    m.write_text(MAZES.read_text() + "\nS x G\n")
    assert "maze 2 (line" in one_line_error(cli("solve", "maze", m, "-s", "cpsat"))


def test_the_sudoku_readers_skip_with_on_error():
    said: list[str] = []
    got = sd.read_text(f"quizzes,solutions\n{P1},{S1}\n{P1[:-1]},\n{P2},{S1}\n{P2},\n", name="k.csv", on_error=said.append)
    assert [sd.to_string(s.givens) for s in got] == [P1, P2]
    assert said[0] == "k.csv:3: a Sudoku has 81 cells, got 80"
    assert said[1].startswith("k.csv:4: the solution field is wrong")


@pytest.mark.parametrize("kind, path, count", [("maze", MAZES, 1), ("kakuro", KAKURO, 3)])
def test_every_kind_takes_file_and_workers(kind, path, count):
    """The options every kind shares are written once: --file and --workers on mazes and Kakuro too."""
    r = cli("solve", kind, "--file", path, "-s", "cpsat", "--json", "-w", "1")
    assert r.exit_code == 0, r.output
    assert len(_records(r.stdout)) == count
    assert one_line_error(cli("solve", kind, path, "--file", path)) == "error: give a FILE or --file FILE, not both"
