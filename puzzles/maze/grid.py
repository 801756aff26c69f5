"""Grid mazes: parsing, text form, generation, shortest paths, verification, symmetries.

Text form (the Maze-Hard convention), one character per cell, rows on lines:
`#` wall, space open, `S` start, `G` goal, `o` a cell on the path. Several mazes
in one text are separated by empty lines (a line of spaces is a maze row).

Conventions used throughout:
- coordinates are (row, col), 0-based in code, 1-based in messages ("row 3, col 5");
- a path's length counts its cells *including* S and G, so S next to G has length 2.
  `shortest_length` and every `min_path` use this count;
- generated mazes of `size` N are N x N characters. Perfect mazes put their cells on
  odd coordinates inside a wall border; for even N the extra last row and column are wall.

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

# token values of `tokens(maze)` for neural models
OPEN, WALL, START, GOAL = 0, 1, 2, 3

KINDS = ("perfect", "open", "walls", "rooms", "borderless")
MIXED = "mixed"  # a generated set of every kind in equal shares, in turn (not a kind of its own)
UNREACHABLE = "the goal cannot be reached from the start"
ALGORITHMS = ("backtracker", "wilson")

MAX_SIZE = 1001  # the largest generated maze side: memory and time grow with the cells (a million here)

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


# ---------------------------------------------------------------- token views


def tokens(maze: Maze) -> np.ndarray:
    """int8 (H, W): OPEN 0, WALL 1, START 2, GOAL 3 (the path is not drawn; see `path_mask`)."""
    t = maze.walls.astype(np.int8)  # OPEN = 0, WALL = 1
    t[maze.start] = START
    t[maze.goal] = GOAL
    return t


def path_mask(maze: Maze) -> np.ndarray:
    """bool (H, W): the `o` cells (all False when the maze has no path)."""
    if maze.path is None:
        return np.zeros(maze.walls.shape, dtype=bool)
    mask = np.asarray(maze.path, dtype=bool).copy()
    mask[maze.start] = mask[maze.goal] = False
    return mask


def from_tokens(grid: np.ndarray, path: np.ndarray | None = None) -> Maze:
    """Inverse of `tokens`: a Maze from an int (H, W) token grid with one START and one GOAL."""
    grid = np.asarray(grid)
    if grid.ndim != 2 or grid.size == 0:
        raise PuzzleError(f"a token grid must be 2-D and non-empty, got shape {grid.shape}")
    bad = ~np.isin(grid, (OPEN, WALL, START, GOAL))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise PuzzleError(f"bad token {int(grid[r, c])} at {cell_name((r, c))}")
    ends = []
    for tok, name in ((START, "start"), (GOAL, "goal")):
        where = np.argwhere(grid == tok)
        if len(where) != 1:
            raise PuzzleError(f"a token grid needs exactly one {name}, got {len(where)}")
        ends.append((int(where[0][0]), int(where[0][1])))
    return Maze(grid == WALL, ends[0], ends[1], None if path is None else np.asarray(path, dtype=bool))


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


# ---------------------------------------------------------------- generation


class _Draws:
    """Uniform floats from `rng` in blocks (one Generator call per 4096 draws, reproducible)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.buf: list[float] = []

    def below(self, n: int) -> int:
        if not self.buf:
            self.buf = self.rng.random(4096).tolist()
        return min(int(self.buf.pop() * n), n - 1)


def _cells(h: int, w: int) -> tuple[int, int]:
    """Perfect-maze cells per column and row of an h x w character grid."""
    if h < 3 or w < 3:
        raise PuzzleError(f"a maze needs at least 3 x 3 characters, got {h} x {w}")
    ch, cw = (h - 1) // 2, (w - 1) // 2
    if ch * cw < 2:
        raise PuzzleError(f"a {h} x {w} maze has room for only one cell; use at least 3 x 5")
    return ch, cw


