"""cli.render: the kinds' drawings (puzzles/<kind>/terminal.py: (text, style) pieces) as rich Text: Sudoku grids
and mazes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cli import render
from puzzles import maze as mz
from puzzles import sudoku as sd
from puzzles.maze import terminal as maze_drawing
from puzzles.sudoku import terminal as sudoku_drawing

P1 = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
S1 = "417369825632158947958724316825437169791586432346912758289643571573291684164875293"
SAMPLE_MAZE = Path(__file__).resolve().parents[1] / "puzzles" / "data" / "sample.maze"


def test_sudoku_boxes_and_styles():
    p, s = sd.parse(P1), sd.parse(S1)
    text = render.text(sudoku_drawing.grid(p, s))
    plain = text.plain
    lines = plain.splitlines()
    assert len(lines) == 13
    assert lines[0] == lines[4] == lines[8] == lines[12] == "+-------+-------+-------+"
    assert lines[1] == "| 4 1 7 | 3 6 9 | 8 2 5 |"
    assert np.array_equal(sd.parse(plain), s)  # a rendered grid parses back
    assert np.array_equal(sd.parse(render.text(sudoku_drawing.grid(p)).plain), p)

    def style_at(row: int, col: int) -> str:
        pos = sum(len(ln) + 1 for ln in lines[: 1 + row + row // 3]) + 2 + 2 * col + 2 * (col // 3)
        styles = [str(sp.style) for sp in text.spans if sp.start <= pos < sp.end]
        return styles[-1]

    assert plain[sum(len(ln) + 1 for ln in lines[:1]) + 2] == "4"
    assert style_at(0, 0) == "bold white"  # a given
    assert style_at(0, 1) == "cyan"  # filled in
    marked = render.text(sudoku_drawing.grid(p, s, styles={1: "red"}))
    assert any(str(sp.style) == "red" for sp in marked.spans)


def test_maze_two_characters_a_cell_and_styles():
    m = mz.solve(mz.read_file(SAMPLE_MAZE)[0])
    text = render.text(maze_drawing.picture(m, styles={(1, 1): "bold magenta"}))
    plain = text.plain.splitlines()
    assert len(plain) == m.shape[0] and all(len(line) == 2 * m.shape[1] for line in plain)
    assert "S" in text.plain and "G" in text.plain and "░" in text.plain
    assert any(span.style == "bold magenta" for span in text.spans)
    assert "░" not in render.text(maze_drawing.picture(m, np.zeros(m.shape, bool))).plain  # a path given replaces its own


def test_puzzles_keep_no_rendering():
    assert not hasattr(sd, "render") and not hasattr(mz, "render")
