"""A compiled backtracking search for 9x9 Sudoku: counting, rating and random full grids.

One iterative depth-first search with the most-constrained-cell rule (the empty
cell with fewest candidates is filled next; a cell with one candidate is a
forced move, not a guess). It is the independent solution counter behind
uniqueness checks, the difficulty rating (guesses needed to finish the whole
search tree: how much search it takes to solve *and* prove uniqueness) and the
generator of random solution grids. numba compiles it; the cache makes the
compile a one-off.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from puzzles.candidates import surest

_POPCOUNT = np.array([bin(m).count("1") for m in range(512)], dtype=np.int8)
_ROW = np.array([i // 9 for i in range(81)], dtype=np.int8)
_COL = np.array([i % 9 for i in range(81)], dtype=np.int8)
_BOX = np.array([(i // 27) * 3 + (i % 9) // 3 for i in range(81)], dtype=np.int8)
_ASCENDING = np.tile(np.arange(1, 10, dtype=np.int8), (81, 1))


@njit(cache=True)
def _used(g, row, col, box):
    """(whether `g`'s digits clash, the digit bits each row, column and box holds)."""
    rows = np.zeros(9, np.int32)
    cols = np.zeros(9, np.int32)
    boxes = np.zeros(9, np.int32)
    for i in range(81):
        d = g[i]
        if d != 0:
            bit = 1 << (d - 1)
            if (rows[row[i]] | cols[col[i]] | boxes[box[i]]) & bit:
                return True, rows, cols, boxes
            rows[row[i]] |= bit
            cols[col[i]] |= bit
            boxes[box[i]] |= bit
    return False, rows, cols, boxes


@njit(cache=True)
def _search(grid, limit, order, popcount, row, col, box):
    """Depth-first search from `grid` (int8[81], 0 = blank).

    order: int8[81, 9], the digit order tried in each cell (ascending for counting,
    shuffled for random grids). Returns (solutions found up to `limit`, guesses,
    first solution or zeros). A contradictory grid has 0 solutions.
    """
    g = grid.copy()
    clash, rows, cols, boxes = _used(g, row, col, box)
    if clash:
        return 0, 0, np.zeros(81, np.int8)
    first = np.zeros(81, np.int8)
    stack_cell = np.empty(82, np.int32)
    stack_next = np.empty(82, np.int32)
    depth = 0
    found = 0
    guesses = 0
    descend = True
    while True:
        if descend:
            best = -1
            best_count = 10
            for i in range(81):
                if g[i] == 0:
                    free = ~(rows[row[i]] | cols[col[i]] | boxes[box[i]]) & 0x1FF
                    c = popcount[free]
                    if c < best_count:
                        best_count = c
                        best = i
                        if c <= 1:
                            break
            if best == -1:
                found += 1
                if found == 1:
                    first[:] = g
                if found >= limit:
                    return found, guesses, first
            elif best_count > 0:
                if best_count > 1:
                    guesses += 1
                stack_cell[depth] = best
                stack_next[depth] = 0
                depth += 1
        # advance the top frame to its next candidate digit, popping exhausted frames
        descend = False
        while depth > 0:
            i = stack_cell[depth - 1]
            if g[i] != 0:
                bit = 1 << (g[i] - 1)
                rows[row[i]] &= ~bit
                cols[col[i]] &= ~bit
                boxes[box[i]] &= ~bit
                g[i] = 0
            free = ~(rows[row[i]] | cols[col[i]] | boxes[box[i]]) & 0x1FF
            k = stack_next[depth - 1]
            while k < 9 and not (free >> (order[i, k] - 1)) & 1:
                k += 1
            if k < 9:
                d = order[i, k]
                stack_next[depth - 1] = k + 1
                bit = 1 << (d - 1)
                rows[row[i]] |= bit
                cols[col[i]] |= bit
                boxes[box[i]] |= bit
                g[i] = d
                descend = True
                break
            depth -= 1
        if not descend:
            return found, guesses, first


_NO_MODEL = np.zeros((81, 9), np.float32)  # every candidate alike: ties go to the first cell


@njit(cache=True, nogil=True)  # the hybrid runs several at once, in threads
def _counted_search(grid, limit, order, prob, popcount, row, col, box):
    """`_search` with the hybrid's counters and the branching cell's ties broken by the most probable of
    its candidates in `prob` (float32 (81, 9); all equal: the first cell, the model-free search the hybrid
    is measured against): returns (solutions found up to `limit`, nodes (digits tried at cells with more
    than one candidate) until the first solution, wrong tries among them (0: found without a backtrack),
    first solution or zeros)."""
    g = grid.copy()
    clash, rows, cols, boxes = _used(g, row, col, box)
    if clash:
        return 0, 0, 0, np.zeros(81, np.int8)
    first = np.zeros(81, np.int8)
    stack_cell = np.empty(82, np.int32)
    stack_next = np.empty(82, np.int32)
    stack_branch = np.zeros(82, np.bool_)
    depth = 0
    found = 0
    nodes = 0
    wrong = 0
    descend = True
    while True:
        if descend:
            best = -1
            best_count = 10
            best_p = -2.0
            for i in range(81):
                if g[i] == 0:
                    free = ~(rows[row[i]] | cols[col[i]] | boxes[box[i]]) & 0x1FF
                    c = popcount[free]
                    if c < best_count:
                        best_count = c
                        best = i
                        if c <= 1:
                            break
                        best_p = surest(prob, i, free)
                    elif c == best_count:
                        q = surest(prob, i, free)
                        if q > best_p:
                            best = i
                            best_p = q
            if best == -1:
                found += 1
                if found == 1:
                    first[:] = g
                if found >= limit:
                    return found, nodes, wrong, first
            elif best_count > 0:
                stack_cell[depth] = best
                stack_next[depth] = 0
                stack_branch[depth] = best_count > 1
                depth += 1
        descend = False
        while depth > 0:
            i = stack_cell[depth - 1]
            if g[i] != 0:
                bit = 1 << (g[i] - 1)
                rows[row[i]] &= ~bit
                cols[col[i]] &= ~bit
                boxes[box[i]] &= ~bit
                g[i] = 0
            free = ~(rows[row[i]] | cols[col[i]] | boxes[box[i]]) & 0x1FF
            k = stack_next[depth - 1]
            while k < 9 and not (free >> (order[i, k] - 1)) & 1:
                k += 1
            if k < 9:
                d = order[i, k]
                if stack_branch[depth - 1] and found == 0:
                    nodes += 1
                    if stack_next[depth - 1] > 0:
                        wrong += 1
                stack_next[depth - 1] = k + 1
                bit = 1 << (d - 1)
                rows[row[i]] |= bit
                cols[col[i]] |= bit
                boxes[box[i]] |= bit
                g[i] = d
                descend = True
                break
            depth -= 1
        if not descend:
            return found, nodes, wrong, first


def counted_search(grid: np.ndarray, limit: int = 2, probabilities: np.ndarray | None = None
                   ) -> tuple[int, int, int, np.ndarray]:
    """The most-constrained-cell search, compiled, counted as the hybrid is: (solutions up to `limit`,
    nodes until the first, wrong tries among them, first solution). `probabilities` (float (81, 9), one
    model answer for the whole search) order each cell's digits, most probable first, and break ties
    between equally constrained cells by the surest of their candidates; None: digits ascending, ties to the first cell (the
    model-free search; `guided` with queries=0 searches alike)."""
    g = np.ascontiguousarray(grid, dtype=np.int8)
    if probabilities is None:
        return _counted_search(g, limit, _ASCENDING, _NO_MODEL, _POPCOUNT, _ROW, _COL, _BOX)
    p = np.ascontiguousarray(probabilities, dtype=np.float32)
    order = np.ascontiguousarray(np.argsort(-p, axis=1, kind="stable").astype(np.int8) + 1)
    return _counted_search(g, limit, order, p, _POPCOUNT, _ROW, _COL, _BOX)


@njit(cache=True)
def _solver_order(grid, solution, popcount, row, col, box):
    """The order a human-style propagation solver fills `grid`'s blanks (int8[81] each; `solution` its
    answer): each move is the first naked single (a cell with one candidate) in row-major order, else
    the first hidden single (a digit with one place in a row, column or box, units in that order), else
    a guess at the first cell with fewest candidates, written with its solution value. Returns (the
    cells, int16[blanks], in the order filled; how many of the moves were guesses)."""
    g = grid.copy()
    blanks = 0
    for i in range(81):
        if g[i] == 0:
            blanks += 1
    out = np.empty(blanks, np.int16)
    free = np.zeros(81, np.int32)
    guesses = 0
    for n in range(blanks):
        for i in range(81):
            free[i] = 0
            if g[i] == 0:
                used = 0
                for j in range(81):
                    if g[j] != 0 and (row[j] == row[i] or col[j] == col[i] or box[j] == box[i]):
                        used |= 1 << (g[j] - 1)
                free[i] = ~used & 0x1FF
        pick = -1
        for i in range(81):  # a naked single
            if g[i] == 0 and popcount[free[i]] == 1:
                pick = i
                break
        if pick == -1:  # a hidden single: unit kind u (row, column, box), unit k, digit d
            for u in range(3):
                for k in range(9):
                    for d in range(9):
                        seen, where = 0, -1
                        for i in range(81):
                            inside = row[i] == k if u == 0 else (col[i] == k if u == 1 else box[i] == k)
                            if inside and g[i] == 0 and (free[i] >> d) & 1:
                                seen += 1
                                where = i
                        if seen == 1:
                            pick = where
                            break
                    if pick != -1:
                        break
                if pick != -1:
                    break
        if pick == -1:  # a guess, at the most constrained cell
            guesses += 1
            best = 10
            for i in range(81):
                if g[i] == 0 and popcount[free[i]] < best:
                    best = popcount[free[i]]
                    pick = i
        g[pick] = solution[pick]
        out[n] = pick
    return out, guesses


def solver_order(grid: np.ndarray, solution: np.ndarray) -> np.ndarray:
    """The blanks of `grid` in the order a propagation solver fills them (see `_solver_order`)."""
    return _solver_order(np.ascontiguousarray(grid, dtype=np.int8), np.ascontiguousarray(solution, dtype=np.int8),
                         _POPCOUNT, _ROW, _COL, _BOX)[0]


def singles_guesses(grid: np.ndarray, solution: np.ndarray) -> int:
    """Guesses a solver that knows naked and hidden singles must make on its way to `solution` (each guess
    right): 0 for a puzzle singles alone solve, a rating of the reasoning a puzzle needs, where `rating`
    measures the size of a naked-singles search tree (see `_solver_order`)."""
    return int(_solver_order(np.ascontiguousarray(grid, dtype=np.int8), np.ascontiguousarray(solution, dtype=np.int8),
                             _POPCOUNT, _ROW, _COL, _BOX)[1])


def search(grid: np.ndarray, limit: int = 2, order: np.ndarray | None = None) -> tuple[int, int, np.ndarray]:
    """Count solutions of `grid` (int8[81], 0 blank) up to `limit`; see `_search`."""
    g = np.ascontiguousarray(grid, dtype=np.int8)
    o = _ASCENDING if order is None else np.ascontiguousarray(order, dtype=np.int8)
    return _search(g, limit, o, _POPCOUNT, _ROW, _COL, _BOX)


def count_solutions(grid: np.ndarray, limit: int = 2) -> int:
    """Number of solutions, stopping at `limit` (so `limit` means "at least that many")."""
    return int(search(grid, limit)[0])


def rating(grid: np.ndarray) -> int:
    """Guesses the most-constrained-cell search makes to exhaust the tree (0 = singles suffice)."""
    return int(search(grid, 2)[1])


def random_solution(rng: np.random.Generator) -> np.ndarray:
    """A random complete, valid grid (int8[81])."""
    order = np.argsort(rng.random((81, 9)), axis=1).astype(np.int8) + 1
    n, _, sol = search(np.zeros(81, np.int8), 1, order)
    assert n == 1
    return sol


@njit(cache=True, nogil=True)
def _propagate(g, popcount, row, col, box):
    """Fill `g`'s forced cells (int8[81], in place) by the most-constrained-cell rule until none is left.
    Returns (status, free): status -1 a contradiction (clashing digits or a cell with no candidate), 0 solved,
    1 a branch (every blank has two or more candidates); free int32[81], each blank's candidate bits."""
    free = np.zeros(81, np.int32)
    clash, rows, cols, boxes = _used(g, row, col, box)
    if clash:
        return -1, free
    while True:
        forced = -1
        blanks = 0
        for i in range(81):
            if g[i] == 0:
                blanks += 1
                f = ~(rows[row[i]] | cols[col[i]] | boxes[box[i]]) & 0x1FF
                free[i] = f
                c = popcount[f]
                if c == 0:
                    return -1, free
                if c == 1 and forced == -1:
                    forced = i
            else:
                free[i] = 0
        if blanks == 0:
            return 0, free
        if forced == -1:
            return 1, free
        f = free[forced]
        d = 1
        while not (f >> (d - 1)) & 1:
            d += 1
        bit = 1 << (d - 1)
        rows[row[forced]] |= bit
        cols[col[forced]] |= bit
        boxes[box[forced]] |= bit
        g[forced] = d


def propagate(grid: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(status, grid with its forced cells filled, candidate bits per cell); see `_propagate`."""
    g = np.array(grid, dtype=np.int8)
    status, free = _propagate(g, _POPCOUNT, _ROW, _COL, _BOX)
    return int(status), g, free


def guided(grid: np.ndarray, limit: int = 2, queries: int = 1):
    """The most-constrained-cell search as a coroutine that asks for probabilities: it yields a grid
    (int8[81], the puzzle plus the search's current assignments) and takes float (81, 9) back by `send`,
    at the root and at up to `queries` - 1 more branch nodes on the way to the first solution (a node
    without its own uses the nearest ancestor's). At a branch it takes the cell with fewest candidates, ties
    broken by the most probable candidate, and tries its digits most probable first. Returns (solutions
    found up to `limit`, nodes until the first solution, wrong tries among them, first solution or zeros),
    counted as `_counted_search` counts them (queries=0: the same search; queries=1: `counted_search` given
    the root's answer, the same search run compiled)."""
    if queries == 1:  # the root's answer orders the whole search: compiled
        status, g, _ = propagate(grid)
        if status != 1:
            return counted_search(grid, limit)
        return counted_search(grid, limit, (yield g.copy()))
    status, g, free = propagate(grid)
    if status == -1:
        return 0, 0, 0, np.zeros(81, np.int8)
    found, nodes, wrong, asked = 0, 0, 0, 0
    first = np.zeros(81, np.int8)
    stack = []  # (grid at the node, cell, digits in the order tried, next index, probabilities)
    p = None
    while True:
        if status == 0:
            found += 1
            if found == 1:
                first = g.copy()
            if found >= limit:
                return found, nodes, wrong, first
        elif status == 1:
            if found == 0 and asked < queries:
                p = np.asarray((yield g.copy()), dtype=np.float32)
                asked += 1
            counts = _POPCOUNT[free]
            blank = g == 0
            fewest = counts[blank].min()
            bits = (free[:, None] >> np.arange(9)) & 1
            if p is None:
                cell = int(np.flatnonzero(blank & (counts == fewest))[0])
                order = np.flatnonzero(bits[cell]) + 1
            else:
                best = np.where(bits > 0, p, -1.0).max(1)
                tied = np.flatnonzero(blank & (counts == fewest))
                cell = int(tied[np.argmax(best[tied])])
                cand = np.flatnonzero(bits[cell])
                order = cand[np.argsort(-p[cell, cand], kind="stable")] + 1
            stack.append([g, cell, order, 0, p])
        # the next digit of the deepest node with one left; a node out of digits is popped
        while stack:
            node = stack[-1]
            if node[3] < len(node[2]):
                if found == 0:
                    nodes += 1
                    wrong += node[3] > 0
                trial = node[0].copy()
                trial[node[1]] = node[2][node[3]]
                node[3] += 1
                p = node[4]
                status, g, free = propagate(trial)
                break
            stack.pop()
        else:
            return found, nodes, wrong, first
