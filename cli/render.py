"""Puzzles drawn for the terminal as rich Text (the live view restyles chosen cells)."""

from __future__ import annotations

import numpy as np
from rich.text import Text

from puzzles.maze import Cell, Maze, path_mask


def sudoku(puzzle: np.ndarray, filled: np.ndarray | None = None, styles: dict[int, str] | None = None) -> Text:
    """The grid (81 digits, 0 blank) with its 3x3 boxes: givens bold white, `filled` cells cyan;
    `styles` maps a cell index to the style that overrides it."""
    grid = puzzle if filled is None else filled
    styles = styles or {}
    out = Text()
    line = "+-------+-------+-------+\n"
    for r in range(9):
        if r % 3 == 0:
            out.append(line, style="dim")
        for c in range(9):
            if c % 3 == 0:
                out.append("| ", style="dim")
            i = r * 9 + c
            d = int(grid[i])
            out.append(str(d) if d else ".", style=styles.get(i, "bold white" if puzzle[i] else "cyan"))
            out.append(" ")
        out.append("|\n", style="dim")
    out.append(line.rstrip("\n"), style="dim")
    return out


def maze(m: Maze, path: np.ndarray | None = None, styles: dict[Cell, str] | None = None) -> Text:
    """Two characters per cell: walls as blocks, S green, G red, path yellow. `path` (bool (H, W))
    defaults to the maze's own; `styles` maps (row, col) to the style that overrides a cell."""
    mask = path_mask(m) if path is None else np.asarray(path, dtype=bool)
    styles = styles or {}
    out = Text()
    h, w = m.shape
    for r in range(h):
        for c in range(w):
            cell = (r, c)
            if cell == tuple(m.start):
                glyph, style = "S ", "bold black on green"
            elif cell == tuple(m.goal):
                glyph, style = "G ", "bold black on red"
            elif m.walls[r, c]:
                glyph, style = "██", "grey50"
            elif mask[r, c]:
                glyph, style = "░░", "bold yellow"
            else:
                glyph, style = "  ", ""
            if cell in styles:
                style = styles[cell]
                if glyph == "  ":
                    glyph = "··"
            out.append(glyph, style=style)
        if r < h - 1:
            out.append("\n")
    return out
