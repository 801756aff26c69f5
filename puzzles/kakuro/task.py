"""Kakuro as a task (`puzzles.contract.Task`): the core every kind supplies, an exact oracle, and the neural
side (`puzzles.contract.NEURAL`).

A puzzle is a `Kakuro`; an answer, a reference and what `answer` reads are int8 (H, W) digit grids, 0
off the white cells. A model sees the encoded grid of `encoding` (digits in white cells, clues in the
others), and its structure differs per puzzle (`structure_per_puzzle`): `structure(shape, values)`
reads it from encoded values, the runs' cells as a neighbour table and their sums and lengths as
per-cell features, no positions, so one model serves every size.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from puzzles.errors import PuzzleError, UserError
from puzzles.kakuro import encoding as enc
from puzzles.kakuro import generator as gen
from puzzles.kakuro import grid, oracle, terminal
from puzzles.kakuro.grid import Kakuro
from puzzles.result import NO_SOLUTION, SEVERAL_SOLUTIONS


@functools.cache
def _reachable() -> np.ndarray:
    return enc.reachable()


KIND = "kakuro"  # the generator's one kind (`gen:kakuro:N:...`)
DEFAULT_SIZE = 8
POOL_CHUNK = 16  # training puzzles per job of a pool's worker processes


class KakuroTask:
    """Kakuro puzzles; for models, each white cell is predicted as a digit 1-9 and every other cell is given.

    The graph is each white cell's two runs in fixed slots (self, across mates by offset, down mates by
    offset: `encoding.SLOTS`), and each cell reads its runs' (length, sum) pairs, sums and its index in
    each as features (`position_sizes`): no positions, so one model runs on any size, and the structure
    differs per puzzle (`structure_per_puzzle`). Training grids are `train_size` square (12 by default,
    the clue row and column included); each training puzzle is rows x cols, each side drawn from the
    pool's sides (5 to train_size), placed at a random offset among blocked cells.
    """

    name = "kakuro"
    terminal = terminal.TERMINAL  # `csp solve kakuro`, `csp generate kakuro`
    oracles = ("cpsat",)
    hybrids = ("hybrid",)  # a complete search ordered by a model's probabilities (`guided_search`)
    # the hybrid's ties between equally constrained cells: to the first in row-major order, not (as on Sudoku) to
    # the model's surest. Chosen on generated puzzles of seed 777 (the benchmark's stream; the reported figures
    # use 4242): with the model's ties the search took more nodes than without the model on 8 of 10 24x24
    # puzzles (median 1,975 against 633), with the first cell's on 5 (547), the 1e13 training snapshot's order after
    # its full 8 loops (3e13's alike); about even on 10x10 and 16x16 (docs/results/kakuro.md, "The never-wrong
    # hybrid")
    model_ties = False

    # ---- neural (puzzles.contract.NEURAL)
    n_values = 9
    tokens = enc.BLOCK + 1  # MASK, the nine digits, and one for every cell that is not white: a clue's sums reach
    # a model as its runs' features, and its value embedding reads every encoded value from BLOCK up as BLOCK
    constraint = "sum"  # each run holds different digits adding up to its clue (constraints.Sum)
    structure_per_puzzle = True  # `structure` reads a puzzle's own from its encoded values
    position_sizes = enc.POSITION_SIZES  # the per-cell features (encoding.FEATURES), each a learned table
    axes = ()  # no rows and columns: a model that writes cells in an order of them (AR) does not run on Kakuro
    RUN_SLOTS, TOTALS = enc.RUN_SLOTS, enc.TOTALS  # where the sum rule finds a cell's run mates and run sums
    trace_classes = trace_flags = trace_size = 0  # no execution trace to supervise
    # the sampler's settings, chosen with the shipped model on puzzles of a tuning seed of their own (40 of 8x8 to
    # 10x10; experiments/kakuro_sampler/run.py, results/kakuro/sampler-tuning.jsonl): more chains solved more
    # (1, 4, 16, 32, 64 chains at 32 steps: 11, 13, 21, 27, 29 of 40), 64 steps a few more (30 of 40 at 32 chains)
    confident = 0.9
    temperature = 1.0
    warm_loops = 0
    chains, steps = 32, 64
    TRAIN_SIZE = train_size = 12  # the training canvas's side (an instance may have its own: `get_task`)
    MAX_SIDE = gen.MAX_SIDE
    MIN_POOL_SIDE = 5  # the smallest side of a training puzzle (the clue row or column included)
    unwritten = 0  # no AR kind runs on Kakuro (solver_steps)
    held_out_mix = None  # the training run's own small evaluation set: the pool's sides
    study_tiers = {"8x8": ("kakuro", {"size": 8}), "12x12": ("kakuro", {"size": 12}),
                   "16x16": ("kakuro", {"size": 16})}  # an architecture study's ladder: sizes up to past the canvas
    study_grid = None  # the study trains on the task's own canvas
    study_hints = 0.0  # the study's recurrent baselines train on bare puzzles (no part of the answer given)

    @staticmethod
    def reachable_sums() -> np.ndarray:
        """The sum rule's table (`encoding.reachable`): [used digits as bits, k, rest] is whether k different
        unused digits can add up to rest."""
        return _reachable()

    def __init__(self, train_size: int | None = None) -> None:
        self.train_size = train_size or self.TRAIN_SIZE

    def structure(self, shape=None, values: np.ndarray | None = None):
        """The Structure of encoded grids `values` ((T,) or (B, T), of `shape`; default the training canvas),
        each grid's own (encoding.layout): positions (..., T, 6) features, neighbours (..., T, SLOTS). Without
        values, a template of the canvas's size and slots (every cell alone), which sizes a model."""
        from puzzles.domains import Structure

        shape = tuple(shape or (self.train_size, self.train_size))
        if values is None:
            cells = shape[0] * shape[1]
            table = np.full((cells, enc.SLOTS), -1, np.int64)
            table[:, 0] = np.arange(cells)
            return Structure(np.zeros((cells, len(enc.FEATURES)), np.int64), None, table, shape)
        positions, table = enc.layout(values, shape)
        return Structure(positions, None, table, shape)

    def encode(self, puzzle: Kakuro) -> tuple[np.ndarray, tuple[int, int]]:
        """(values (H*W,), shape): digits in the white cells, 0 where empty, the clues in the others."""
        return enc.encode(puzzle), puzzle.shape

    def classes(self, values: np.ndarray) -> np.ndarray:
        return values

    def _shape(self, values: np.ndarray, shape) -> tuple[int, int]:
        return tuple(shape) if shape is not None else (math.isqrt(np.shape(values)[-1]),) * 2

    def conflicts(self, values: np.ndarray, shape=None) -> np.ndarray:
        """bool (..., T): filled white cells in a run that repeats a digit or cannot meet its sum any more."""
        positions, table = enc.layout(values, self._shape(values, shape))
        return enc.broken(values, positions, table)

    def frames(self, shape) -> np.ndarray:
        """int64 (1, T): the identity only. The symmetries (transposing, complementing digits) change values
        as well as cells, which the sampler's frames do not; training uses them (`training_pairs`)."""
        return np.arange(shape[0] * shape[1])[None]

    def text(self, values: np.ndarray, shape=None, puzzle: Kakuro | None = None) -> str:
        """`puzzle` (as given; without it, the one an encoded grid holds) with the white cells' digits of `values`."""
        shape = self._shape(values, shape)
        k = enc.decode(values, shape) if puzzle is None else puzzle
        return grid.to_text(k.with_digits(np.where(k.white, np.asarray(values).reshape(shape), 0)))

    def verify(self, puzzle: np.ndarray, values: np.ndarray, shape=None) -> bool:
        """Whether `values` solves the encoded `puzzle` (grid.verify: every white cell 1-9, givens kept, runs
        right) and keeps every other cell as the puzzle has it."""
        p, v = np.asarray(puzzle, np.int64).reshape(-1), np.asarray(values, np.int64).reshape(-1)
        if p.shape != v.shape:
            return False
        other = p >= enc.BLOCK
        if (v[other] != p[other]).any():
            return False
        shape = self._shape(p, shape)
        k = enc.decode(p, shape)
        try:
            return grid.verify(k, np.where(k.white, v.reshape(shape), 0)) is None
        except PuzzleError:  # an encoded grid that is no Kakuro has no answer
            return False

    def training_pairs(self, pool: tuple[np.ndarray, np.ndarray], n: int, rng: np.random.Generator):
        """n (puzzle, solution) pairs, int64 (n, side**2), each transposed or not and complemented or not
        (digits d as 10 - d, sums to match) at random."""
        puzzles, solutions = pool
        idx = rng.integers(len(puzzles), size=n)
        p, s = puzzles[idx].astype(np.int64), solutions[idx].astype(np.int64)
        shape = self._shape(p, None)
        flip, turn = rng.random(n) < 0.5, rng.random(n) < 0.5
        p[flip], s[flip] = enc.complement(p[flip], shape), enc.complement(s[flip], shape)
        p[turn], s[turn] = enc.transpose(p[turn], shape), enc.transpose(s[turn], shape)
        return p, s

    # `csp train --pool-mix`'s words for pool_levels
    pool_help = "sides (each puzzle's rows and columns drawn from them; default 5 to the grid's side)"

    @property
    def pool_levels(self) -> tuple[str, ...]:
        """What make_pool's `mix` may name: the sides a training puzzle's rows and columns are drawn from."""
        return tuple(str(side) for side in range(self.MIN_POOL_SIDE, self.train_size + 1))

    def make_pool(self, n: int, seed, workers: int = 2, mix=None) -> tuple[np.ndarray, np.ndarray]:
        """n generated puzzles with one solution each and those solutions, encoded, int16 (n, train_size**2):
        each puzzle's rows and columns drawn from the sides in `mix` (None: all of `pool_levels`), placed at a
        random offset in the canvas. Each puzzle has its own stream of `seed`, so `workers` changes nothing."""
        from puzzles.seeds import child, sequence

        wrong = [m for m in (mix or ()) if m not in self.pool_levels]
        if wrong:
            raise UserError(f"unknown Kakuro pool side {', '.join(map(str, wrong))}; choose from "
                            f"{', '.join(self.pool_levels)} (up to the training grid's side)")
        seed = sequence(seed)
        sides = tuple(int(m) for m in (mix or self.pool_levels))
        jobs = [([child(seed, i) for i in range(k, min(n, k + POOL_CHUNK))], sides, self.train_size)
                for k in range(0, n, POOL_CHUNK)]
        if workers <= 1 or len(jobs) <= 1:
            parts = [_pool_chunk(job) for job in jobs]
        else:
            from puzzles import workers as processes

            pool = processes.pool(min(workers, len(jobs)))  # its workers end with this process
            try:
                parts = list(pool.map(_pool_chunk, jobs))
            except BaseException:
                processes.stop(pool)
                raise
            pool.shutdown(wait=True)
        puzzles = np.concatenate([p for p, _ in parts]) if parts else np.zeros((0, self.train_size ** 2))
        solutions = np.concatenate([s for _, s in parts]) if parts else puzzles.copy()
        return puzzles.astype(np.int16), solutions.astype(np.int16)

    def study_set(self, n: int, seed) -> tuple[np.ndarray, np.ndarray]:
        """The architecture study's held-out set: n generated puzzles as the training pool has them."""
        return self.make_pool(n, seed, workers=2)

    def solver_steps(self, puzzles: np.ndarray, solutions: np.ndarray):
        """There are none: the AR kinds write cells in an order of rows and columns, which a Kakuro model does
        not see (`axes` is empty), so no AR kind trains on Kakuro."""
        raise UserError("no solver order for Kakuro: the AR kinds do not run on it")

    def read_file(self, path: str) -> tuple[list[Kakuro], list[None]]:
        """(puzzles, no known solutions: a file holds puzzles only); `-` reads standard input."""
        puzzles = grid.read_file(path)
        return puzzles, [None] * len(puzzles)

    def generate(self, kind: str, n: int, options: dict, seed) -> tuple[list[Kakuro], list[np.ndarray]]:
        """(n puzzles with one solution each, their solutions) of kind `kakuro`; options size (square, default
        8) or rows and cols, each counting the clue row or column, or min_size and max_size (square, each
        puzzle's side drawn between them): `gen:kakuro:100:size=8:seed=1`, `gen:kakuro:10:rows=10:cols=16`,
        `gen:kakuro:1000:min_size=8:max_size=10:seed=1`."""
        if kind != KIND:
            raise UserError(f"unknown Kakuro generator kind {kind!r}; the one kind is {KIND}")
        unknown = set(options) - {"size", "rows", "cols", "min_size", "max_size"}
        if unknown:
            raise UserError(f"unknown Kakuro generator option(s): {', '.join(sorted(unknown))}")
        ranged = {"min_size", "max_size"} & set(options)
        if ranged and len(ranged) == 1:
            raise UserError("give a Kakuro's min_size= and max_size= together")
        if ("size" in options or ranged) and {"rows", "cols"} & set(options) or ranged and "size" in options:
            raise UserError("give a Kakuro's size=, its rows= and cols=, or its min_size= and max_size=, not two of them")
        if ranged:
            made = list(gen.generate(options["min_size"], options["min_size"], n, seed, options["max_size"]))
            return [k for k, _ in made], [s for _, s in made]
        rows = options.get("rows", options.get("size", DEFAULT_SIZE))
        cols = options.get("cols", options.get("size", DEFAULT_SIZE))
        made = list(gen.generate(rows, cols, n, seed))
        return [k for k, _ in made], [s for _, s in made]

    def reference(self, puzzle: Kakuro, where: str, known: np.ndarray | None = None) -> np.ndarray:
        """The one solution; UserError when there is none or several (a benchmark scores "the" answer)."""
        n, answer = oracle.count(puzzle)
        if n != 1:
            why = "no answer within the time limit" if n is None else NO_SOLUTION if n == 0 else SEVERAL_SOLUTIONS
            raise UserError(f"{where} has {why}; a benchmark scores puzzles with exactly one solution")
        return answer if known is None else known

    def shape_of(self, puzzle: Kakuro) -> tuple[int, int]:
        return puzzle.shape

    def to_text(self, puzzle: Kakuro) -> str:
        return grid.to_text(puzzle)

    def answer(self, text: str) -> np.ndarray:
        """The digits of an answer's text (as a solver writes it; a model's unverified final grid may repeat a
        digit in a run); PuzzleError when it is no grid."""
        return grid.parse(text, checked=False).digits

    def check(self, puzzle: Kakuro, answer: np.ndarray) -> str | None:
        """Why `answer` is not a solution of `puzzle` (None: it is)."""
        return grid.verify(puzzle, answer)

    def score(self, puzzle: Kakuro, reference: np.ndarray, answer: np.ndarray | None) -> tuple[int, int]:
        """(empty cells whose answer matches the reference, empty cells); an answer of another shape scores 0."""
        empty = puzzle.white & (puzzle.digits == 0)
        if answer is None or np.shape(answer) != puzzle.shape:
            return 0, int(empty.sum())
        return int((np.asarray(answer)[empty] == np.asarray(reference)[empty]).sum()), int(empty.sum())

    def screen(self, puzzle: Kakuro, unique: bool = False) -> str | None:
        """Why no solver can give the answer looked for (None: one can): with `unique`, unless there is
        exactly one. Without it, None: a puzzle with no solution is told apart once a solver fails it
        (`explain`), as Sudoku's are."""
        if not unique:
            return None
        n, _ = oracle.count(puzzle)
        return NO_SOLUTION if n == 0 else SEVERAL_SOLUTIONS if n == 2 else None

    def explain(self, puzzle: Kakuro) -> str | None:
        """NO_SOLUTION when the puzzle has none, else None."""
        status, _, _ = oracle.find(puzzle, oracle.DEFAULT_TIME_LIMIT)
        return NO_SOLUTION if status == NO_SOLUTION else None

    # ---- model-guided search (puzzles.contract.HYBRID)

    def guided_search(self, puzzle, unique: bool, queries: int = 1, shape=None):
        """The complete search of `search` as a coroutine (the Sudoku task's contract): it propagates the run
        sums first and, where that leaves cells open, yields the encoded grid with the cells it decided and takes
        the model's probabilities for it ((H*W, 9)) back by `send`; each cell's digits are then tried most
        probable first, ties between equally constrained cells to the first (with `model_ties`, the surest). It
        asks at the root only, whatever `queries` above 1 says (queries=0: ascending digits, the model-free
        search). `puzzle`: a Kakuro, or an encoded grid of `shape` (None: square). Returns (the solution encoded
        or None, why not (None when solved), nodes until the first solution, wrong tries among them); with
        `unique` it goes on to prove the answer unique and says NO_SOLUTION / SEVERAL_SOLUTIONS exactly as the
        oracle does."""
        from puzzles.kakuro.search import Search

        k = puzzle if isinstance(puzzle, Kakuro) else enc.decode(puzzle, self._shape(puzzle, shape))
        search = Search(k)
        limit = 2 if unique else 1
        probabilities = None
        if queries > 0:
            status, decided = search.propagate()
            if status == 1:
                probabilities = yield enc.encode(k.with_digits(decided))
        found, nodes, wrong, first = search.run(limit, probabilities, self.model_ties)
        if found == 0:
            return None, NO_SOLUTION, nodes, wrong
        if found > 1:
            return None, SEVERAL_SOLUTIONS, nodes, wrong
        return enc.encode(k.with_digits(first)), None, nodes, wrong

    rating_name = "search nodes (model-free)"

    def rating(self, puzzle, reference: np.ndarray) -> int:
        """The nodes the model-free complete search takes to the answer."""
        return self.free_search_nodes(puzzle)

    def free_search_nodes(self, puzzle) -> int:
        """Nodes the model-free search (ascending digits, ties to the first cell) takes to the first solution of
        `puzzle` (a Kakuro, or an encoded square grid)."""
        from puzzles.kakuro.search import Search

        k = puzzle if isinstance(puzzle, Kakuro) else enc.decode(puzzle, self._shape(puzzle, None))
        return Search(k).run(1)[1]

    def solve_exact(self, puzzles: list[Kakuro], solver: str, time_limit: float | None, workers: int = 2,
                    check_unique: bool = False, streamed: bool = False):
        """One Result per puzzle, in order, as each is in, from the CP-SAT oracle (the benchmark's references
        already prove uniqueness, so by default it stops at the first answer); time_limit None: each one's size
        default."""
        if solver not in self.oracles:
            raise UserError(f"unknown Kakuro solver {solver!r}; choose from {', '.join(self.oracles)}")
        return oracle.solve_many(puzzles, time_limit, workers=workers, check_unique=check_unique)


def _pool_chunk(job) -> tuple[np.ndarray, np.ndarray]:
    """(puzzles, solutions) int16 (k, canvas**2) of one make_pool job: one puzzle per seed."""
    seeds, sides, canvas = job
    puzzles, solutions = [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        rows, cols = (int(x) for x in rng.choice(sides, 2))
        k, digits = gen.generate_one(rows, cols, rng)
        at = (int(rng.integers(canvas - rows + 1)), int(rng.integers(canvas - cols + 1)))
        puzzles.append(enc.pad(enc.encode(k), k.shape, (canvas, canvas), at))
        solutions.append(enc.pad(enc.encode(k.with_digits(digits)), k.shape, (canvas, canvas), at))
    return np.stack(puzzles).astype(np.int16), np.stack(solutions).astype(np.int16)
