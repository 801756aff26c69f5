"""Kakuro for neural models: the encoded grid, the structure a model reads from it, and the run check.

The encoded grid is int64 (H*W,), row-major: 0 an empty white cell, 1-9 a white cell's digit (a given
in a puzzle), and from BLOCK up a cell that is not white, BLOCK + SUMS * down + across (its clue's
sums, 0 where it has none: a blocked cell is BLOCK itself). So an encoded grid says where its runs
are and what they add up to, and everything here is a function of encoded values alone: a training
batch, a held-out set and the sampler's grids each carry their own structure. A smaller puzzle sits
in a larger training canvas padded with BLOCK, which changes no run.

The structure of a grid (`layout`), for any leading batch axes:
- positions int64 (..., T, 6), the model's per-cell input features (FEATURES; their sizes are
  POSITION_SIZES, each embedded as a learned table): each white cell's across run as a (length, sum)
  pair, its down pair, its across sum, its down sum, and its index in each run; 0 for cells that are
  not white. No row or column: one model serves every size.
- neighbours int64 (..., T, SLOTS): slot 0 the cell itself, then the cells of its across run at
  offsets -8..-1, 1..8 (RUN_SLOTS[0]), then those of its down run (RUN_SLOTS[1]); -1 where there is
  none. A cell that is not white lists itself only. Attention has a learned bias per slot, so a cell
  knows each run mate's offset.

`broken` is the run rule on grids (NumPy; constraints.Sum is the sampler's torch reading of it): a
filled cell is broken when a run of its repeats its digit or can no longer meet its sum with
different digits in its empty cells (`reachable`, exact, not a min/max bound).

Pure NumPy; never imports torch.
"""

from __future__ import annotations

from functools import cache
from itertools import combinations

import numpy as np

from puzzles.kakuro.grid import MAX_RUN, Kakuro

BLOCK = 10  # the first encoded value of a cell that is not white (MASK and the nine digits come below it)
SUMS = 46  # a sum is 0 (none) to 45
OFFSETS = (*range(-(MAX_RUN - 1), 0), *range(1, MAX_RUN))  # a run mate's offset along its run
SLOTS = 1 + 2 * len(OFFSETS)  # self, the across mates, the down mates
RUN_SLOTS = ((1, 1 + len(OFFSETS)), (1 + len(OFFSETS), SLOTS))  # [start, end) of the across, the down mates
FEATURES = ("across pair", "down pair", "across sum", "down sum", "across index", "down index")
POSITION_SIZES = ((MAX_RUN + 1) * SUMS, (MAX_RUN + 1) * SUMS, SUMS, SUMS, MAX_RUN, MAX_RUN)
TOTALS = (2, 3)  # the positions' columns holding a cell's across and down sums


def encode(k: Kakuro) -> np.ndarray:
    """int64 (H*W,): the puzzle's digits in its white cells, its clues in the others."""
    clue = BLOCK + SUMS * k.down.astype(np.int64) + k.across
    return np.where(k.white, k.digits, clue).reshape(-1).astype(np.int64)