def _carve(h: int, w: int, rng: np.random.Generator, algorithm: str) -> np.ndarray:
    """bool (h, w) walls of a perfect maze: cells at odd coordinates, one tree of passages."""
    ch, cw = _cells(h, w)
    walls = np.ones((h, w), dtype=bool)
    walls[1 : 2 * ch : 2, 1 : 2 * cw : 2] = False
    draw = _Draws(rng)
    seen = [False] * (ch * cw)

    def unseen_neighbours(i: int) -> list[int]:
        r, c = divmod(i, cw)
        out = []
        if r > 0 and not seen[i - cw]:
            out.append(i - cw)
        if c < cw - 1 and not seen[i + 1]:
            out.append(i + 1)
        if r < ch - 1 and not seen[i + cw]:
            out.append(i + cw)
        if c > 0 and not seen[i - 1]:
            out.append(i - 1)
        return out

    def link(a: int, b: int) -> None:
        (ra, ca), (rb, cb) = divmod(a, cw), divmod(b, cw)
        walls[ra + rb + 1, ca + cb + 1] = False  # the wall between two cells

    if algorithm == "backtracker":
        start = draw.below(ch * cw)
        seen[start] = True
        stack = [start]
        while stack:
            nbrs = unseen_neighbours(stack[-1])
            if not nbrs:
                stack.pop()
                continue
            nxt = nbrs[draw.below(len(nbrs))]
            link(stack[-1], nxt)
            seen[nxt] = True
            stack.append(nxt)
    elif algorithm == "wilson":
        seen[draw.below(ch * cw)] = True  # `seen` = in the tree
        order = rng.permutation(ch * cw).tolist()
        for first in order:
            if seen[first]:
                continue
            nxt: dict[int, int] = {}
            i = first
            while not seen[i]:  # loop-erased random walk: keep the last exit from each cell
                r, c = divmod(i, cw)
                moves = ((i - cw, r > 0), (i + 1, c < cw - 1), (i + cw, r < ch - 1), (i - 1, c > 0))
                opts = [j for j, ok in moves if ok]
                nxt[i] = opts[draw.below(len(opts))]
                i = nxt[i]
            i = first
            while not seen[i]:
                seen[i] = True
                link(i, nxt[i])
                i = nxt[i]
    else:
        raise PuzzleError(f"unknown maze algorithm {algorithm!r}; choose from {', '.join(ALGORITHMS)}")
    return walls


def _farthest(open_flat: list[bool], h: int, w: int, src: int, draw: _Draws) -> tuple[int, int]:
    """A random cell among those farthest from `src`, and its distance in steps."""
    dist = _bfs(open_flat, h, w, src)
    far = max(dist)
    ties = [i for i, d in enumerate(dist) if d == far]
    return ties[draw.below(len(ties))], far


def _place(walls: np.ndarray, rng: np.random.Generator, sweeps: int, min_path: int | None) -> Maze | None:
    """S at a random open cell, G at a farthest cell from it; when that path is shorter than
    `min_path`, up to `sweeps` more sweeps (S := G, G := farthest from it) lengthen it.
    None when `min_path` is still not reached."""
    h, w = walls.shape
    open_flat = (~walls).ravel().tolist()
    draw = _Draws(rng)
    cells = [i for i, ok in enumerate(open_flat) if ok]
    s = cells[draw.below(len(cells))]
    g, d = _farthest(open_flat, h, w, s, draw)
    for _ in range(sweeps):
        if min_path is None or d + 1 >= min_path:
            break
        s, (g, d) = g, _farthest(open_flat, h, w, g, draw)
    if d == 0 or (min_path is not None and d + 1 < min_path):
        return None
    return Maze(walls, divmod(s, w), divmod(g, w))


def _check_min_path(h: int, w: int, min_path: int | None) -> None:
    if min_path is not None and min_path > h * w:
        raise PuzzleError(f"--min-path {min_path} is more than the {h} x {w} = {h * w} cells of the maze")


