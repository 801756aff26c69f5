"""AR: the autoregressive baseline. A causal transformer that writes the unknown cells one at
a time in row-major order and never revisits one.

The sequence is the puzzle (T cells, givens visible, unknowns as MASK), then the answer
(T cells). The puzzle part attends to itself in both directions; answer slot t sees the
whole puzzle and answer slots <= t, holds the value written for cell t - 1, and predicts
cell t (a prefix language model). Cells are identified as LoopMDM's are (row/column/box
embeddings; for mazes, row and column, which LoopMDM does without), so the comparison
isolates the decoding order. Those embeddings bound the grid: mazes up to MazeTask.MAX_SIDE.
Givens are fixed in the answer as in LoopMDM (their logits are set). Decoding lives in
decoders.py; this file is only the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from csp_diffusion.blocks import Block, CellEmbedding, KeptKeys, RMSNorm, fix_givens
from csp_diffusion.network import ModelConfig, Network, block_flops


@dataclass
class ARConfig(ModelConfig):
    layers: int = 4  # LoopMDM's 1 + 2 + 1 distinct blocks: the same parameters (slots unused: it attends over
    # the whole sequence)


class AR(Network):
    needs_positions = True  # a fixed writing order needs to know which cell is which, even on mazes

    def __init__(self, config: ARConfig):
        super().__init__()
        c = self.config = config
        self.embed = CellEmbedding(c.dim, c.tokens or c.n_values + 1, c.position_sizes, c.cells, False)
        self.segment = nn.Embedding(2, c.dim)  # puzzle part, answer part
        self.blocks = nn.ModuleList(Block(c.dim, c.heads, c.mlp_ratio) for _ in range(c.layers))
        self.norm = RMSNorm(c.dim)
        self.head = nn.Linear(c.dim, c.n_values, bias=False)
        self.apply(self.init_weights)

    @staticmethod
    def mask(T: int, device) -> torch.Tensor:
        """bool (2T, 2T): puzzle <-> puzzle, answer -> puzzle, answer -> earlier or same answer slot."""
        m = torch.zeros(2 * T, 2 * T, dtype=torch.bool, device=device)
        m[:, :T] = True
        m[T:, T:] = torch.tril(torch.ones(T, T, dtype=torch.bool, device=device))
        return m

    def forward(self, puzzle: torch.Tensor, answer: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """puzzle (B, T) 0 = unknown; answer (B, T) the values written so far (0 = not yet):
        the logits for cell t read only answer[:, :t]. Returns logits (B, T, n_values)."""
        B, T = puzzle.shape
        given = puzzle > 0
        shifted = torch.cat([torch.zeros_like(answer[:, :1]), answer[:, :-1]], dim=1)  # slot t holds cell t - 1
        x = torch.cat([
            self.embed(puzzle, given, positions) + self.segment.weight[0],
            self.embed(shifted, torch.zeros_like(given), positions) + self.segment.weight[1],
        ], dim=1)
        mask = self.mask(T, puzzle.device)
        for block in self.blocks:
            x = block(x, mask)
        logits = self.head(self.norm(x[:, T:]))
        return fix_givens(logits, puzzle, given)

    def decoding(self, puzzle: torch.Tensor, positions: torch.Tensor) -> Decoding:
        """A decoding of `puzzle` (B, T) cell by cell that keeps every layer's keys and values (blocks.KeptKeys):
        each cell's logits from one new token, the same as the whole forward pass gives them."""
        return Decoding(self, puzzle, positions)

    def flops(self, loops: int, cells: int, neighbours: int | None = None) -> int:
        """x2 multiply-adds of one full forward pass (2T tokens; `loops` is ignored)."""
        c, d, n = self.config, self.config.dim, 2 * cells
        per_block = block_flops(n, n, d, c.mlp_ratio)
        return int(c.layers * per_block + 2 * cells * d * c.n_values)


class Decoding:
    """Row-major decoding with every layer's keys and values kept: `next` runs answer slot t (the value written for
    cell t - 1, at cell t's position) for the live `rows` and returns cell t's logits; t advances each call."""

    def __init__(self, model: AR, puzzle: torch.Tensor, positions: torch.Tensor):
        self.model, self.puzzle, self.positions, self.t = model, puzzle, positions, 0
        B, T = puzzle.shape
        self.kept = KeptKeys(model.blocks, model.embed(puzzle, puzzle > 0, positions) + model.segment.weight[0], 2 * T)

    def next(self, rows: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        """(b, n_values): cell t's logits for `rows`, `previous` (b,) the value written at cell t - 1 (0 at t = 0)."""
        m, t = self.model, self.t
        e = m.embed
        token = (e.value(previous.clamp(max=e.value.num_embeddings - 1)) + e.given.weight[0]
                 + e.where(self.positions[t]) + m.segment.weight[1])
        logits = m.head(m.norm(self.kept.append(token, rows)))
        self.t += 1
        puzzle = self.puzzle[rows, t:t + 1]
        return fix_givens(logits[:, None], puzzle, puzzle > 0)[:, 0]
