"""Constants the tests share (fixtures are in conftest.py)."""

from __future__ import annotations

# The smallest model every kind builds at (dim a multiple of heads), so a test trains or decodes in seconds on a
# CPU; tests that count FLOPs or read a config back assume these numbers.
TINY = {"dim": 32, "heads": 2}
# LoopMDM at most 3 loops: training unrolls every loop, so the cap bounds what a tiny run costs
TINY_LOOPMDM = {**TINY, "max_loops": 3}
# a maze LoopMDM built without a task: on/off-path values, the START mark and MASK as tokens, no position
# embeddings (mazes come in any size), one attention slot per neighbour-table column (self and 4 neighbours)
TINY_MAZE = {**TINY_LOOPMDM, "n_values": 2, "tokens": 4, "position_sizes": (), "slots": 5}


def as_options(config: dict) -> list[str]:
    """`config` as `csp train` options (--set KEY=VALUE each)."""
    return [arg for key, value in config.items() for arg in ("--set", f"{key}={value}")]


def searched(task, puzzle, probabilities, unique, queries=1):
    """Run the task's guided search to its end, answering every question with `probabilities`
    (a function of the grid asked about, or one fixed array)."""
    search = task.guided_search(puzzle, unique, queries)
    answer = probabilities if callable(probabilities) else (lambda grid: probabilities)
    try:
        grid = next(search)
        while True:
            grid = search.send(answer(grid))
    except StopIteration as done:
        return done.value
