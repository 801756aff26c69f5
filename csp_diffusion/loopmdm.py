"""LoopMDM: a masked-diffusion transformer whose early-middle layers are looped.

prelude (P blocks) -> core (C blocks, applied `loops` times with shared weights,
the prelude's output re-injected before every pass) -> coda (1 block) -> head.
Attention follows the puzzle's constraint graph (or is full, as an ablation);
cells are identified by learned row/column/box embeddings (or free positions).
A trace model (mazes) adds a linear read-out of the core's state, trained on an exact
algorithm's trace loop by loop, and answers with that read-out instead of the coda.

The network maps a partially filled grid to logits over values for every cell;
it knows nothing about masking schedules or sampling (see noising.py and
sampler.py). Givens are fixed by the parameterization: a given cell's logits are
-inf except for its own value, whatever the network computes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from csp_diffusion.blocks import Block, CellEmbedding, RMSNorm, fix_givens
from csp_diffusion.network import ModelConfig, Network, block_flops
from csp_diffusion.quiet import QuietCells


@dataclass
class LoopMDMConfig(ModelConfig):
    prelude: int = 1
    core: int = 2
    coda: int = 1
    max_loops: int = 16  # training samples 1..max_loops; any count works at inference
    grad_loops: int = 2  # backpropagate through the last this-many loops only (truncated BPTT)
    carry: float = 0.0  # training: the share of batches whose core starts from the state it reached on an
    # earlier, sparser version of the grid, as the sampler's warm start runs it (0 = every batch cold)
    own_commits: float = 0.0  # training: the share of batches whose revealed cells hold the model's own most
    # confident answers to the bare puzzle (wrong where it is wrong), as the sampler's first step commits them;
    # the target stays the solution, so the model learns to doubt its own confident mistakes
    wrong: float = 0.1  # training: the share of revealed cells that hold a wrong value (uniform over the others, as
    # GIDD mixes uniform noise in); 0 = mask-only noising, which never shows the model a wrong digit to doubt
    peer_attention: bool = True  # False: full attention (ablation)
    free_positions: bool = False  # True: one free embedding per cell (ablation)
    trace: int = 0  # >0: a linear read-out of this many outputs from the core after each loop, supervised with
    # the task's execution trace; loops then run to the puzzle's size, not max_loops, and the answer is the
    # trace's last output (a two-valued task's on-flag, such as the maze walk), not the coda's
    trace_reveal: float = 0.0  # trace training: the share of grids partly revealed (and partly wrong) as the
    # sampler's later steps see them; the rest bare (a revealed share teaches the coda to copy revealed cells)


class LoopMDM(Network):
    carries_state = True

    def __init__(self, config: LoopMDMConfig):
        super().__init__()
        c = self.config = config
        self.embed = CellEmbedding(c.dim, c.tokens or c.n_values + 1, c.position_sizes, c.cells, c.free_positions)
        self.prelude = nn.ModuleList(Block(c.dim, c.heads, c.mlp_ratio, c.slots) for _ in range(c.prelude))
        self.inject = RMSNorm(c.dim)
        self.core = nn.ModuleList(Block(c.dim, c.heads, c.mlp_ratio, c.slots) for _ in range(c.core))
        self.coda = nn.ModuleList(Block(c.dim, c.heads, c.mlp_ratio, c.slots) for _ in range(c.coda))
        self.norm = RMSNorm(c.dim)
        self.head = nn.Linear(c.dim, c.n_values, bias=False)
        self.trace_head = nn.Linear(c.dim, c.trace) if c.trace else None
        if c.trace and c.n_values != 2:
            raise ValueError("a trace model answers with its trace's last output, an on/off flag: n_values must be 2")
        self.apply(self.init_weights)

    @property
    def max_loops(self) -> int:
        return self.config.max_loops

    @property
    def trace(self) -> int:
        return self.config.trace

    def forward(
        self,
        values: torch.Tensor,
        given: torch.Tensor,
        positions: torch.Tensor,
        graph: torch.Tensor,
        loops: int,
        grad_loops: int | None = None,
        state: torch.Tensor | None = None,
        return_state: bool = False,
        states: list | None = None,
        quiet: QuietCells | None = None,
    ):
        """values (B, T) long, 0 = masked; given (B, T) bool; positions (T, axes); graph: the
        structure's attention graph, bool (T, T) adjacency or long (T, slots) neighbour table.

        Returns logits (B, T, n_values). With grad_loops set, only the last grad_loops
        passes of the core are differentiated (the earlier ones run without grad). `state`
        (B, T, dim) starts the core from an earlier call's final core state instead of zeros
        (the sampler's warm start); return_state=True returns (logits, final core state). A list
        passed as `states` receives the core state after each differentiated pass (for the trace loss).
        With `quiet` (inference on a neighbour table, quiet.py), the passes recompute only the cells that can
        change, and the prelude runs once over the calls that share it.
        """
        mask = graph if self.config.peer_attention else None
        if quiet is None:
            e = self._prelude(values, given, positions, mask)
        elif quiet.e is None:  # a batch of large grids: a few grids at a time, as the quiet passes run in parts
            rows = max(1, quiet.PART // values.shape[1])
            e = torch.cat([self._prelude(v, g, positions, mask) for v, g in zip(values.split(rows), given.split(rows))])
        else:
            e = quiet.e
        h = torch.zeros_like(e) if state is None else state.to(e.dtype)
        free = loops if grad_loops is None else max(0, loops - grad_loops)
        with torch.no_grad():
            if quiet is not None:
                quiet.e = e
                h = quiet.run(h, self.inject, self.core, free)
            else:
                for _ in range(free):
                    h = self._loop(h, e, mask)
        for _ in range(loops - free):
            h = self._loop(h, e, mask)
            if states is not None:
                states.append(h)
        core = h
        if self.trace_head is not None:
            # the answer is the trace's last output once the trace is complete (the walk's on-path flag): it reads
            # long paths far better than the coda does (docs/results/maze.md)
            flag = self.trace_head(core.float())[..., -1]
            logits = fix_givens(torch.stack([-flag / 2, flag / 2], -1), values, given)
            return (logits, core) if return_state else logits
        logits = self.coda_logits(core, values, given, graph)
        return (logits, core) if return_state else logits

    def coda_logits(self, core: torch.Tensor, values: torch.Tensor, given: torch.Tensor, graph: torch.Tensor) -> torch.Tensor:
        """The coda's answer from a final core state. A trace model answers with its flag instead, but trains
        the coda on finished walks too: that gradient into the core is what made the shipped maze model
        (docs/results/maze.md)."""
        mask = graph if self.config.peer_attention else None
        h = core
        for block in self.coda:
            h = block(h, mask)
        return fix_givens(self.head(self.norm(h)), values, given)

    def _prelude(self, values: torch.Tensor, given: torch.Tensor, positions: torch.Tensor, mask) -> torch.Tensor:
        e = self.embed(values, given, positions)
        for block in self.prelude:
            e = block(e, mask)
        return e

    def _loop(self, h: torch.Tensor, e: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        h = self.inject(h + e)
        for block in self.core:
            h = block(h, mask)
        return h

    def flops(self, loops: int, cells: int, neighbours: int | None = None, training: bool = False) -> int:
        """Multiply-adds x2 of one forward pass for one puzzle at `loops` (matmuls and attention); with
        `training`, as training runs it (a trace model's coda too)."""
        c = self.config
        d = c.dim
        attended = cells if (neighbours is None or not c.peer_attention) else neighbours
        per_block = block_flops(cells, attended, d, c.mlp_ratio)
        coda = c.coda * per_block + 2 * cells * d * c.n_values
        if c.trace:  # the answer comes from the trace read-out; the coda runs only in training
            return int((c.prelude + c.core * loops) * per_block + 2 * cells * d * c.trace + coda * training)
        return int((c.prelude + c.core * loops) * per_block + coda)
