"""A compiled, complete Kakuro search: propagation over each run's digit sets, the most-constrained cell
first, depth-first.

Each white cell keeps its candidates as bits (bit d-1 for digit d; one bit: the cell is decided). A run
of L cells adding up to S holds one of the sets of L different digits summing to S (`COMBOS`, at most
12 of them, precomputed for every length and sum). Propagation keeps, for each run, only the sets its
cells can still take: each cell has a candidate in the set, every digit of the set has a cell that can
take it, and a digit only one cell can take is that cell's (so two cells cannot both need it); a cell's
candidates become what the sets left to its two runs give it, and every run of a changed cell is looked
at again, to a fixed point. That is stronger than `oracle.domains` (which narrows each cell to the
digits its runs allow given their decided cells only, `oracle.digits_for`): it also decides a cell that
is the only place left for a digit its run needs. A fully decided grid that propagation accepts is a
solution (each run's cells are then one set, different digits with the run's sum).

The search decides the cell with the fewest candidates next (two or more: one is decided already),
trying its digits in a given order (ascending without a model) and propagating each; a contradiction (a
cell or run left with nothing) backs up. It is complete, so "no solution" and (with a limit of 2) "more
than one solution" are proved, not guessed. Counted as the Sudoku search (puzzles/sudoku/search.py)
counts for the hybrid: nodes are the digits tried at cells with more than one candidate until the first
solution, and the wrong tries among them (0: the order led straight to the answer). With a model's
probabilities, each cell's digits are tried most probable first and, with `model_ties`, ties between
equally constrained cells go to the cell whose likeliest candidate is surest (as the Sudoku hybrid does);
without it they go to the first such cell in row-major order, as in the model-free search.

numba compiles it (cached; `nogil`, so the hybrid runs several searches in threads). No torch.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from numba import njit

from puzzles.candidates import surest
from puzzles.kakuro.grid import MAX_RUN, Kakuro

SUMS = 46  # a run's sum is at most 45
ALL = (1 << 9) - 1


def _combos() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, count: int32 (MAX_RUN + 1, SUMS), where each length's and sum's sets lie in `masks`; masks: int32,
    every set of different digits 1-9 as bits, grouped by (length, sum))."""
    groups: dict[tuple[int, int], list[int]] = {}
    for k in range(1, MAX_RUN + 1):
        for combo in combinations(range(1, 10), k):
            groups.setdefault((k, sum(combo)), []).append(sum(1 << (d - 1) for d in combo))
    start, count = np.zeros((MAX_RUN + 1, SUMS), np.int32), np.zeros((MAX_RUN + 1, SUMS), np.int32)
    masks: list[int] = []
    for (k, s), sets in sorted(groups.items()):
        start[k, s], count[k, s] = len(masks), len(sets)
        masks.extend(sets)
    return start, count, np.array(masks, np.int32)


COMBO_START, COMBO_COUNT, COMBOS = _combos()
POPCOUNT = np.array([bin(m).count("1") for m in range(1 << 9)], np.int32)
ASCENDING = np.arange(1, 10, dtype=np.int8)


