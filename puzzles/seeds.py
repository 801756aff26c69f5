"""Named random streams, one per use of generated puzzles, so that no two uses can share puzzles.

A training pool, a held-out evaluation set and a benchmark's `gen:` set each draw from
`stream(use, seed)`: a NumPy SeedSequence whose spawn key names the use. Two streams with
different uses differ in their spawn key whatever their seeds, so their states are drawn
independently (no seed arithmetic can make a benchmark regenerate a training pool).
`child(seq, k)` derives the k-th sub-stream (a chunk of puzzles, a difficulty) reproducibly,
whatever the number of worker processes.
"""

from __future__ import annotations

import numpy as np

USES = {"pool": 1, "held-out": 2, "bench": 3}


def stream(use: str, seed: int) -> np.random.SeedSequence:
    """The stream of `use` ("pool", "held-out" or "bench") for a user's `seed` (an integer >= 0)."""
    if seed < 0:
        raise ValueError(f"a seed is an integer >= 0, got {seed}")
    return np.random.SeedSequence(entropy=int(seed), spawn_key=(USES[use],))


def child(seq: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    """The sub-stream `key` of `seq` (the same for the same key, unlike `seq.spawn`)."""
    return np.random.SeedSequence(entropy=seq.entropy, spawn_key=(*seq.spawn_key, *key))


def sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """`seed` as a SeedSequence (a plain integer seeds one directly)."""
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(int(seed))
