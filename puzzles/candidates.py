"""What the kinds' compiled searches share: reading a cell's candidate digits, kept as bits.

Pure NumPy and numba; never imports torch.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True)
def surest(prob, i, free):
    """The highest of cell i's probabilities (prob (cells, 9)) over its candidate digits: bit d of `free` is
    digit d + 1."""
    best = -1.0
    for d in range(9):
        if (free >> d) & 1 and prob[i, d] > best:
            best = prob[i, d]
    return best
