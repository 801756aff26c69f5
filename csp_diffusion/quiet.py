"""Quiet cells: a looped core's passes on a large sparse grid that recompute only the cells that can change.

On a neighbour-table graph, one pass of the core (inject, then C blocks of one-hop attention) gives a cell
a state that depends only on the states and inputs of the cells within C hops of it. The maze trace model
moves a wave across the grid and then a walk, a cell or so per loop; away from them its state has settled.
So a pass here recomputes only the cells within C hops of a cell whose state moved, since its neighbours
last saw it, by more than `tol` in some channel, and keeps every other cell as it was. With tol 0 that is
the dense pass (the same numbers); a tol of a few bf16 steps ignores the last-bit flicker of a settled
state. The sampler uses it for a cold first step on grids above Sampler.QUIET_CELLS cells; every answer is
verified as ever, and docs/results/maze.md ("Quiet cells") measures the speed and the solve rates against the
dense passes.

The batch's grids are flattened into one graph of B*T cells (each grid's table offset by its first cell),
so each grid keeps its own quiet cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn


class QuietCells:
    """The quiet-cell bookkeeping of one batch of grids over the calls of one sampler step: the prelude's
    output `e`, each cell's state as its neighbours last saw it, and the cells the next pass recomputes."""

    TOL = 0.1  # in state units (the shipped maze model's core state has an RMS of about 2.5; a bf16 step is 1/64)
    PART = 1 << 16  # a pass recomputes at most this many cells at once (the first, over every cell of a batch of
    # large grids, in parts), so its activations stay small

    def __init__(self, table: torch.Tensor, tol: float = TOL):
        self.table, self.tol = table, tol  # table (T, S), -1 = no neighbour
        self.e: torch.Tensor | None = None  # (B, T, dim): the prelude's output, which a step's grid fixes
        self.seen: torch.Tensor | None = None  # (B, T, dim)
        self.active: torch.Tensor | None = None  # bool (B, T): the cells the next pass recomputes
        self.computed = 0  # cell updates run, over all passes (a dense pass runs B * T)

    def keep(self, rows: torch.Tensor) -> None:
        """Keep batch rows `rows` only (bool or long), as the sampler drops grids that settled."""
        for name in ("e", "seen", "active"):
            x = getattr(self, name)
            if x is not None:
                setattr(self, name, x[rows])

    def run(self, h: torch.Tensor, inject: nn.Module, blocks: Sequence[nn.Module], loops: int) -> torch.Tensor:
        """`loops` passes of h <- blocks(inject(h + e)) from state h (B, T, dim), recomputing the cells that
        can change only; returns the new state (h is not modified)."""
        B, T, D = h.shape
        if self.seen is None:
            self.seen, self.active = h.clone(), torch.ones(B, T, dtype=torch.bool, device=h.device)
        offsets = torch.arange(B, device=h.device)[:, None, None] * T
        graph = torch.where(self.table >= 0, self.table + offsets, -1).reshape(B * T, -1)
        state, e, seen = h.reshape(B * T, D).clone(), self.e.reshape(B * T, D), self.seen.view(B * T, D)
        where = torch.empty(B * T, dtype=torch.long, device=h.device)  # a flat cell's row in the computed set
        active = self.active.reshape(-1).nonzero().squeeze(1)
        for _ in range(loops):
            if len(active) == 0:  # every cell settled: the remaining passes change nothing
                break
            x = torch.cat([self._pass(part, state, e, graph, where, inject, blocks) for part in active.split(self.PART)])
            self.computed += len(active)
            state[active] = x.to(state.dtype)
            moved = (x.float() - seen[active].float()).abs().amax(-1) > self.tol
            active = active[moved]
            seen[active] = x[moved].to(seen.dtype)
            for _ in blocks:
                active = self._near(active, graph)
        self.active = torch.zeros(B * T, dtype=torch.bool, device=h.device)
        self.active[active] = True
        self.active = self.active.view(B, T)
        return state.view(B, T, D)

    def _pass(self, cells, state, e, graph, where, inject, blocks) -> torch.Tensor:
        """The next states (len(cells), dim) of flat cells `cells`, from the flat `state`."""
        sets = [cells]  # the cells each block must output, last block first: one hop wider per block
        for _ in blocks:
            sets.append(self._near(sets[-1], graph))
        sets = [self.padded(s) for s in reversed(sets)]
        x = inject(state[sets[0]] + e[sets[0]])[None]
        for rows, out, block in zip(sets, sets[1:], blocks, strict=False):
            where[rows] = torch.arange(len(rows), device=state.device)
            table = graph[out]
            x = block(x, torch.where(table >= 0, where[table.clamp(min=0)], -1), where[out])
        return x[0, : len(cells)]

    @staticmethod
    def padded(cells: torch.Tensor) -> torch.Tensor:
        """`cells` with its first cell repeated up to the next of 8 sizes an octave (at most 1/8 more rows): a
        copy computes what its original does, and the matmuls see few distinct shapes. On CPU, bf16 matmuls
        keep a oneDNN primitive per input shape (up to 1,024 of them), each holding megabytes: two unsolved
        201x201 rooms mazes peaked at 7.5 GB that way, 0.97 GB padded (docs/results/maze.md, "Every kind from
        side 11 to 201")."""
        n = len(cells)
        grain = 1 << max(0, n.bit_length() - 4)
        size = -(-n // grain) * grain
        return cells if size == n else torch.cat([cells, cells[:1].expand(size - n)])

    @staticmethod
    def _near(cells: torch.Tensor, graph: torch.Tensor) -> torch.Tensor:
        """The flat cells `cells` and their neighbours, sorted, once each."""
        near = torch.unique(torch.cat([cells, graph[cells].reshape(-1)]))
        return near[near >= 0]
