"""TRM: the Tiny Recursive Model (Jolicoeur-Martineau 2025), HRM's successor, at this project's scale.

One small network (`layers` transformer blocks, 2 by default) is the whole model. It keeps two
states per cell: an answer y and a latent z. One *recursion* updates z `n` times from the input,
the answer and itself (z <- net(x + y + z)), then the answer once from the latent (y <- net(y + z)).
One *supervision step* (a segment) runs `recursions` recursions: all but the last without a graph,
the last one differentiated whole (no one-step approximation, unlike HRM). A segment ends in a
prediction for every cell (from y) and one halting logit (halt when it is above 0). Training is deep
supervision with the state carried between segments and detached, and the halting head learns
whether the grid is right (objectives.py: no "continue" target, as TRM drops HRM's); inference
runs segment after segment (decoders.py, shared with HRM).

Cells are embedded and attend as in LoopMDM (peer attention; for mazes, the 4-neighbourhood), so
the networks are alike; a comparison also needs one decoder for both (decoders.py). With `mixer`, the
blocks mix cells with an MLP instead of attention: TRM's Sudoku variant (its best there), for tasks
with a fixed number of cells. TRM's EMA of the weights is a training setting (TrainConfig.ema).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from csp_diffusion.blocks import Block, CellEmbedding, MixerBlock, RMSNorm, fix_givens, mixer_flops
from csp_diffusion.network import DeepSupervisionConfig, Network, block_flops


@dataclass
class TRMConfig(DeepSupervisionConfig):
    layers: int = 2
    n: int = 6  # latent updates per recursion
    recursions: int = 3  # per segment; the last is differentiated
    segments: int = 16  # deep-supervision segments per training example at most
    mixer: bool = False  # MLP-mixer blocks (cells mixed by an MLP over the `cells` axis) instead of attention


class TRM(Network):
    recurrent = True

    def __init__(self, config: TRMConfig):
        super().__init__()
        c = self.config = config
        self.embed = CellEmbedding(c.dim, c.tokens or c.n_values + 1, c.position_sizes, c.cells, False)
        self.blocks = nn.ModuleList((MixerBlock(c.dim, c.cells, c.mlp_ratio) if c.mixer else
                                     Block(c.dim, c.heads, c.mlp_ratio, c.slots)) for _ in range(c.layers))
        self.inject = RMSNorm(c.dim)  # the summed inputs of every call keep one scale
        self.y_init = nn.Parameter(torch.randn(c.dim) * 0.02)
        self.z_init = nn.Parameter(torch.randn(c.dim) * 0.02)
        self.norm = RMSNorm(c.dim)
        self.head = nn.Linear(c.dim, c.n_values, bias=False)
        self.q_head = nn.Linear(c.dim, 1)
        self.apply(self.init_weights)
        with torch.no_grad():  # start out not halting
            self.q_head.weight.zero_()
            self.q_head.bias.fill_(-5.0)

    def initial(self, batch: int, cells: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(y, z), each (batch, cells, dim): the state a new puzzle starts from."""
        shape = (batch, cells, self.config.dim)
        return self.y_init.expand(shape).clone(), self.z_init.expand(shape).clone()

    def _net(self, h: torch.Tensor, graph: torch.Tensor) -> torch.Tensor:
        h = self.inject(h)
        for block in self.blocks:
            h = block(h, graph)
        return h

    def _recursion(self, x, y, z, graph):
        for _ in range(self.config.n):
            z = self._net(x + y + z, graph)
        return self._net(y + z, graph), z

    def forward(self, puzzle: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor], positions: torch.Tensor,
                graph: torch.Tensor, pinned: torch.Tensor | None = None):
        """One segment from state (y, z) for puzzles (B, T), 0 = unknown.

        Returns (new state, logits (B, T, n_values), q (B, 2)): q's halt logit and a fixed 0 for
        "continue", so that the HRM decoder's rule (halt when q[:, 0] > q[:, 1]) is TRM's (halt when > 0).
        """
        given = puzzle > 0
        x = self.embed(puzzle, given, positions)
        if self.config.scaled_input:
            x = x * self.config.dim ** 0.5
        y, z = state
        with torch.no_grad():
            for _ in range(self.config.recursions - 1):
                y, z = self._recursion(x, y, z, graph)
        y, z = self._recursion(x, y, z, graph)
        logits = fix_givens(self.head(self.norm(y)), puzzle, given if pinned is None else pinned)
        halt = self.q_head(y.mean(1)).float()
        return (y, z), logits, torch.cat([halt, torch.zeros_like(halt)], -1)

    def segment_flops(self, cells: int, neighbours: int | None = None) -> tuple[int, int]:
        """(forward, differentiated) FLOPs of one segment for one puzzle: recursions x (n + 1) network
        calls and the heads; the last recursion and the heads are differentiated."""
        c = self.config
        block = mixer_flops(cells, c.dim, c.mlp_ratio) if c.mixer else block_flops(cells, neighbours or cells, c.dim,
                                                                                  c.mlp_ratio)
        call = c.layers * block
        heads = 2 * cells * c.dim * c.n_values
        return c.recursions * (c.n + 1) * call + heads, (c.n + 1) * call + heads

    def flops(self, loops: int, cells: int, neighbours: int | None = None) -> int:
        """x2 multiply-adds of `loops` segments for one puzzle."""
        return int(loops * self.segment_flops(cells, neighbours)[0])