def perfect(
    h: int,
    w: int,
    rng: np.random.Generator,
    algorithm: str = "backtracker",
    min_path: int | None = None,
    max_tries: int = 1000,
) -> Maze:
    """A perfect maze (exactly one route between any two cells) of h x w characters.

    Cells sit on odd coordinates inside a wall border; an even h (w) leaves its last
    row (column) all wall. S is a random cell and G a cell farthest from it (so every
    maze is as hard as its layout allows); with `min_path` (cells, S and G included)
    new mazes are drawn until the path is that long. algorithm: "backtracker"
    (long winding corridors) or "wilson" (uniform spanning tree, shorter dead ends).
    """
    _cells(h, w)
    _check_min_path(h, w, min_path)
    for _ in range(max_tries):
        maze = _place(_carve(h, w, rng, algorithm), rng, sweeps=0, min_path=min_path)
        if maze is not None:
            return maze
    raise PuzzleError(f"no {h} x {w} perfect maze with a path of {min_path}+ cells in {max_tries} tries")


def open_maze(
    size: int,
    rng: np.random.Generator,
    knock: float = 0.05,
    min_path: int | None = None,
    max_tries: int = 1000,
) -> Maze:
    """A maze with loops and scattered walls, in the spirit of Maze-Hard, size x size characters.

    Built from a backtracker perfect maze with a fraction `knock` of its inner wall
    cells removed at random, so there are many routes and open patches. S is a random
    open cell and G a farthest cell from it; when the path is shorter than `min_path`
    (cells, S and G included), one more BFS sweep (S := G, G := farthest from it)
    lengthens it, and failing that a new maze is drawn. With the default `knock` about
    60% of 30 x 30 mazes reach 110 cells, so `min_path=110` costs few redraws.
    """
    _cells(size, size)
    _check_min_path(size, size, min_path)
    if not 0.0 <= knock <= 1.0:
        raise PuzzleError(f"knock must be between 0 and 1, got {knock}")
    for _ in range(max_tries):
        walls = _carve(size, size, rng, "backtracker")
        inner = np.zeros_like(walls)
        inner[1:-1, 1:-1] = True
        walls &= ~(inner & (rng.random(walls.shape) < knock))
        maze = _place(walls, rng, sweeps=1, min_path=min_path)
        if maze is not None:
            return maze
    raise PuzzleError(f"no {size} x {size} open maze with a path of {min_path}+ cells in {max_tries} tries")


def _bfs_array(open_grid: np.ndarray, src: int) -> np.ndarray:
    """`_bfs` compiled, on a bool (h, w) grid: int32 distances from `src`, -1 where unreachable (the walls
    generator runs thousands per maze)."""
    from numba import njit

    global _bfs_compiled
    if _bfs_compiled is None:
        @njit(cache=True)
        def bfs(open_flat, h, w, src):
            dist = np.full(h * w, -1, np.int32)
            queue = np.empty(h * w, np.int32)
            dist[src], queue[0] = 0, src
            head, tail = 0, 1
            while head < tail:
                i = queue[head]
                head += 1
                r, c = i // w, i % w
                for j, ok in ((i - w, r > 0), (i + 1, c < w - 1), (i + w, r < h - 1), (i - 1, c > 0)):
                    if ok and open_flat[j] and dist[j] < 0:
                        dist[j] = dist[i] + 1
                        queue[tail] = j
                        tail += 1
            return dist

        _bfs_compiled = bfs
    h, w = open_grid.shape
    return _bfs_compiled(np.ascontiguousarray(open_grid.ravel()), h, w, src)


_bfs_compiled = None


def _place_random(walls: np.ndarray, rng: np.random.Generator, min_path: int | None, tries: int = 20) -> Maze | None:
    """S at a random open cell and G at a random cell reachable from it, at least `min_path` cells along
    the shortest path (S and G included; None: any other reachable cell), so that among the mazes that
    meet `min_path` the ends are uniform; up to `tries` starts. None when no start has such a goal."""
    w = walls.shape[1]
    cells = np.flatnonzero(~walls.ravel())
    if len(cells) < 2:
        return None
    for _ in range(tries):
        s = int(cells[rng.integers(len(cells))])
        dist = _bfs_array(~walls, s)
        far = np.flatnonzero(dist + 1 >= (min_path or 2))
        if len(far):
            return Maze(walls, divmod(s, w), divmod(int(far[rng.integers(len(far))]), w))
    return None


