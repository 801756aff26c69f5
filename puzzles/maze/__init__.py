"""Grid mazes: the maze, its text form, shortest paths and the verifier (`grid`), the generators
(`generator`), the symmetries (`symmetry`), the exact CP-SAT oracle (`oracle`) and the task the CLI, the
benchmark and the models use (`task.MazeTask`).

The package re-exports the puzzle's own API (grid, generator, symmetries), so `from puzzles import maze`
reads `maze.parse(...)`, `maze.generate(...)`; the oracle and the task are imported from their modules.
Never imports torch.
"""

from puzzles.maze.generator import (
    ALGORITHMS,
    KINDS,
    MAX_SIZE,
    MIXED,
    borderless_maze,
    generate,
    open_maze,
    perfect,
    rooms_maze,
    walls_maze,
)
from puzzles.maze.grid import (
    UNREACHABLE,
    Cell,
    Maze,
    cell_name,
    distances,
    is_solution,
    parse,
    path_mask,
    read_file,
    read_text,
    shortest_length,
    shortest_path,
    solve,
    to_text,
    verify,
    write_text,
)
from puzzles.maze.symmetry import dihedral, frames, inverse, random_dihedral

__all__ = [
    "ALGORITHMS", "KINDS", "MAX_SIZE", "MIXED", "UNREACHABLE", "Cell", "Maze", "borderless_maze", "cell_name",
    "dihedral", "distances", "frames", "generate", "inverse", "is_solution", "open_maze", "parse", "path_mask",
    "perfect", "random_dihedral", "read_file", "read_text", "rooms_maze", "shortest_length", "shortest_path",
    "solve", "to_text", "verify", "walls_maze", "write_text",
]
