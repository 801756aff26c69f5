"""9x9 Sudoku: the grid and its text formats with the verifier (`grid`), the generator (`generator`), the
symmetries (`symmetry`), the compiled search behind counting and rating (`search`), the exact oracles
(`oracle`) and the task the CLI, the benchmark and the models use (`task.SudokuTask`).

The package re-exports the puzzle's own API (grid, generator, symmetries), so `from puzzles import sudoku`
reads `sudoku.parse(...)`, `sudoku.generate(...)`; the oracle and the task are imported from their
modules. Never imports torch.
"""

from puzzles.result import NO_SOLUTION, SEVERAL_SOLUTIONS  # every kind's words, kept here too
from puzzles.sudoku.generator import DIFFICULTIES, FIENDISH, difficulty_of, dig, generate, generate_one
from puzzles.sudoku.grid import (
    BOX,
    CELLS,
    COL,
    PEERS,
    ROW,
    UNITS,
    Sudoku,
    cell_name,
    check_givens,
    conflicts,
    is_solution,
    parse,
    read_file,
    read_text,
    solve_unique,
    to_string,
    verify,
    write_csv,
    write_lines,
)
from puzzles.sudoku.search import count_solutions, random_solution
from puzzles.sudoku.symmetry import Symmetry, augment, frames, random_symmetry

__all__ = [
    "BOX", "CELLS", "COL", "DIFFICULTIES", "FIENDISH", "NO_SOLUTION", "PEERS", "ROW", "SEVERAL_SOLUTIONS", "UNITS",
    "Sudoku", "Symmetry", "augment", "cell_name", "check_givens", "conflicts", "count_solutions", "difficulty_of",
    "dig", "frames", "generate", "generate_one", "is_solution", "parse", "random_solution", "random_symmetry",
    "read_file", "read_text", "solve_unique", "to_string", "verify", "write_csv", "write_lines",
]
