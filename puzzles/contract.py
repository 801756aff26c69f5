"""The task contract: what a kind of puzzle must supply, and what it may.

A kind is one class registered in `puzzles.domains.TASKS`. The benchmark (`csp bench`) and the CLI
need only the small core below, `Task`; everything else is a capability a kind adds when it has it,
found by the members it defines (`capable`):

- exact oracle: `oracles` (solver names) and `solve_exact(puzzles, solver, time_limit, workers=2,
  check_unique=False, streamed=False)`, one `Result` per puzzle in order, each `solved` only when the kind's own
  verifier accepted it (`check_unique`: one that has several answers is not; `streamed`: each result as soon as
  it and those before it are in, where the oracle would otherwise send puzzles to its workers in batches);
- neural: the encoding, structure and training data a model needs (NEURAL, read by `csp_diffusion`),
  so model kinds can be trained and run on it; without it a kind is solved by its oracles only and
  asking for a model says there is none yet;
- execution trace: `trace_size` > 0 and TRACE, a per-loop target a model can be supervised on;
- model-guided search: `hybrids` (names) and HYBRID;
- symmetries: `frames(shape)`, the cell permutations that keep a puzzle valid (part of NEURAL today);
- difficulty: RATING, `rating_name` and `rating(puzzle, reference)`, a whole number >= 0 that grows with the
  reasoning a puzzle needs (Sudoku: the guesses beyond naked and hidden singles), which the architecture study reports for
  each rung of its ladder;
- the command line: `terminal`, a `Terminal` (below): how `csp solve KIND` reads, names and draws the kind's
  puzzles and what `csp generate KIND` takes. The CLI builds both commands from it, the options every kind
  shares written once; a kind adds only what it must (its own generator options, a PUZZLE on the command line,
  a drawing, a default solver). Plain data and functions: drawings are (text, style) pieces that cli/ turns
  into rich Text, so puzzles/ never imports typer or rich.

Puzzles are whatever the kind reads (`read_file`): any object. Answers, references and what
`answer(text)` returns are NumPy arrays the kind scores and checks. The conformance test
(tests/test_contract.py) runs the core over every registered kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Task(Protocol):
    """The core every kind supplies."""

    name: str  # the kind's name in TASKS, on the command line and in results

    def read_file(self, path: str) -> tuple[list[Any], list[np.ndarray | None]]:
        """(puzzles, the solutions the file gives, None where none): the kind's text form, puzzles
        separated by blank lines as `to_text` writes them; `-` may read standard input. Bad input is one
        PuzzleError naming the file and where in it."""

    def to_text(self, puzzle: Any) -> str:
        """The puzzle in the kind's text form (what `read_file` reads back)."""

    def answer(self, text: str) -> np.ndarray:
        """The answer a result's solution text holds (a solver's, perhaps wrong; it is not checked here)."""

    def check(self, puzzle: Any, answer: np.ndarray) -> str | None:
        """Why `answer` does not solve `puzzle` (None: it does). The one verifier: no answer is reported
        solved unless it passes."""

    def generate(self, kind: str, n: int, options: dict, seed: Any) -> tuple[list[Any], list[np.ndarray]]:
        """(n puzzles, their reference answers) from a `gen:KIND:N:key=value...` spec's parts: the same
        seed (an integer or a `puzzles.seeds` stream), the same puzzles. Unknown kinds or options are a
        UserError."""

    def reference(self, puzzle: Any, where: str, known: np.ndarray | None = None) -> np.ndarray | None:
        """The answer a benchmark scores against (`known` when the file gave one); a UserError naming
        `where` when the puzzle has no proper answer to score."""

    def shape_of(self, puzzle: Any) -> tuple[int, int]:
        """The puzzle's grid (rows, cols)."""

    def score(self, puzzle: Any, reference: np.ndarray, answer: np.ndarray | None) -> tuple[int, int]:
        """(cells the answer gets right, cells to get): a benchmark's cell accuracy."""

    def screen(self, puzzle: Any, unique: bool = False) -> str | None:
        """Why the puzzle cannot have the answer a solver looks for, checked before a solver runs (None: it
        can); with `unique`, a puzzle without exactly one solution is refused."""

    def explain(self, puzzle: Any) -> str | None:
        """Why a solver found no answer when the puzzle is at fault (None: the solver is)."""


CORE = ("name", "read_file", "to_text", "answer", "check", "generate", "reference", "shape_of", "score", "screen",
        "explain")
EXACT = ("oracles", "solve_exact")
NEURAL = ("n_values", "tokens", "constraint", "position_sizes", "axes", "structure", "encode", "classes", "conflicts",
          "text", "verify", "frames", "training_pairs", "make_pool", "pool_levels", "held_out_mix", "study_set",
          "solver_steps", "unwritten", "trace_size", "confident", "temperature", "warm_loops", "chains", "steps",
          "study_tiers", "study_grid", "structure_per_puzzle", "study_hints", "pool_help", "TRAIN_SIZE", "train_size")
TRACE = ("trace", "trace_loops", "trace_done", "trace_targets", "trace_loop_cap")
HYBRID = ("hybrids", "guided_search", "free_search_nodes")
TERMINAL = ("terminal",)
RATING = ("rating_name", "rating")


def missing(task: Any, members: tuple[str, ...] = CORE) -> list[str]:
    """The members of `members` that a task (class or instance) lacks."""
    return [m for m in members if not hasattr(task, m)]


