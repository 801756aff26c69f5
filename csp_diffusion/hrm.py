"""HRM: the hierarchical reasoning model baseline (Wang et al. 2025), at this project's scale.

Two recurrent modules of transformer blocks share one state size: a slow H-module and a
fast L-module. One *segment* runs `h_cycles` H-updates; before each, the L-module takes
`l_cycles` steps. Every L-step sees the L-state plus the H-state plus the input embedding
(input injection); every H-step sees the H-state plus the L-state. Only the last L-step and
the last H-step of a segment are differentiated (the one-step gradient approximation);
the rest run without a graph. A segment ends in a prediction for every cell (from the
H-state) and two Q-values (halt, continue) for adaptive computation time. Training
(deep supervision over segments with the state detached between them, and Q-learning of
the halting head) is in objectives.py; inference in decoders.py.

Cells are embedded and attend as in LoopMDM (row/column/box embeddings, peer attention;
for mazes, the 4-neighbourhood). That keeps the networks alike; it does not make a comparison
isolate the recurrence: the decoder matters as much (decoders.py; the sampler reads HRM through
denoiser.Recurrent), so architecture claims compare models read out by one decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from csp_diffusion.blocks import Block, CellEmbedding, RMSNorm, fix_givens
from csp_diffusion.network import DeepSupervisionConfig, Network, block_flops


@dataclass
class HRMConfig(DeepSupervisionConfig):
    h_layers: int = 2  # 2 + 2 blocks: LoopMDM's parameter count
    l_layers: int = 2
    h_cycles: int = 2
    l_cycles: int = 2


class HRM(Network):
    recurrent = True

    def __init__(self, config: HRMConfig):
        super().__init__()
        c = self.config = config
        self.embed = CellEmbedding(c.dim, c.tokens or c.n_values + 1, c.position_sizes, c.cells, False)
        self.h_blocks = nn.ModuleList(Block(c.dim, c.heads, c.mlp_ratio, c.slots) for _ in range(c.h_layers))
        self.l_blocks = nn.ModuleList(Block(c.dim, c.heads, c.mlp_ratio, c.slots) for _ in range(c.l_layers))
        self.l_in, self.h_in = RMSNorm(c.dim), RMSNorm(c.dim)  # keep the carried states' scale fixed
        self.h_init = nn.Parameter(torch.randn(c.dim) * 0.02)
        self.l_init = nn.Parameter(torch.randn(c.dim) * 0.02)
        self.norm = RMSNorm(c.dim)
        self.head = nn.Linear(c.dim, c.n_values, bias=False)
        self.q_head = nn.Linear(c.dim, 2)  # halt, continue
        self.apply(self.init_weights)
        with torch.no_grad():  # start out preferring to continue, as HRM does
            self.q_head.weight.zero_()
            self.q_head.bias.fill_(-5.0)

    def initial(self, batch: int, cells: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(z_H, z_L), each (batch, cells, dim): the state a new puzzle starts from."""
        shape = (batch, cells, self.config.dim)
        return self.h_init.expand(shape).clone(), self.l_init.expand(shape).clone()

    @staticmethod
    def _run(blocks, norm, z, inject, graph):
        z = norm(z + inject)
        for block in blocks:
            z = block(z, graph)
        return z

    def forward(self, puzzle: torch.Tensor, z: tuple[torch.Tensor, torch.Tensor], positions: torch.Tensor,
                graph: torch.Tensor, pinned: torch.Tensor | None = None):
        """One segment from state z for puzzles (B, T), 0 = unknown.

        Returns (new state, logits (B, T, n_values), q (B, 2) halt/continue logits).
        """
        c = self.config
        given = puzzle > 0
        x = self.embed(puzzle, given, positions)
        if c.scaled_input:
            x = x * c.dim ** 0.5
        z_h, z_l = z
        with torch.no_grad():
            for i in range(c.h_cycles * c.l_cycles - 1):
                z_l = self._run(self.l_blocks, self.l_in, z_l, z_h + x, graph)
                if (i + 1) % c.l_cycles == 0:
                    z_h = self._run(self.h_blocks, self.h_in, z_h, z_l, graph)
        z_l = self._run(self.l_blocks, self.l_in, z_l, z_h + x, graph)
        z_h = self._run(self.h_blocks, self.h_in, z_h, z_l, graph)
        logits = fix_givens(self.head(self.norm(z_h)), puzzle, given if pinned is None else pinned)
        q = self.q_head(z_h.mean(1)).float()
        return (z_h, z_l), logits, q

    def segment_flops(self, cells: int, neighbours: int | None = None) -> tuple[int, int]:
        """(forward, differentiated) FLOPs of one segment for one puzzle: h_cycles x (l_cycles L-passes +
        1 H-pass) and the heads; the last L- and H-pass and the heads are differentiated."""
        c = self.config
        per_block = block_flops(cells, neighbours or cells, c.dim, c.mlp_ratio)
        heads = 2 * cells * c.dim * c.n_values
        blocks = c.h_cycles * (c.l_cycles * c.l_layers + c.h_layers)
        return blocks * per_block + heads, (c.l_layers + c.h_layers) * per_block + heads

    def flops(self, loops: int, cells: int, neighbours: int | None = None) -> int:
        """x2 multiply-adds of `loops` segments for one puzzle."""
        return int(loops * self.segment_flops(cells, neighbours)[0])