def walls_maze(size: int, rng: np.random.Generator, density: float | None = None, min_path: int | None = None,
               max_tries: int = 10_000) -> Maze:
    """The Searchformer / Maze-Hard construction: every cell of a size x size grid is a wall with
    probability `density` (default: drawn per maze from 30-50%), no border, S and G at random open
    cells; redrawn until G is reachable with a shortest path of at least `min_path` cells."""
    if size < 2:
        raise PuzzleError(f"a walls maze needs a side of at least 2, got {size}")
    _check_min_path(size, size, min_path)
    if density is not None and not 0.0 <= density < 1.0:
        raise PuzzleError(f"the wall density must be in [0, 1), got {density}")
    for _ in range(max_tries):
        d = rng.uniform(0.3, 0.5) if density is None else density
        maze = _place_random(rng.random((size, size)) < d, rng, min_path)
        if maze is not None:
            return maze
    raise PuzzleError(f"no {size} x {size} walls maze with a path of {min_path}+ cells in {max_tries} tries")


def rooms_maze(size: int, rng: np.random.Generator, open_share: float | None = None, min_path: int | None = None,
               max_tries: int = 1000) -> Maze:
    """A perfect maze with rectangular rooms carved into it: open rectangles (3 cells to half the side
    across) are added at random until they cover `open_share` of the inside (default: drawn per maze
    from 20-100%; 100% is one empty room inside the border). The corridors that reach a room are its
    doors. S is a random open cell and G a farthest one from it, as in `open_maze`."""
    _cells(size, size)
    _check_min_path(size, size, min_path)
    if open_share is not None and not 0.0 <= open_share <= 1.0:
        raise PuzzleError(f"the rooms' open share must be between 0 and 1, got {open_share}")
    inside = (size - 2) ** 2
    for _ in range(max_tries):
        target = rng.uniform(0.2, 1.0) if open_share is None else open_share
        walls = _carve(size, size, rng, "backtracker")
        room = np.zeros_like(walls)
        if target >= 1.0:
            room[1:-1, 1:-1] = True
        biggest = max(3, (size - 2) // 2)
        while room.sum() < target * inside:
            h, w = (int(rng.integers(3, biggest + 1)) for _ in range(2))
            r, c = int(rng.integers(1, max(2, size - h))), int(rng.integers(1, max(2, size - w)))
            room[r:min(r + h, size - 1), c:min(c + w, size - 1)] = True
        maze = _place(walls & ~room, rng, sweeps=1, min_path=min_path)
        if maze is not None:
            return maze
    raise PuzzleError(f"no {size} x {size} rooms maze with a path of {min_path}+ cells in {max_tries} tries")


def borderless_maze(size: int, rng: np.random.Generator, min_path: int | None = None, max_tries: int = 1000) -> Maze:
    """An `open_maze` with no border: one two cells larger, its outer ring cut off, so open cells reach
    the grid's edge (S and G too: a random open cell and a farthest one from it)."""
    _cells(size + 2, size + 2)
    _check_min_path(size, size, min_path)
    for _ in range(max_tries):
        bigger = open_maze(size + 2, rng)
        maze = _place(np.ascontiguousarray(bigger.walls[1:-1, 1:-1]), rng, sweeps=1, min_path=min_path)
        if maze is not None:
            return maze
    raise PuzzleError(f"no {size} x {size} borderless maze with a path of {min_path}+ cells in {max_tries} tries")


def generate(
    n: int,
    size: int,
    kind: str = "perfect",
    min_path: int | None = None,
    seed: int = 0,
    algorithm: str = "backtracker",
    share: float | None = None,
) -> list[Maze]:
    """`n` unsolved size x size mazes of `kind` (KINDS, or MIXED: maze i of kind KINDS[i % 5]), reproducible from
    `seed`; `share` is the wall density of a `walls` maze or the open share of a `rooms` maze (None: drawn per
    maze)."""
    if kind not in (*KINDS, MIXED):
        raise PuzzleError(f"unknown maze kind {kind!r}; choose from {', '.join((*KINDS, MIXED))}")
    if algorithm not in ALGORITHMS:
        raise PuzzleError(f"unknown maze algorithm {algorithm!r}; choose from {', '.join(ALGORITHMS)}")
    if n < 0:
        raise PuzzleError(f"the number of mazes must be >= 0, got {n}")
    if size > MAX_SIZE:
        raise PuzzleError(f"a generated maze is at most {MAX_SIZE} wide, got size {size}")
    if share is not None and kind not in ("walls", "rooms"):
        raise PuzzleError(f"--share is for walls mazes (wall density) and rooms mazes (open share), not {kind}")
    rng = np.random.default_rng(seed)
    if kind == MIXED:
        return [_one(KINDS[i % len(KINDS)], size, rng, algorithm, min_path) for i in range(n)]
    return [_one(kind, size, rng, algorithm, min_path, share) for _ in range(n)]


def _one(kind: str, size: int, rng: np.random.Generator, algorithm: str, min_path: int | None,
         share: float | None = None) -> Maze:
    if kind == "perfect":
        return perfect(size, size, rng, algorithm, min_path)
    if kind == "walls":
        return walls_maze(size, rng, share, min_path)
    if kind == "rooms":
        return rooms_maze(size, rng, share, min_path)
    if kind == "borderless":
        return borderless_maze(size, rng, min_path)
    return open_maze(size, rng, min_path=min_path)


# ---------------------------------------------------------------- symmetries


def _apply(a: np.ndarray, k: int) -> np.ndarray:
    """Symmetry k of a 2-D array: transpose when k >= 4, then rotate k % 4 quarter turns."""
    if k >= 4:
        a = a.T
    return np.ascontiguousarray(np.rot90(a, k % 4))


def inverse(k: int) -> int:
    """The symmetry undoing symmetry k (the four reflections undo themselves)."""
    if not 0 <= k < 8:
        raise PuzzleError(f"a dihedral symmetry is 0..7, got {k}")
    return k if k >= 4 else (4 - k) % 4


def _apply_cell(cell: Cell, shape: tuple[int, int], k: int) -> Cell:
    h, w = shape
    moved = _apply(np.arange(h * w).reshape(h, w), k)
    r, c = np.argwhere(moved == cell[0] * w + cell[1])[0]
    return int(r), int(c)


def dihedral(maze: Maze, k: int) -> Maze:
    """The maze under symmetry k of the square (0 = identity, 1-3 rotations, 4-7 reflections)."""
    inverse(k)  # validates k
    return Maze(
        _apply(maze.walls, k),
        _apply_cell(maze.start, maze.shape, k),
        _apply_cell(maze.goal, maze.shape, k),
        None if maze.path is None else _apply(np.asarray(maze.path, dtype=bool), k),
        maze.source,
    )


def frames(shape: tuple[int, int]) -> np.ndarray:
    """int64 (F, H*W): the symmetries that keep a grid's shape as cell permutations, identity first: all 8
    on a square (row k is symmetry k, so `grid.reshape(-1)[frames(shape)[k]]` is `dihedral`'s grid k),
    otherwise 0, 2, 5 and 7 (the identity, the half turn and the two reflections along the axes). Each
    row lists, for each cell of the moved grid, the cell of the original grid it holds."""
    cells = np.arange(shape[0] * shape[1]).reshape(shape)
    moved = [_apply(cells, k) for k in range(8)]
    return np.stack([m.reshape(-1) for m in moved if m.shape == tuple(shape)]).astype(np.int64)


def random_dihedral(maze: Maze, rng: np.random.Generator) -> tuple[Maze, int]:
    """The maze under a random symmetry, and its k (undo it with `dihedral(m, inverse(k))`)."""
    k = int(rng.integers(8))
    return dihedral(maze, k), k


__all__ = [
    "ALGORITHMS", "GOAL", "KINDS", "MIXED", "Maze", "OPEN", "START", "WALL", "cell_name", "dihedral", "distances",
    "frames", "from_tokens", "generate", "inverse", "is_solution", "open_maze", "parse", "path_mask", "perfect",
    "random_dihedral", "read_file", "read_text", "shortest_length", "shortest_path", "solve",
    "to_text", "tokens", "verify", "write_text",
]
