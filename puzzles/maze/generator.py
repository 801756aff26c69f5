"""Maze generation: five kinds (perfect, open, walls, rooms, borderless), S and G placed far apart.

Generated mazes of `size` N are N x N characters. Perfect mazes put their cells on odd coordinates
inside a wall border; for even N the extra last row and column are wall. A path's length counts its
cells including S and G, as everywhere in `grid`.

Pure NumPy (numba compiles the walls generator's BFS); never imports torch.
"""

from __future__ import annotations

import numpy as np

from puzzles.errors import PuzzleError
from puzzles.maze.grid import Maze, _bfs

KINDS = ("perfect", "open", "walls", "rooms", "borderless")
MIXED = "mixed"  # a generated set of every kind in equal shares, in turn (not a kind of its own)
ALGORITHMS = ("backtracker", "wilson")

MAX_SIZE = 1001  # the largest generated maze side: memory and time grow with the cells (a million here)


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
    """The compiled search (`puzzles.maze.bfs`) on a bool (h, w) grid: distances from `src`, -1 where
    unreachable (the walls generator runs thousands per maze)."""
    from puzzles.maze.bfs import bfs

    h, w = open_grid.shape
    return bfs(np.ascontiguousarray(open_grid.ravel()), h, w, src)


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