def structure(k: Kakuro) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(cells: each white cell's flat index, row-major, int64 (n,); its across and down run, int32 (n, 2);
    each run's cells (as white-cell numbers, -1 past its end), int32 (R, MAX_RUN); each run's length and sum,
    int32 (R,) each; the givens, int8 (n,), 0 where open)."""
    h, w = k.shape
    cells = np.flatnonzero(k.white.reshape(-1))
    index = np.full(h * w, -1, np.int64)
    index[cells] = np.arange(len(cells))
    runs = np.zeros((len(cells), 2), np.int32)
    members = np.full((len(k.runs), MAX_RUN), -1, np.int32)
    length, total = np.zeros(len(k.runs), np.int32), np.zeros(len(k.runs), np.int32)
    for r, run in enumerate(k.runs):
        side = 0 if run.direction == "across" else 1
        for j, (row, col) in enumerate(run.cells):
            runs[index[row * w + col], side] = r
            members[r, j] = index[row * w + col]
        length[r], total[r] = len(run.cells), run.total
    givens = k.digits.reshape(-1)[cells].astype(np.int8)
    return cells, runs, members, length, total, givens


@njit(cache=True, nogil=True)
def _revise(r, dom, members, length, total, start, count, masks, popcount):
    """Run r's cells' candidates narrowed to what its digit sets still allow (module doc), in `dom`: returns -1
    on a contradiction, else how many cells changed."""
    L = length[r]
    support = np.zeros(MAX_RUN, np.int32)
    opts = np.zeros(MAX_RUN, np.int32)
    s0 = start[L, total[r]]
    for c in range(count[L, total[r]]):
        C = masks[s0 + c]
        ok = True
        union = 0
        for j in range(L):
            o = dom[members[r, j]] & C
            if o == 0:
                ok = False
                break
            opts[j] = o
            union |= o
        if not ok or union != C:
            continue
        again = True
        while ok and again:  # within the set: a decided cell's digit leaves the others, a digit one cell can take is its
            again = False
            for j in range(L):
                if popcount[opts[j]] == 1:
                    for m in range(L):
                        if m != j and opts[m] & opts[j]:
                            opts[m] &= ~opts[j]
                            if opts[m] == 0:
                                ok = False
                            again = True
            if not ok:
                break
            for b in range(9):
                if (C >> b) & 1:
                    only = -1
                    seen = 0
                    for j in range(L):
                        if (opts[j] >> b) & 1:
                            seen += 1
                            only = j
                    if seen == 0:
                        ok = False
                        break
                    if seen == 1 and opts[only] != (1 << b):
                        opts[only] = 1 << b
                        again = True
        if not ok:
            continue
        for j in range(L):
            support[j] |= opts[j]
    changed = 0
    for j in range(L):
        i = members[r, j]
        new = dom[i] & support[j]
        if new == 0:
            return -1
        if new != dom[i]:
            dom[i] = new
            changed += 1
    return changed


@njit(cache=True, nogil=True)
def _propagate(dom, first, runs, members, length, total, start, count, masks, popcount, queue, queued):
    """Narrow `dom` (int32 (n,) candidate bits, in place) to the fixed point, starting from the runs of cell
    `first` (-1: every run). False on a contradiction. `queue`, `queued`: scratch, int32 (R,) and bool (R,)."""
    R = len(length)
    head = 0
    size = 0
    if first < 0:
        for r in range(R):
            queue[r] = r
            queued[r] = True
        size = R
    else:
        for s in range(2):
            queue[size] = runs[first, s]
            queued[runs[first, s]] = True
            size += 1
    before = np.empty(MAX_RUN, np.int32)
    while size > 0:
        r = queue[head]
        head = (head + 1) % R
        size -= 1
        queued[r] = False
        for j in range(length[r]):
            before[j] = dom[members[r, j]]
        changed = _revise(r, dom, members, length, total, start, count, masks, popcount)
        if changed < 0:
            for q in range(R):
                queued[q] = False
            return False
        if changed:
            for j in range(length[r]):
                i = members[r, j]
                if dom[i] != before[j]:
                    for s in range(2):
                        if not queued[runs[i, s]]:
                            queue[(head + size) % R] = runs[i, s]
                            queued[runs[i, s]] = True
                            size += 1
    return True


@njit(cache=True, nogil=True)
def _digits(dom, popcount):
    """int8 (n,): each decided cell's digit, 0 where a cell has several candidates."""
    out = np.zeros(len(dom), np.int8)
    for i in range(len(dom)):
        if popcount[dom[i]] == 1:
            d = 1
            while not (dom[i] >> (d - 1)) & 1:
                d += 1
            out[i] = d
    return out


@njit(cache=True, nogil=True)
def _start(givens):
    dom = np.empty(len(givens), np.int32)
    for i in range(len(givens)):
        dom[i] = ALL if givens[i] == 0 else 1 << (givens[i] - 1)
    return dom


@njit(cache=True, nogil=True)  # the hybrid runs several at once, in threads
def _search(givens, runs, members, length, total, limit, order, prob, start, count, masks, popcount):
    """Depth-first search from `givens` (int8 (n,), 0 open): returns (solutions found up to `limit`, nodes
    until the first solution, wrong tries among them, first solution (int8 (n,)) or zeros). order: int8 (n, 9),
    the digits in the order each cell tries them; prob: float32 (n, 9), ties between equally constrained cells
    go to the surest (all equal: the first cell)."""
    n = len(givens)
    R = len(length)
    first = np.zeros(n, np.int8)
    queue = np.empty(R, np.int32)
    queued = np.zeros(R, np.bool_)
    doms = np.empty((n + 1, n), np.int32)  # doms[t]: the candidates at depth t, after propagation
    doms[0] = _start(givens)
    if not _propagate(doms[0], -1, runs, members, length, total, start, count, masks, popcount, queue, queued):
        return 0, 0, 0, first
    cell_at = np.empty(n + 1, np.int32)
    next_at = np.empty(n + 1, np.int32)
    depth = 0
    found = 0
    nodes = 0
    wrong = 0
    pick = True
    while True:
        if pick:
            dom = doms[depth]
            best = -1
            best_count = 10
            best_p = -2.0
            for i in range(n):
                c = popcount[dom[i]]
                if c < 2:
                    continue
                if c < best_count:
                    best_count = c
                    best = i
                    best_p = surest(prob, i, dom[i])
                elif c == best_count:
                    q = surest(prob, i, dom[i])
                    if q > best_p:
                        best = i
                        best_p = q
            if best == -1:  # every cell decided, and propagation accepted it: a solution
                found += 1
                if found == 1:
                    first[:] = _digits(dom, popcount)
                if found >= limit:
                    return found, nodes, wrong, first
                depth -= 1
            else:
                cell_at[depth] = best
                next_at[depth] = 0
        # the deepest cell's next digit that propagates; a cell out of digits is popped
        pick = False
        while depth >= 0:
            i = cell_at[depth]
            free = doms[depth, i]
            k = next_at[depth]
            while k < 9 and not (free >> (order[i, k] - 1)) & 1:
                k += 1
            if k == 9:
                depth -= 1
                continue
            if found == 0:
                nodes += 1
                if next_at[depth] > 0:
                    wrong += 1
            next_at[depth] = k + 1
            doms[depth + 1] = doms[depth]
            doms[depth + 1, i] = 1 << (order[i, k] - 1)
            if _propagate(doms[depth + 1], i, runs, members, length, total, start, count, masks, popcount, queue,
                          queued):
                depth += 1
                pick = True
                break
        if depth < 0:
            return found, nodes, wrong, first


