"""Sudoku as a task (`puzzles.contract.Task`): the core, the exact oracles, the neural encoding and
structure, training pairs and pools, and the model-guided search (registered in `puzzles.domains.TASKS`).

Pure NumPy; never imports torch.
"""

from __future__ import annotations

import numpy as np

from puzzles import sudoku
from puzzles.contract import Structure, with_values
from puzzles.errors import UserError
from puzzles.sudoku import terminal


class SudokuTask:
    name = "sudoku"
    TRAIN_SIZE = train_size = None  # one size: no training grid side to choose (mazes and Kakuro have one)
    terminal = terminal.TERMINAL  # `csp solve sudoku`, `csp generate sudoku`
    n_values = 9
    tokens = 10  # MASK + 9 digits
    trace_classes = trace_flags = trace_size = 0  # no execution trace to supervise
    constraint = "all-different"  # neighbours in the constraint graph hold different values
    oracles = ("cpsat", "constraint")
    position_sizes = (9, 9, 9)  # rows, columns, boxes
    axes = position_sizes  # what the structure's positions index (models that need an order use them)
    confident = 0.99  # the sampler commits at once every cell a model is this sure of
    warm_loops = 0  # the sampler's loops per step after the first, from the carried state (0 = all cold)
    temperature = 2.5  # the sampler's noisy chains: chosen on magictour puzzles past the first 1000, which the
    # reported figures use (docs/results/sudoku.md, "Sampler settings"); hotter chains are more diverse
    chains, steps = 64, 12  # LoopMDM's chains per puzzle and step limit unless told: the greedy chain alone for
    # spare_after steps, then 63 more for 8 steps; on the hardest class many chains for few steps solve far
    # more than few chains for many, at the same cost (docs/results/sudoku.md, "The default")

    def __init__(self) -> None:
        adjacency = np.eye(sudoku.CELLS, dtype=bool)
        adjacency[np.repeat(np.arange(sudoku.CELLS), 20), sudoku.PEERS.reshape(-1)] = True
        self._structure = Structure(np.stack([sudoku.ROW, sudoku.COL, sudoku.BOX], axis=1).astype(np.int64), adjacency)

    def structure(self, shape=None) -> Structure:
        return self._structure

    def encode(self, grid: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        """(values (81,), shape) of a puzzle grid."""
        return np.asarray(grid, dtype=np.int64).reshape(-1), (9, 9)

    def classes(self, values: np.ndarray) -> np.ndarray:
        return values

    def conflicts(self, values: np.ndarray, shape=None) -> np.ndarray:
        """bool (..., 81): filled cells sharing a value with a filled peer."""
        v = values[..., sudoku.PEERS]  # (..., 81, 20)
        return ((v == values[..., None]) & (values[..., None] > 0)).any(-1)

    n_frames = 1  # frames the sampler's chains run under: the identity only, until frames are shown to pay (design.md, "Frames")

    def frames(self, shape=None) -> np.ndarray:
        """int64 (F, 81): the cell permutations the sampler runs a puzzle's chains under (chain c in frame
        c mod F; MazeTask.frames): seeded symmetries of the grid that move cells only, the identity first."""
        return sudoku.frames(self.n_frames)

    def text(self, values: np.ndarray, shape=None, puzzle=None) -> str:
        return sudoku.to_string(np.asarray(values, np.int8))

    def verify(self, puzzle: np.ndarray, values: np.ndarray, shape=None) -> bool:
        return sudoku.verify(np.asarray(puzzle, np.int8), np.asarray(values, np.int8)) is None

    def training_pairs(self, pool: tuple[np.ndarray, np.ndarray], n: int, rng: np.random.Generator):
        """n augmented (puzzle, solution) pairs drawn from a pool of generated ones, int64 (n, 81)."""
        puzzles, solutions = pool
        idx = rng.integers(len(puzzles), size=n)
        p, s = puzzles[idx].astype(np.int64), solutions[idx].astype(np.int64)
        # a random symmetry per row: digits relabelled, rows/cols shuffled in bands, maybe transposed
        perm = np.stack([sudoku.random_symmetry(rng) for _ in range(n)], axis=0)
        out_p, out_s = np.empty_like(p), np.empty_like(s)
        for k, sym in enumerate(perm):
            out_p[k], out_s[k] = sym.apply(p[k]), sym.apply(s[k])
        return out_p, out_s

    unwritten = 0  # what a solver-order model leaves in a cell it never writes (a blank: such a grid fails)

    def study_set(self, n: int, seed: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
        """The architecture study's held-out set: n generated hard puzzles and their solutions, int8 (n, 81)."""
        return self.make_pool(n, seed, workers=1, mix=("hard",))

    def solver_steps(self, puzzles: np.ndarray, solutions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cells, values), int64 (B, S), -1 / 0 past each row's end: each puzzle's blanks in the order a
        human-style propagation solver fills them (singles first, a guess only where it must), with
        their values; the targets of the `ar-solver` model (Shah et al. 2024)."""
        from puzzles.sudoku.search import solver_order

        cells = np.full(puzzles.shape, -1, np.int64)
        for k in range(len(puzzles)):
            order = solver_order(puzzles[k], solutions[k])
            cells[k, :len(order)] = order
        return with_values(cells, solutions)

    pool_levels = sudoku.DIFFICULTIES  # what make_pool's `mix` may name: the generator's levels
    pool_help = ("levels (default hard,extreme; fiendish: puzzles that need several guesses beyond naked "
                 "and hidden singles)")  # `csp train --pool-mix`'s words for pool_levels
    held_out_mix = ("hard",)  # the training run's own small evaluation set
    study_tiers = {"easy": ("easy", {}), "medium": ("medium", {}), "hard": ("hard", {})}  # the architecture
    # study's difficulty ladder: {tier: (generator kind, options)}
    study_grid = None  # the study trains on the task's own grids
    structure_per_puzzle = False  # one structure serves every grid
    study_hints = 0.0  # the study's recurrent baselines train on bare puzzles (no part of the answer given)

    def make_pool(self, n: int, seed: np.random.SeedSequence, workers: int = 2, mix=("hard", "extreme")):
        """Generated puzzles with unique solutions, split evenly over the levels in `mix` (`seed`: a named stream
        of `puzzles.seeds`)."""
        from puzzles.seeds import child, sequence

        seed = sequence(seed)
        per = [n // len(mix) + (k < n % len(mix)) for k in range(len(mix))]
        puzzles, solutions = [], []
        for k, (d, m) in enumerate(zip(mix, per)):
            for s in sudoku.generate(m, d, seed=child(seed, k), workers=workers):
                puzzles.append(s.givens)
                solutions.append(s.solution)
        return np.stack(puzzles).astype(np.int8), np.stack(solutions).astype(np.int8)

    # ---- benchmarks: puzzle sets, references, scoring, screening, oracles

    def read_file(self, path: str) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """(puzzles, the solutions the file gives, None where it gives none)."""
        items = sudoku.read_file(path)
        return [s.givens for s in items], [s.solution for s in items]

    def generate(self, kind: str, n: int, options: dict, seed) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(n puzzles of difficulty `kind`, their solutions); no options."""
        if options:
            raise UserError(f"unknown Sudoku generator option(s): {', '.join(options)}")
        made = list(sudoku.generate(n, kind, seed=seed, workers=2))
        return [s.givens for s in made], [s.solution for s in made]

    def reference(self, puzzle: np.ndarray, where: str, known: np.ndarray | None = None) -> np.ndarray | None:
        """The one solution (`known`, when the source has it); None when there is none or several (a verified
        answer to such a puzzle would not be "the" answer a benchmark scores: it counts the puzzle apart)."""
        from puzzles.sudoku.search import search

        n, _, solution = search(puzzle, 2)
        if n != 1:
            return None
        return known if known is not None else solution

    def shape_of(self, puzzle) -> tuple[int, int]:
        return 9, 9

    def to_text(self, puzzle) -> str:
        return sudoku.to_string(np.asarray(puzzle, np.int8))

    def answer(self, text: str) -> np.ndarray:
        """The grid of a result's answer text (it may hold clashes)."""
        return np.array([int(ch) if ch.isdigit() else 0 for ch in text], dtype=np.int64)

    def check(self, puzzle: np.ndarray, answer: np.ndarray) -> str | None:
        """Why `answer` does not solve `puzzle` (None: it does): the contract's verifier."""
        return sudoku.verify(puzzle, answer)

    def score(self, puzzle, reference: np.ndarray, answer: np.ndarray | None) -> tuple[int, int]:
        """(unknown cells whose answer matches the reference, unknown cells)."""
        unknown = np.asarray(puzzle) == 0
        right = 0 if answer is None else int((answer[unknown] == np.asarray(reference)[unknown]).sum())
        return right, int(unknown.sum())

    def screen(self, puzzle, unique: bool) -> str | None:
        """Why a puzzle cannot have the answer a solver looks for, checked before a model runs (None: it
        can). Clashing givens never get here (parsing refuses them); with `unique`, a puzzle needs exactly
        one solution. Without it, a puzzle with none is told apart only once a model fails it
        (`explain`), so puzzles a model solves cost no search."""
        if not unique:
            return None
        n = sudoku.count_solutions(np.asarray(puzzle, np.int8), 2)
        if n == 0:
            return sudoku.NO_SOLUTION
        return sudoku.SEVERAL_SOLUTIONS if n > 1 else None

    def explain(self, puzzle) -> str | None:
        """Why a model found no answer when the puzzle itself is at fault (None: the model is)."""
        return None if sudoku.count_solutions(np.asarray(puzzle, np.int8), 1) else sudoku.NO_SOLUTION

    hybrids = ("hybrid",)  # a complete search ordered by a model's probabilities (`guided_search`)

    def guided_search(self, puzzle: np.ndarray, unique: bool, queries: int = 1, shape=None):
        """The most-constrained-cell search as a coroutine: it yields grids (the puzzle plus the search's
        assignments) and takes a model's probabilities for each back by `send`, at the root and at up to
        `queries` - 1 more branch nodes; each cell's digits are tried most probable first (queries=0: in
        ascending order, the model-free search). It returns (solution or None, why not (None when solved),
        nodes until the first solution, wrong tries among them). With `unique` it goes on to prove the
        answer unique, and says so when it is not, exactly as the oracles do. (`shape`: the grid's, 9x9 here;
        a kind of several sizes reads it.)"""
        from puzzles.sudoku.search import guided

        found, nodes, wrong, first = yield from guided(puzzle, 2 if unique else 1, queries)
        if found == 0:
            return None, sudoku.NO_SOLUTION, nodes, wrong
        if found > 1:
            return None, sudoku.SEVERAL_SOLUTIONS, nodes, wrong
        return first.astype(np.int64), None, nodes, wrong

    rating_name = "guesses beyond singles"

    def rating(self, puzzle: np.ndarray, reference: np.ndarray) -> int:
        """The guesses a solver that knows naked and hidden singles makes on its way to `reference` (0: singles
        alone solve it; docs/results/sudoku.md, "The forum-hardest class")."""
        from puzzles.sudoku.search import singles_guesses

        return singles_guesses(np.asarray(puzzle).reshape(-1), np.asarray(reference).reshape(-1))

    def free_search_nodes(self, puzzle: np.ndarray) -> int:
        """Nodes the model-free search (ascending digits, the generator's) takes to the first solution."""
        from puzzles.sudoku.search import counted_search

        return int(counted_search(puzzle, 1)[1])

    def solve_exact(self, puzzles: list, solver: str, time_limit: float | None, workers: int = 2,
                    check_unique: bool = False, streamed: bool = False):
        """One Result per puzzle, in order, from an exact oracle (`oracles`); time_limit None: the size default.
        `streamed`: each puzzle goes to a worker alone, so each result comes as soon as it is in."""
        from puzzles.limits import time_limit as limit_for
        from puzzles.sudoku import oracle

        return oracle.solve_many(puzzles, solver, time_limit=limit_for(time_limit, 81), workers=workers,
                                 check_unique=check_unique, chunk=1 if streamed else None)
