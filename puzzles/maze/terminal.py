"""Mazes on the command line (`puzzles.contract.Terminal`): the maze drawn two characters a cell, the live view's
frames, a result's path length, and `csp generate maze`'s size, kind and shares. Pure Python and NumPy: drawings
are (text, style) pieces that cli/ turns into rich Text."""

from __future__ import annotations

import numpy as np

from puzzles import maze
from puzzles.contract import Drawing, Generator, Option, Terminal


def picture(m: maze.Maze, path: np.ndarray | None = None, styles: dict[maze.Cell, str] | None = None) -> Drawing:
    """Two characters per cell: walls as blocks, S green, G red, path yellow. `path` (bool (H, W)) defaults to the
    maze's own; `styles` maps (row, col) to the style that overrides a cell."""
    mask = maze.path_mask(m) if path is None else np.asarray(path, dtype=bool)
    styles = styles or {}
    out: Drawing = []
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
            out.append((glyph, style))
        if r < h - 1:
            out.append(("\n", ""))
    return out


def draw(m: maze.Maze, answer: str | None) -> Drawing:
    """The maze with an answer's path (none: the maze alone)."""
    return picture(maze.parse(answer) if answer else m.with_path(None))


def live(m: maze.Maze, values: np.ndarray, committed: np.ndarray, retracted: np.ndarray) -> Drawing:
    """One step of the sampler: its path, the path cells it just committed on green, those it retracted on red."""
    from puzzles.maze.task import MazeTask

    h, w = m.shape
    on = np.asarray(values).reshape(-1) == MazeTask.ON

    def cells(flags) -> list[tuple[int, int]]:
        return [divmod(int(i), w) for i in np.flatnonzero(flags)]

    styles = {c: "on green" for c in cells(np.asarray(committed) & on)}
    styles.update({c: "on red" for c in cells(retracted)})
    return picture(m, on.reshape(h, w), styles)


def read(path: str, on_error, limit: int | None) -> list[tuple[maze.Maze, str]]:
    return [(m, m.source) for m in maze.read_file(path, on_error=on_error, limit=limit)]


def facts(m: maze.Maze, answer: str) -> dict:
    """The path's length in cells, S and G included (what the exact oracle's results carry)."""
    return {"path_length": int(maze.path_mask(maze.parse(answer)).sum()) + 2}


def _make(n: int, seed: int, workers: int, options: dict) -> list[maze.Maze]:
    made = maze.generate(n, options["size"], kind=options["kind"], min_path=options["min_path"], seed=seed,
                         algorithm=options["algorithm"], share=options["share"])
    return [maze.solve(m) for m in made] if options["with_path"] else made


def _write(made: list, options: dict) -> str:
    return maze.write_text(made, with_path=options["with_path"])


GENERATOR = Generator(
    help="""Generate mazes, written as text separated by empty lines.

Kinds: perfect (one route between any two cells), open (a perfect maze with 5% of its walls knocked out),
walls (every cell a wall at random, no border: the Maze-Hard construction), rooms (open rectangles carved
into a perfect maze), borderless (an open maze whose border is cut off).

Examples:

csp generate maze --size 21 --with-path
csp generate maze -n 100 --size 31 --kind rooms --seed 7 -o rooms.txt""",
    make=_make,
    write=_write,
    options=(
        Option("size", ("--size",), 11, f"Maze side in characters (odd sizes fill best; at most {maze.MAX_SIZE}).",
               least=5, most=maze.MAX_SIZE),
        Option("kind", ("--kind",), "perfect", f"Maze kind: {', '.join(maze.KINDS)}, or {maze.MIXED} (all five in "
               "equal shares, in turn)."),
        Option("min_path", ("--min-path",), None, "Least shortest-path length, in cells with S and G.", int, least=2),
        Option("algorithm", ("--algorithm",), "backtracker", f"Perfect mazes: {', '.join(maze.ALGORITHMS)}."),
        Option("share", ("--share",), None, "walls: the share of cells that are walls (default: drawn per maze from "
               "0.3-0.5); rooms: the share of the inside in open rooms (default: from 0.2-1.0).", float, 0.0, 1.0),
        Option("with_path", ("--with-path",), False, "Mark a shortest path with o."),
    ),
    made="maze",
)

TERMINAL = Terminal(
    help=f"""Find a shortest path from S to G in each maze, each answer written as it settles; exit 1 if any maze is
left unsolved (or was skipped), 2 on bad input, 130 on Ctrl-C.

The exact solver (cpsat) takes a maze of any size that fits in memory (a BFS path guides it; its time
limit bounds the search); the neural models take any size too, their memory growing with the cells.
`csp generate maze` makes mazes up to {maze.MAX_SIZE} x {maze.MAX_SIZE}.

Examples:

csp solve maze puzzles/data/sample.maze
csp generate maze -n 20 --size 31 | csp solve maze --solver cpsat --json""",
    read=read,
    file_help="Maze file (mazes separated by empty lines), or - for stdin; nothing: the piped standard input.",
    items="mazes",
    item="maze",
    unique=False,  # shortest paths need not be unique: any one is the answer
    draw=draw,
    live=live,
    legend=(("path", "bold yellow"), ("  ", ""), ("just committed", "bold green"), ("  ", ""), ("retracted", "bold red")),
    facts=facts,
    fact="path {path_length} cells",
    unsolved="unsolved",
    title="maze results · {solver} (solved = verified)",
    bench="gen:open:1000:size=30:min_path=110:seed=1",
    generator=GENERATOR,
)