@njit(cache=True, nogil=True)
def _root(givens, runs, members, length, total, start, count, masks, popcount):
    """(status: -1 a contradiction, 0 solved, 1 a branch; each cell's digit after propagation, 0 where open)."""
    R = len(length)
    dom = _start(givens)
    if not _propagate(dom, -1, runs, members, length, total, start, count, masks, popcount, np.empty(R, np.int32),
                      np.zeros(R, np.bool_)):
        return -1, _digits(dom, popcount)
    g = _digits(dom, popcount)
    for i in range(len(g)):
        if g[i] == 0:
            return 1, g
    return 0, g


class Search:
    """One puzzle's search: its structure read once, searched with or without a model's probabilities."""

    def __init__(self, puzzle: Kakuro):
        self.puzzle = puzzle
        self.cells, self.runs, self.members, self.length, self.total, self.givens = structure(puzzle)

    def grid(self, values: np.ndarray) -> np.ndarray:
        """int8 (H, W): `values` (n,), one per white cell, on the grid, 0 elsewhere."""
        out = np.zeros(self.puzzle.white.size, np.int8)
        out[self.cells] = values
        return out.reshape(self.puzzle.shape)

    def run(self, limit: int = 2, probabilities: np.ndarray | None = None, model_ties: bool = True):
        """(solutions found up to `limit`, nodes until the first, wrong tries among them, the first solution as
        int8 (H, W) or None). `probabilities`: float (H*W, 9), the model's belief in each digit of each cell of
        the grid, which orders each cell's digits and, with `model_ties`, breaks ties between equally
        constrained cells (None: ascending digits, ties to the first cell: the model-free search)."""
        n = len(self.cells)
        order = np.ascontiguousarray(np.broadcast_to(ASCENDING, (n, 9)))
        prob = np.zeros((n, 9), np.float32)  # all alike: ties go to the first cell
        if probabilities is not None:
            p = np.ascontiguousarray(np.asarray(probabilities, np.float32).reshape(-1, 9)[self.cells])
            order = np.ascontiguousarray(np.argsort(-p, axis=1, kind="stable").astype(np.int8) + 1)
            prob = p if model_ties else prob
        found, nodes, wrong, first = _search(self.givens, self.runs, self.members, self.length, self.total, limit,
                                             order, prob, COMBO_START, COMBO_COUNT, COMBOS, POPCOUNT)
        return int(found), int(nodes), int(wrong), self.grid(first) if found else None

    def propagate(self) -> tuple[int, np.ndarray]:
        """(status: -1 a contradiction, 0 solved, 1 a branch; the digits propagation decides from the givens,
        int8 (H, W), 0 where a cell is open)."""
        status, g = _root(self.givens, self.runs, self.members, self.length, self.total, COMBO_START, COMBO_COUNT,
                          COMBOS, POPCOUNT)
        return int(status), self.grid(g)


def solve(k: Kakuro, limit: int = 2, probabilities: np.ndarray | None = None):
    """`Search(k).run(limit, probabilities)`: (solutions up to `limit`, nodes, wrong tries, first solution
    int8 (H, W) or None)."""
    return Search(k).run(limit, probabilities)


def count(k: Kakuro, limit: int = 2) -> tuple[int, np.ndarray | None]:
    """(solutions, stopping at `limit`, so `limit` means "at least that many"; the first one or None)."""
    found, _, _, first = Search(k).run(limit)
    return found, first