def capable(task: Any, members: tuple[str, ...]) -> bool:
    """Whether a task (class or instance) has every member of a capability (NEURAL, TRACE, ...)."""
    return not missing(task, members)


def neural(task: Any) -> bool:
    """Whether models can be trained and run on the task."""
    return capable(task, NEURAL)


# ---- what the neural capability's members return and share


@dataclass(frozen=True)
class Structure:
    """The shape a model sees for one grid size.

    positions: int64 (cells, axes), each cell's index along each structural axis
        (Sudoku: row, column, box), so cell identity is learned from those.
    adjacency: bool (cells, cells), the constraint graph with self-loops; None when the grid is
        large and sparse and `neighbours` describes it instead.
    neighbours: int64 (cells, slots), each cell's neighbours in fixed slots (mazes: self, up,
        right, down, left), -1 where there is none; None for small dense graphs.
    shape: the grid's (rows, cols).

    A task whose structure differs per puzzle (`per_puzzle`: Kakuro, whose runs are the graph) gives
    one per encoded grid, read from its values: positions (B, cells, axes) and neighbours
    (B, cells, slots) for a batch of B grids (models take either form), or the forms above for one.
    """

    positions: np.ndarray
    adjacency: np.ndarray | None
    neighbours: np.ndarray | None = None
    shape: tuple[int, int] = (9, 9)

    @property
    def graph(self) -> np.ndarray:
        """What attention follows: the neighbour table when there is one, else the adjacency."""
        return self.neighbours if self.neighbours is not None else self.adjacency


def with_values(cells: np.ndarray, solutions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cells, their solution values, 0 where a cell is -1): what `solver_steps` returns."""
    values = np.take_along_axis(np.asarray(solutions, np.int64), cells.clip(min=0), axis=1)
    return cells, np.where(cells >= 0, values, 0)


# ---- the command line's (`TERMINAL`): what `csp solve KIND` and `csp generate KIND` take from a kind

Drawing = list[tuple[str, str]]  # (text, style) pieces, a style as rich names it ("" none), rows ending in "\n"


@dataclass(frozen=True)
class Option:
    """One option of a kind's own `csp generate KIND`; cli/ makes a command-line option of it."""

    name: str  # the key `Generator.make` finds its value under
    flags: tuple[str, ...]  # ("--difficulty", "-d"); the first names it in messages
    default: Any = None
    help: str = ""
    type: type | None = None  # int, float, str, or bool for a flag; None: the default's type
    least: float | None = None  # bounds checked before any work (one line, exit 2)
    most: float | None = None


@dataclass(frozen=True)
class Generator:
    """`csp generate KIND`: its help (examples last), its own options, and the kind's functions behind it."""

    help: str
    make: Callable[[int, int, int, dict], Iterable[Any]]  # (n, seed, workers, options): the puzzles, made one
    # at a time (a generator's close() stops its workers); bad options are a UserError before any work
    write: Callable[[list, dict], str]  # (the puzzles made, options): the text written
    options: tuple[Option, ...] = ()
    made: str = "puzzle"  # one puzzle made, in "wrote 3 ... to FILE", formatted with the options ("{difficulty} puzzle")
    workers: bool = False  # whether it makes puzzles in parallel processes (--workers)


@dataclass(frozen=True)
class Terminal:
    """How the CLI meets a kind (a task's `terminal`). Everything but `help` and `read` has a default that suits a
    kind without it: no PUZZLE argument, no drawing (the text form is printed), no live view, no generate command."""

    help: str  # `csp solve KIND`'s help, its examples last
    read: Callable[[str, Callable[[str], None] | None, int | None], list[tuple[Any, str]]]  # (a file or - for
    # standard input, on_error, limit): each puzzle with where it came from; with on_error a bad puzzle's message
    # goes there and it is skipped, else it is one PuzzleError
    file_help: str = "A file of puzzles, or - for stdin; nothing: the piped standard input."
    items: str = "puzzles"  # what a FILE holds, in messages ("give a FILE of mazes")
    item: str = "puzzle"  # one of them ("--show draws one maze")
    parse: Callable[[str], Any] | None = None  # a PUZZLE given on the command line, read (None: FILE or - only)
    puzzle_help: str = ""  # the PUZZLE|FILE|- argument's help, where `parse` is
    suffixes: tuple[str, ...] = ()  # a PUZZLE argument ending so is a file's name, even where there is no such file
    solver: str | None = None  # the default solver (None: the default model kind)
    unique: bool = True  # whether a puzzle has one answer to find: --check-unique/--no-check-unique
    draw: Callable[[Any, str | None], Drawing] | None = None  # the puzzle with a result's answer text (None: as given)
    live: Callable[[Any, Any, Any, Any], Drawing] | None = None  # --show: (puzzle, the encoded values of a
    # sampler's step, the cells committed in it, those retracted), flat over the cells
    legend: tuple[tuple[str, str], ...] = ()  # under the live view: what its styles mean
    facts: Callable[[Any, str], dict] | None = None  # (puzzle, a verified answer's text): what a result adds
    fact: str = ""  # a verified result's status adds this, formatted with its facts ("path {path_length} cells")
    one_line: bool = False  # the text form is one line (answers a line each; else blocks between blank lines)
    comment: str = ""  # where the text form has comments: the line format writes each answer's status as one
    unsolved: str = "not solved"  # what a result not solved is called
    title: str = "{name} · {solver} (solved = verified)"  # a file's summary table
    bench: str = ""  # a generator spec for `csp bench --puzzles` (its help's example)
    generator: Generator | None = None
