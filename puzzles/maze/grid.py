"""Grid mazes: the maze, parsing, text form, shortest paths, verification.

Text form (the Maze-Hard convention), one character per cell, rows on lines:
`#` wall, space open, `S` start, `G` goal, `o` a cell on the path. Several mazes
in one text are separated by empty lines (a line of spaces is a maze row).

Conventions used throughout:
- coordinates are (row, col), 0-based in code, 1-based in messages ("row 3, col 5");
- a path's length counts its cells *including* S and G, so S next to G has length 2.
  `shortest_length` and every `min_path` (generator.py) use this count.

Pure NumPy; never imports torch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from puzzles.errors import PuzzleError

WALL_CH, OPEN_CH, START_CH, GOAL_CH, PATH_CH = "#", " ", "S", "G", "o"
_CHARS = {WALL_CH, OPEN_CH, START_CH, GOAL_CH, PATH_CH}

UNREACHABLE = "the goal cannot be reached from the start"

_STEPS = ((-1, 0), (0, 1), (1, 0), (0, -1))  # up, right, down, left

Cell = tuple[int, int]


def cell_name(cell: Cell) -> str:
    """`row 3, col 5` for the 0-based cell (2, 4)."""
    return f"row {cell[0] + 1}, col {cell[1] + 1}"


@dataclass(frozen=True, eq=False)
class Maze:
    """One maze. walls: bool (H, W); start, goal: (row, col); path: bool (H, W) of `o` cells or None.

    The path never needs to include S and G (they are implied), and `to_text`
    draws them as S and G even when it does. Mazes are equal when walls, ends and
    `o` cells match (no path equals an empty one); `source` is not compared.
    """

    walls: np.ndarray
    start: Cell
    goal: Cell
    path: np.ndarray | None = None
    source: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.walls.shape)  # type: ignore[return-value]

    def with_path(self, path: np.ndarray | None) -> Maze:
        """The same maze with another path (None drops it)."""
        return replace(self, path=None if path is None else np.asarray(path, dtype=bool))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Maze):
            return NotImplemented
        mine, theirs = path_mask(self), path_mask(other)
        return (
            self.walls.shape == other.walls.shape
            and bool((self.walls == other.walls).all())
            and tuple(self.start) == tuple(other.start)
            and tuple(self.goal) == tuple(other.goal)
            and bool((mine == theirs).all())
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        h, w = self.shape
        return f"Maze({h}x{w}, start={tuple(self.start)}, goal={tuple(self.goal)}, path={self.path is not None})"


# ---------------------------------------------------------------- the path


def path_mask(maze: Maze) -> np.ndarray:
    """bool (H, W): the `o` cells (all False when the maze has no path)."""
    if maze.path is None:
        return np.zeros(maze.walls.shape, dtype=bool)
    mask = np.asarray(maze.path, dtype=bool).copy()
    mask[maze.start] = mask[maze.goal] = False
    return mask


# ---------------------------------------------------------------- text


def parse(text: str) -> Maze:
    """One maze from its text (rows on lines, trailing `\\r` ignored).

    Raises PuzzleError on empty input, a bad character, ragged rows, or a
    missing or repeated S or G, naming the cell ("row 3, col 5").
    """
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
    while lines and lines[-1] == "":
        lines.pop()  # a final newline
    while lines and lines[0] == "":
        lines.pop(0)
    if not lines or all(ln == "" for ln in lines):
        raise PuzzleError("empty maze")
    return _parse_rows(lines)


def _parse_rows(rows: list[str]) -> Maze:
    width = len(rows[0])
    if width == 0:
        raise PuzzleError("row 1 is empty")
    found: dict[str, Cell] = {}
    for r, row in enumerate(rows):
        if len(row) != width:
            raise PuzzleError(f"row {r + 1} has {len(row)} cells, expected {width}")
        for c, ch in enumerate(row):
            if ch not in _CHARS:
                raise PuzzleError(f"bad character {ch!r} at {cell_name((r, c))} (expected '#', ' ', 'S', 'G' or 'o')")
            if ch in (START_CH, GOAL_CH):
                if ch in found:
                    raise PuzzleError(f"repeated {ch} at {cell_name((r, c))} (first at {cell_name(found[ch])})")
                found[ch] = (r, c)
    for ch, what in ((START_CH, "start"), (GOAL_CH, "goal")):
        if ch not in found:
            raise PuzzleError(f"missing {ch} (the {what})")
    grid = np.array([list(row) for row in rows], dtype="<U1")
    marked = grid == PATH_CH
    return Maze(grid == WALL_CH, found[START_CH], found[GOAL_CH], marked if marked.any() else None)


def read_text(text: str, name: str = "<text>", on_error: Callable[[str], None] | None = None,
              limit: int | None = None) -> list[Maze]:
    """Every maze in `text`; mazes are separated by one or more empty lines (a byte-order mark first and
    CRLF line ends are read as nothing).

    Errors name the file, the maze's number and its first line:
    `mazes.txt: maze 2 (line 14): row 4 has 12 cells, expected 15`. With `on_error`, a bad maze's message
    goes there and the maze is skipped. `limit`: stop after that many mazes.
    """
    mazes: list[Maze] = []
    block: list[str] = []
    first = 0
    blocks = 0
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.removeprefix("\ufeff").split("\n")]
    for n, line in enumerate(lines + [""], start=1):
        if limit is not None and len(mazes) >= limit:
            break
        if line == "":
            if block:
                blocks += 1
                where = f"{name}: maze {blocks} (line {first})"
                try:
                    mazes.append(replace(_parse_rows(block), source=where))
                except PuzzleError as e:
                    if on_error is None:
                        raise PuzzleError(f"{where}: {e}") from None
                    on_error(f"{where}: {e}")
                block = []
            continue
        if not block:
            first = n
        block.append(line)
    if not mazes:
        raise PuzzleError(f"{name}: no mazes found (empty input)")
    return mazes


def read_file(path: str | Path, on_error: Callable[[str], None] | None = None, limit: int | None = None) -> list[Maze]:
    """Mazes from a file (see `read_text`; the size bounds are `puzzles.files'`); `-` reads standard input."""
    from puzzles import files

    if str(path) == "-":
        return read_text(files.read_stdin(), name="<stdin>", on_error=on_error, limit=limit)
    return read_text(files.read_file(path), name=str(path), on_error=on_error, limit=limit)


def to_text(maze: Maze, with_path: bool = True) -> str:
    """Rows joined by `\\n` (no final newline); `o` marks the path when `with_path`."""
    grid = np.where(maze.walls, WALL_CH, OPEN_CH).astype("<U1")
    if with_path:
        grid[path_mask(maze) & ~maze.walls] = PATH_CH
    grid[maze.start] = START_CH
    grid[maze.goal] = GOAL_CH
    return "\n".join("".join(row) for row in grid.tolist())


def write_text(mazes: list[Maze], with_path: bool = True) -> str:
    """Mazes separated by empty lines, with a final newline (what `read_text` reads back)."""
    return "\n\n".join(to_text(m, with_path) for m in mazes) + "\n"


# ---------------------------------------------------------------- shortest paths


def _bfs(open_flat: list[bool], h: int, w: int, src: int) -> list[int]:
    """Distance in steps from `src` to every cell of a flattened grid, -1 where unreachable."""
    dist = [-1] * (h * w)
    dist[src] = 0
    queue = deque([src])
    pop, push = queue.popleft, queue.append
    while queue:
        i = pop()
        d = dist[i] + 1
        r, c = divmod(i, w)
        if r > 0 and open_flat[i - w] and dist[i - w] < 0:
            dist[i - w] = d
            push(i - w)
        if c < w - 1 and open_flat[i + 1] and dist[i + 1] < 0:
            dist[i + 1] = d
            push(i + 1)
        if r < h - 1 and open_flat[i + w] and dist[i + w] < 0:
            dist[i + w] = d
            push(i + w)
        if c > 0 and open_flat[i - 1] and dist[i - 1] < 0:
            dist[i - 1] = d
            push(i - 1)
    return dist


def distances(maze: Maze, source: Cell | None = None) -> np.ndarray:
    """int (H, W): steps from `source` (default the start) to each cell, -1 for walls and unreachable cells."""
    h, w = maze.shape
    src = maze.start if source is None else source
    dist = _bfs((~maze.walls).ravel().tolist(), h, w, src[0] * w + src[1])
    return np.array(dist, dtype=np.int64).reshape(h, w)


def shortest_path(maze: Maze) -> np.ndarray | None:
    """bool (H, W): the `o` cells (S and G excluded) of one shortest path by BFS; None if G is unreachable.

    Ties are broken deterministically (walking back from G, neighbours up, right, down, left).
    """
    h, w = maze.shape
    dist = _bfs((~maze.walls).ravel().tolist(), h, w, maze.goal[0] * w + maze.goal[1])  # from G
    i = maze.start[0] * w + maze.start[1]
    if dist[i] < 0:
        return None
    path = np.zeros(h * w, dtype=bool)
    goal = maze.goal[0] * w + maze.goal[1]
    while i != goal:
        r, c = divmod(i, w)
        for dr, dc in _STEPS:
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w and dist[rr * w + cc] == dist[i] - 1:
                i = rr * w + cc
                break
        path[i] = True
    path[goal] = False
    return path.reshape(h, w)


def shortest_length(maze: Maze) -> int | None:
    """Cells on a shortest path from S to G, both included (S next to G gives 2); None if unreachable."""
    h, w = maze.shape
    dist = _bfs((~maze.walls).ravel().tolist(), h, w, maze.start[0] * w + maze.start[1])
    d = dist[maze.goal[0] * w + maze.goal[1]]
    return None if d < 0 else d + 1


def solve(maze: Maze) -> Maze:
    """The maze with a shortest path marked; PuzzleError when the goal cannot be reached."""
    path = shortest_path(maze)
    if path is None:
        raise PuzzleError(UNREACHABLE)
    return maze.with_path(path)


# ---------------------------------------------------------------- verification


def verify(maze: Maze, path: np.ndarray | None = None) -> str | None:
    """None when the path (default the maze's `o` cells; none is an empty path) is a shortest S-G path; else why.

    The `o` cells together with S and G must form one simple chain of open cells
    (4-neighbour adjacency: S and G each with one chain neighbour, every `o` cell
    with two, all connected) whose length equals the shortest path's.
    """
    path = path_mask(maze) if path is None else np.asarray(path, dtype=bool)
    if path.shape != maze.walls.shape:
        return f"the path has shape {path.shape}, the maze {maze.walls.shape}"
    best = shortest_length(maze)
    if best is None:
        return UNREACHABLE
    chain = path.copy()
    chain[maze.start] = chain[maze.goal] = True
    through = chain & maze.walls
    if through.any():
        return f"the path goes through a wall at {cell_name(tuple(np.argwhere(through)[0]))}"
    padded = np.pad(chain, 1)
    degree = padded[:-2, 1:-1].astype(np.int8) + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]
    inner = chain.copy()
    inner[maze.start] = inner[maze.goal] = False
    for bad, what in ((inner & (degree > 2), "branches"), (inner & (degree < 2), "breaks off")):
        if bad.any():
            return f"the path {what} at {cell_name(tuple(np.argwhere(bad)[0]))}"
    for end, name in ((maze.start, "start"), (maze.goal, "goal")):
        if degree[end] != 1:
            return f"the {name} has {int(degree[end])} path neighbours, expected 1"
    h, w = maze.shape
    reach = np.array(_bfs(chain.ravel().tolist(), h, w, maze.start[0] * w + maze.start[1])).reshape(h, w) >= 0
    stray = chain & ~reach
    if stray.any():
        return f"the path is not connected (stray cell at {cell_name(tuple(np.argwhere(stray)[0]))})"
    n = int(chain.sum())
    if n != best:
        return f"the path has {n} cells, the shortest has {best}"
    return None


def is_solution(maze: Maze, path: np.ndarray | None = None) -> bool:
    return verify(maze, path) is None
