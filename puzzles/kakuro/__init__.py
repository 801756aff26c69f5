"""Kakuro: the grid, its text form and the verifier (`grid`), the generator of puzzles with one solution
(`generator`), the exact CP-SAT oracle (`oracle`) and the task the CLI and benchmark use (`task.KakuroTask`).

The package re-exports the puzzle's own API (grid, generator), so `from puzzles import kakuro` reads
`kakuro.parse(...)`, `kakuro.generate(...)`; the oracle and the task are imported from their modules.
Never imports torch; OR-tools is imported only when a puzzle is solved or generated.
"""

from puzzles.kakuro.generator import MAX_SIDE, MIN_SIDE, check_size, generate, generate_one
from puzzles.kakuro.grid import (
    MAX_RUN,
    Cell,
    Kakuro,
    Run,
    cell_name,
    parse,
    parse_rows,
    read_file,
    read_text,
    sum_range,
    to_text,
    tokens,
    verify,
    write_text,
)

__all__ = [
    "MAX_RUN", "MAX_SIDE", "MIN_SIDE", "Cell", "Kakuro", "Run", "cell_name", "check_size", "generate", "generate_one",
    "parse", "parse_rows", "read_file", "read_text", "sum_range", "to_text", "tokens", "verify", "write_text",
]
