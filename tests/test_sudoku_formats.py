"""The Sudoku files people have: 9-line grids (.sdk, .ss, boxed, spaced), CSV with a named puzzle column
(Kaggle's quizzes,solutions), a byte-order mark, CRLF line ends; the one-line and Sudoku-Extreme forms still."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.app import app
from puzzles import sudoku as sd
from puzzles.errors import PuzzleError

P1 = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
S1 = "417369825632158947958724316825437169791586432346912758289643571573291684164875293"
P2 = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
S2 = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"


def rows(p: str) -> list[str]:
    return [p[r * 9:r * 9 + 9] for r in range(9)]


def sdk(p: str) -> str:
    return "\n".join(rows(p))


def ss(p: str, bar: str = "|") -> str:
    """SadMan's Simple Sudoku form: | (or !) between boxes, a line of - between bands."""
    lines = [f"{r[:3]}{bar}{r[3:6]}{bar}{r[6:]}" for r in rows(p)]
    return "\n".join(lines[:3] + ["-----------"] + lines[3:6] + ["-----------"] + lines[6:])


def boxed(p: str) -> str:
    lines = ["*-----------*"]
    for k, r in enumerate(rows(p)):
        lines.append(f"|{r[:3]}|{r[3:6]}|{r[6:]}|")
        if k in (2, 5):
            lines.append("|---+---+---|")
    return "\n".join(lines + ["*-----------*"])


def spaced(p: str) -> str:
    lines = []
    for k, r in enumerate(rows(p)):
        if k in (3, 6):
            lines.append("------+-------+------")
        lines.append(" | ".join(" ".join(r[b:b + 3]) for b in (0, 3, 6)))
    return "\n".join(lines)


def givens(text: str, **kw) -> list[str]:
    return [sd.to_string(s.givens) for s in sd.read_text(text, **kw)]


@pytest.mark.parametrize("form", [sdk, ss, lambda p: ss(p, "!"), boxed, spaced], ids=["sdk", "ss", "ss!", "boxed", "spaced"])
@pytest.mark.parametrize("gap", ["\n\n", "\n"], ids=["blank-line", "none"])
def test_nine_line_grids_one_after_another(form, gap):
    text = form(P1) + gap + form(P2) + "\n"
    assert givens(text, name="g") == [P1, P2]
    first, second = sd.read_text(text, name="g")
    assert first.source == ("g:2" if form is boxed else "g:1")  # the line of its first row


def test_sdk_header_lines_and_a_puzzle_section():
    text = "#ARuud\n#DA random puzzle\n#B03-08-2006\n#LEasy\n#Uhttp://www.sudocue.net/\n[Puzzle]\n" + sdk(P2) + "\n"
    (s,) = sd.read_text(text, name="p.sdk")
    assert sd.to_string(s.givens) == P2 and s.source == "p.sdk:7"


def test_zeros_as_blanks_in_grid_rows():
    assert givens(sdk(P1.replace(".", "0"))) == [P1]


def test_an_unfinished_grid_names_its_line():
    with pytest.raises(PuzzleError, match=r"^g:11: a grid of 4 rows; a Sudoku grid has 9$"):
        sd.read_text(sdk(P1) + "\n\n" + "\n".join(rows(P2)[:4]) + "\n", name="g")
    with pytest.raises(PuzzleError, match=r"^g:4: a grid row has 9 cells, got 10$"):
        sd.read_text("\n".join(rows(P1)[:3] + [rows(P1)[3] + "."] + rows(P1)[4:]), name="g")


@pytest.mark.parametrize("header", ["quizzes,solutions", "puzzle,solution", "question,answer", "id,puzzle,solution,clues",
                                    "Quizzes , Solutions"])
def test_csv_with_a_named_puzzle_column(header):
    names = [h.strip() for h in header.split(",")]
    lines = [header]
    for p, s in ((P1, S1), (P2, S2)):
        values = {"quizzes": p.replace(".", "0"), "puzzle": p, "question": p, "solutions": s, "solution": s, "answer": s,
                  "id": "7", "clues": "25"}
        lines.append(",".join(values[n.lower()] for n in names))
    got = sd.read_text("\n".join(lines) + "\n", name="k.csv")
    assert [sd.to_string(s.givens) for s in got] == [P1, P2]
    assert [sd.to_string(s.solution) for s in got] == [S1, S2]
    assert got[0].source == "k.csv:2"


@pytest.mark.parametrize("header", ["quizzes", "puzzle", "question"])
def test_csv_solutions_are_optional(header):
    (s,) = sd.read_text(f"{header}\n{P1}\n")
    assert sd.to_string(s.givens) == P1 and s.solution is None


def test_sudoku_extreme_csv_and_one_per_line_still_read():
    csv_text = f"source,question,answer,rating\nfirst,{P1},{S1},5\nsecond,{P2},,\n"
    a, b = sd.read_text(csv_text)
    assert a.source == "first" and a.rating == 5 and sd.to_string(a.solution) == S1 and b.solution is None
    assert givens(f"# comment\n{P1} {S1}\n\n{P2}\n") == [P1, P2]


@pytest.mark.parametrize("text", [
    f"{P1}\n{P2}\n",
    sdk(P1) + "\n\n" + sdk(P2) + "\n",
    ss(P1) + "\n" + ss(P2) + "\n",
    f"quizzes,solutions\n{P1},{S1}\n{P2},{S2}\n",
], ids=["lines", "sdk", "ss", "kaggle"])
def test_a_byte_order_mark_and_crlf_line_ends(text):
    assert givens("\ufeff" + text.replace("\n", "\r\n")) == [P1, P2]


def test_cli_reads_these_files_from_a_path_and_stdin(tmp_path):
    runner = CliRunner()
    cases = {
        "p.sdk": "#AAuthor\n" + sdk(P1) + "\n",
        "p.ss": ss(P1) + "\n\n" + ss(P2) + "\n",
        "k.csv": f"quizzes,solutions\n{P1.replace('.', '0')},{S1}\n",
        "bom.txt": "\ufeff" + f"{P1}\r\n{P2}\r\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8"))
        for args, stdin in (([str(path)], None), (["-"], text), ([], text)):
            r = runner.invoke(app, ["solve", "sudoku", *args, "-s", "cpsat", "--json"], input=stdin)
            assert r.exit_code == 0, (name, args, r.output)
            records = [json.loads(line) for line in r.stdout.splitlines()]
            assert [rec["solution"] for rec in records] == [S1, S2][:len(records)] and records, (name, args)