def decode(values: np.ndarray, shape: tuple[int, int]) -> Kakuro:
    """The Kakuro of an encoded grid: its white cells with the digits they hold, its clues. Its structure
    is not checked here (an encoded grid came from a checked puzzle); `Kakuro.runs` checks it when read."""
    g = np.asarray(values, np.int64).reshape(shape)
    white = g < BLOCK
    clue = np.where(white, 0, g - BLOCK)
    return Kakuro(white, np.where(white, g, 0).astype(np.int8), (clue % SUMS).astype(np.int16),
                  (clue // SUMS).astype(np.int16))


def pad(values: np.ndarray, shape: tuple[int, int], canvas: tuple[int, int], at: tuple[int, int]) -> np.ndarray:
    """An encoded grid of `shape` placed at `at` in a `canvas` of blocked cells, flat."""
    out = np.full(canvas, BLOCK, np.int64)
    out[at[0]:at[0] + shape[0], at[1]:at[1] + shape[1]] = np.asarray(values).reshape(shape)
    return out.reshape(-1)


def _along(white: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(head, length, index) of each cell's run along the last axis: the index of the cell before the run
    (-1 at the edge), its cells, the cell's place in it (meaningful on white cells only)."""
    n = white.shape[-1]
    at = np.arange(n)
    before = np.maximum.accumulate(np.where(white, -1, at), axis=-1)
    after = np.flip(np.minimum.accumulate(np.flip(np.where(white, n, at), -1), axis=-1), -1)
    return before, after - before - 1, at - before - 1


def layout(values: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(positions (..., T, 6), neighbours (..., T, SLOTS)) of encoded grids (..., T) of `shape` (module doc)."""
    v = np.asarray(values, np.int64)
    lead, (H, W) = v.shape[:-1], shape
    g = v.reshape(*lead, H, W)
    white = g < BLOCK
    clue = np.where(white, 0, g - BLOCK)
    a_head, a_len, a_idx = _along(white)
    d_head, d_len, d_idx = (x.swapaxes(-1, -2) for x in _along(white.swapaxes(-1, -2)))
    a_sum = np.where(white & (a_head >= 0), np.take_along_axis(clue % SUMS, a_head.clip(0), axis=-1), 0)
    d_sum = np.where(white & (d_head >= 0), np.take_along_axis(clue // SUMS, d_head.clip(0), axis=-2), 0)
    a_len, d_len = np.where(white, a_len, 0), np.where(white, d_len, 0)
    a_idx, d_idx = np.where(white, a_idx, 0), np.where(white, d_idx, 0)
    positions = np.stack([a_len.clip(max=MAX_RUN) * SUMS + a_sum, d_len.clip(max=MAX_RUN) * SUMS + d_sum, a_sum, d_sum,
                          a_idx.clip(max=MAX_RUN - 1), d_idx.clip(max=MAX_RUN - 1)], axis=-1)
    cell = np.arange(H * W).reshape(H, W)
    table = np.full((*lead, H, W, SLOTS), -1, np.int64)
    table[..., 0] = cell
    for k, o in enumerate(OFFSETS):
        table[..., RUN_SLOTS[0][0] + k] = np.where(white & (a_idx + o >= 0) & (a_idx + o < a_len), cell + o, -1)
        table[..., RUN_SLOTS[1][0] + k] = np.where(white & (d_idx + o >= 0) & (d_idx + o < d_len), cell + o * W, -1)
    return positions.reshape(*lead, H * W, len(FEATURES)).astype(np.int64), table.reshape(*lead, H * W, SLOTS)


@cache
def reachable() -> np.ndarray:
    """bool (512, MAX_RUN + 1, SUMS): [used, k, rest] is whether k different digits, none of them in the
    bit set `used` (bit d-1 for digit d), can add up to `rest`."""
    out = np.zeros((1 << 9, MAX_RUN + 1, SUMS), bool)
    masks = np.arange(1 << 9)
    for k in range(MAX_RUN + 1):
        for combo in combinations(range(1, 10), k):
            bits = sum(1 << (d - 1) for d in combo)
            out[masks & bits == 0, k, sum(combo)] = True
    return out


POPCOUNT = np.array([bin(m).count("1") for m in range(1 << 9)], np.int64)


def broken(values: np.ndarray, positions: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """bool (..., T): filled white cells of encoded grids (..., T) with a run that repeats a digit or whose
    empty cells can no longer meet its sum with digits different from each other and from the filled ones
    (structure: `layout` of the same grids, or of one grid for all of them)."""
    v = np.asarray(values, np.int64)
    white = positions[..., 0] > 0
    digits = np.where(white & (v < BLOCK), v, 0)
    filled = digits > 0
    out = np.zeros(v.shape, bool)
    for (lo, hi), total in zip(RUN_SLOTS, TOTALS):
        mates = np.broadcast_to(neighbours[..., lo:hi], (*v.shape, hi - lo))
        held = np.take_along_axis(digits, mates.clip(0).reshape(*v.shape[:-1], -1), axis=-1).reshape(mates.shape)
        held = np.where(mates >= 0, held, 0)
        run = np.concatenate([digits[..., None], held], axis=-1)
        members = 1 + (mates >= 0).sum(-1)
        bits = np.bitwise_or.reduce(np.where(run > 0, 1 << (run - 1).clip(0), 0), axis=-1)
        count = (run > 0).sum(-1)
        rest = np.broadcast_to(positions[..., total], v.shape) - run.sum(-1)
        ok = (POPCOUNT[bits] == count) & (rest >= 0) & (rest < SUMS)
        ok &= reachable()[bits, (members - count).clip(0, MAX_RUN), rest.clip(0, SUMS - 1)]
        repeats = (held == digits[..., None]).any(-1)
        out |= filled & (repeats | ~ok)
    return out


def transpose(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Encoded grids (..., H*W) mirrored about the main diagonal, flat (..., W*H): across runs become down
    runs, so each clue's two sums swap. A symmetry: the answers mirror too."""
    v = np.asarray(values, np.int64)
    g = v.reshape(*v.shape[:-1], *shape).swapaxes(-1, -2)
    clue = g - BLOCK
    g = np.where(g < BLOCK, g, BLOCK + SUMS * (clue % SUMS) + clue // SUMS)
    return g.reshape(v.shape)


def complement(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Encoded grids (..., T) with every digit d written 10 - d and every sum S of an L-cell run 10 L - S. A
    symmetry: different digits stay different and each run's sum follows, so the answers complement too."""
    v = np.asarray(values, np.int64)
    g = v.reshape(*v.shape[:-1], *shape)
    white = g < BLOCK
    clue = np.where(white, 0, g - BLOCK)
    across, down = clue % SUMS, clue // SUMS
    right, below = np.zeros_like(g), np.zeros_like(g)  # the length of the run right of / below each cell
    right[..., :-1] = np.where(white[..., 1:], _along(white)[1][..., 1:], 0)
    below[..., :-1, :] = np.where(white[..., 1:, :], _along(white.swapaxes(-1, -2))[1].swapaxes(-1, -2)[..., 1:, :], 0)
    across = np.where(across > 0, 10 * right - across, 0)
    down = np.where(down > 0, 10 * below - down, 0)
    out = np.where(white, np.where(g > 0, 10 - g, 0), BLOCK + SUMS * down + across)
    return out.reshape(v.shape)
