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

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

from csp_diffusion.blocks import Block, CellEmbedding, RMSNorm
from csp_diffusion.loopmdm import fix_givens


@dataclass
class ARConfig:
    n_values: int = 9
    tokens: int = 0  # input tokens, MASK included (a task's marks too); 0 = n_values + 1
    position_sizes: tuple[int, ...] = (9, 9, 9)
    cells: int = 81  # unused (LoopMDM's free-position ablation); kept so configs share keys
    dim: int = 128
    heads: int = 4
    mlp_ratio: int = 4
    layers: int = 4  # LoopMDM's 1 + 2 + 1 distinct blocks: the same parameters
    slots: int = 0  # unused; the AR model always attends over the whole sequence

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ARConfig":
        d = dict(d)
        d["position_sizes"] = tuple(d["position_sizes"])
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


class AR(nn.Module):
    needs_positions = True  # a fixed writing order needs to know which cell is which, even on mazes

    def __init__(self, config: ARConfig):
        super().__init__()
        c = self.config = config
        self.embed = CellEmbedding(c.dim, c.tokens or c.n_values + 1, c.position_sizes, c.cells, False)
        self.segment = nn.Embedding(2, c.dim)  # puzzle part, answer part
        self.blocks = nn.ModuleList(Block(c.dim, c.heads, c.mlp_ratio) for _ in range(c.layers))
        self.norm = RMSNorm(c.dim)
        self.head = nn.Linear(c.dim, c.n_values, bias=False)
        self.apply(lambda m: nn.init.normal_(m.weight, std=0.02) if isinstance(m, (nn.Linear, nn.Embedding)) else None)

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

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def flops(self, loops: int, cells: int, neighbours: int | None = None) -> int:
        """x2 multiply-adds of one full forward pass (2T tokens; `loops` is ignored)."""
        c, d, n = self.config, self.config.dim, 2 * cells
        per_block = 2 * n * (4 * d * d + 2 * c.mlp_ratio * d * d) + 2 * 2 * n * n * d
        return int(c.layers * per_block + 2 * cells * d * c.n_values)
