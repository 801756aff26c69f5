"""The compiled breadth-first search that the walls generator (thousands of searches a maze) and the CP-SAT
oracle (a 1500 x 1500 room) share; numba is imported by whoever imports this module, so the CLI imports it
only when a maze is generated or solved exactly."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def bfs(free: np.ndarray, h: int, w: int, src: int) -> np.ndarray:
    """int64 (h * w): steps from `src` to each cell of the flat open-cell mask `free`, -1 where unreachable
    (`maze.distances`, compiled: a 1500 x 1500 room in milliseconds, not seconds)."""
    dist = np.full(h * w, -1, np.int64)
    queue = np.empty(h * w, np.int64)
    dist[src], queue[0] = 0, src
    head, tail = 0, 1
    while head < tail:
        i = queue[head]
        head += 1
        r, c = i // w, i % w
        for j, ok in ((i - w, r > 0), (i + 1, c < w - 1), (i + w, r < h - 1), (i - 1, c > 0)):
            if ok and free[j] and dist[j] < 0:
                dist[j] = dist[i] + 1
                queue[tail] = j
                tail += 1
    return dist
