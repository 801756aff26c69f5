"""AR-solver: the autoregressive baseline done right (Shah et al. 2024). A causal transformer that
writes one (cell, value) step at a time and chooses the cell itself; it is trained on the order a
propagation solver fills the grid (singles first, a guess only where it must; for mazes, the path as
a walk from S), so at every step the next move is one the givens and the steps so far determine.

The sequence is the puzzle (T cells, givens visible, unknowns as MASK, both directions of attention)
then a start slot and the steps written so far. Slot j sees the whole puzzle and slots <= j and
predicts step j: a score for every (cell, value) pair, from the slot's state and the cell's state in
the puzzle part (an additive pointer: GELU(query + key) -> values), plus one "stop" score (a maze's
walk ends before the grid is full; what is never written takes the task's `unwritten` value). Cells
are identified as LoopMDM's are (row/column/box embeddings; for mazes row and column), and a step
token is its cell's position plus its value. Given cells score -inf. Decoding is in decoders.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from csp_diffusion.blocks import Block, CellEmbedding, RMSNorm
from csp_diffusion.network import ModelConfig, Network, block_flops


@dataclass
class ARSolverConfig(ModelConfig):
    layers: int = 4  # LoopMDM's 1 + 2 + 1 distinct blocks


class ARSolver(Network):
    needs_positions = True  # a step names its cell by position

    def __init__(self, config: ARSolverConfig):
        super().__init__()
        c = self.config = config
        self.embed = CellEmbedding(c.dim, c.tokens or c.n_values + 1, c.position_sizes, c.cells, False)
        self.segment = nn.Embedding(2, c.dim)  # puzzle part, step part
        self.start = nn.Parameter(torch.zeros(c.dim))
        self.blocks = nn.ModuleList(Block(c.dim, c.heads, c.mlp_ratio) for _ in range(c.layers))
        self.norm = RMSNorm(c.dim)
        self.query, self.key = nn.Linear(c.dim, c.dim), nn.Linear(c.dim, c.dim, bias=False)
        self.value_head = nn.Linear(c.dim, c.n_values)
        self.stop = nn.Linear(c.dim, 1)
        self.apply(self.init_weights)

    @staticmethod
    def mask(T: int, S: int, device) -> torch.Tensor:
        """bool (T + S, T + S): puzzle <-> puzzle, step slot -> puzzle and earlier or same slots."""
        m = torch.zeros(T + S, T + S, dtype=torch.bool, device=device)
        m[:, :T] = True
        m[T:, T:] = torch.tril(torch.ones(S, S, dtype=torch.bool, device=device))
        return m

    def forward(self, puzzle: torch.Tensor, cells: torch.Tensor, values: torch.Tensor,
                positions: torch.Tensor, last: bool = False) -> torch.Tensor:
        """puzzle (B, T), 0 = unknown; cells, values (B, S): the steps written so far (cell -1: padding).
        Returns logits (B, S + 1, T * n_values + 1): slot j scores step j over (cell, value) pairs,
        flattened cell-major, and "stop" last. With `last`, only the last slot's (B, 1, ...): decoding
        needs no more, and the pointer over every slot is (B, S + 1, T, dim) of memory."""
        B, T = puzzle.shape
        S = cells.shape[1]
        given = puzzle > 0
        at = positions[cells.clamp(min=0)]  # (B, S, axes)
        steps = self.embed.value(values) + sum(emb(at[..., a]) for a, emb in enumerate(self.embed.axes))
        x = torch.cat([
            self.embed(puzzle, given, positions) + self.segment.weight[0],
            torch.cat([self.start.expand(B, 1, -1), steps], dim=1) + self.segment.weight[1],
        ], dim=1)
        mask = self.mask(T, S + 1, puzzle.device)
        for block in self.blocks:
            x = block(x, mask)
        x = self.norm(x)
        slots, grid = (x[:, -1:] if last else x[:, T:]), x[:, :T]
        scores = self.value_head(F.gelu(self.query(slots)[:, :, None] + self.key(grid)[:, None]))  # (B, S+1, T, V)
        scores = scores.masked_fill(given[:, None, :, None], float("-inf"))
        return torch.cat([scores.flatten(2), self.stop(slots)], dim=-1)

    def flops(self, loops: int, cells: int, neighbours: int | None = None, steps: int | None = None,
              last: bool = False) -> int:
        """x2 multiply-adds of one forward pass over the puzzle and `steps` step slots (default: one per
        cell and the start slot; `loops` is ignored): the blocks, the keys and queries, the pointer head
        (on the last slot only with `last`, as decoding runs it)."""
        c, d = self.config, self.config.dim
        s = cells + 1 if steps is None else steps
        n = cells + s
        heads = 1 if last else s
        pointer = heads * cells * (d + 2 * d * c.n_values) + 2 * heads * d
        return int(c.layers * block_flops(n, n, d, c.mlp_ratio) + 2 * (cells + s) * d * d + pointer)
