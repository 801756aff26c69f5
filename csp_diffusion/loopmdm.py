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

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

from csp_diffusion.blocks import Block, CellEmbedding, RMSNorm


@dataclass
class LoopMDMConfig:
    n_values: int = 9
    tokens: int = 0  # input tokens, MASK included (a task's marks too); 0 = n_values + 1
    position_sizes: tuple[int, ...] = (9, 9, 9)
    cells: int = 81  # used only by free positions
    dim: int = 128
    heads: int = 4
    mlp_ratio: int = 4
    prelude: int = 1
    core: int = 2
    coda: int = 1
    max_loops: int = 16  # training samples 1..max_loops; any count works at inference
    grad_loops: int = 2  # backpropagate through the last this-many loops only (truncated BPTT)
    carry: float = 0.0  # training: the share of batches whose core starts from the state it reached on an
    # earlier, sparser version of the grid, as the sampler's warm start runs it (0 = every batch cold)
    peer_attention: bool = True  # False: full attention (ablation)
    free_positions: bool = False  # True: one free embedding per cell (ablation)
    slots: int = 0  # >0: sparse attention over a (cells, slots) neighbour table, one learned bias per slot
    trace: int = 0  # >0: a linear read-out of this many outputs from the core after each loop, supervised with
    # the task's execution trace (mazes: 5); loops then run to the puzzle's size, not max_loops, and the answer
    # is the trace's last output (a two-valued task's on-flag: the maze walk), not the coda's
    trace_reveal: float = 0.0  # trace training: the share of grids partly revealed (and partly wrong) as the sampler's
    # later steps see them; the rest are bare. Measured: 0.5 left the coda reading revealed cells, 16 of 100
    # Maze-Hard-like mazes at 2T + 8 loops against 90 for bare training (README, "Mazes")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "LoopMDMConfig":
        d = dict(d)
        d["position_sizes"] = tuple(d["position_sizes"])
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


class LoopMDM(nn.Module):
    carries_state = True  # forward(state=..., return_state=True): the sampler may warm-start the core

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
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

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
    ):
        """values (B, T) long, 0 = masked; given (B, T) bool; positions (T, axes); graph: the
        structure's attention graph, bool (T, T) adjacency or long (T, slots) neighbour table.

        Returns logits (B, T, n_values). With grad_loops set, only the last grad_loops
        passes of the core are differentiated (the earlier ones run without grad). `state`
        (B, T, dim) starts the core from an earlier call's final core state instead of zeros
        (the sampler's warm start); return_state=True returns (logits, final core state). A list
        passed as `states` receives the core state after each differentiated pass (for the trace loss).
        """
        mask = graph if self.config.peer_attention else None
        e = self.embed(values, given, positions)
        for block in self.prelude:
            e = block(e, mask)
        h = torch.zeros_like(e) if state is None else state.to(e.dtype)
        free = loops if grad_loops is None else max(0, loops - grad_loops)
        with torch.no_grad():
            for _ in range(free):
                h = self._loop(h, e, mask)
        for _ in range(loops - free):
            h = self._loop(h, e, mask)
            if states is not None:
                states.append(h)
        core = h
        if self.trace_head is not None:
            # the answer is the trace's last output once the trace is complete (the walk's on-path flag): measured,
            # the coda read the same state into 20 of 100 Maze-Hard-like paths, the flag into 99 (README, "Mazes")
            flag = self.trace_head(core.float())[..., -1]
            logits = fix_givens(torch.stack([-flag / 2, flag / 2], -1), values, given)
            return (logits, core) if return_state else logits
        logits = self.coda_logits(core, values, given, graph)
        return (logits, core) if return_state else logits

    def coda_logits(self, core: torch.Tensor, values: torch.Tensor, given: torch.Tensor, graph: torch.Tensor) -> torch.Tensor:
        """The coda's answer from a final core state. A trace model answers with its flag instead, but trains
        the coda on finished walks too, as the shipped maze model was made: rerun so, its training commands
        gave a model solving 100 of the first 100 Maze-Hard-like mazes; with the path loss on the flag
        instead (no coda gradient into the core), 52 (README, "Mazes")."""
        mask = graph if self.config.peer_attention else None
        h = core
        for block in self.coda:
            h = block(h, mask)
        return fix_givens(self.head(self.norm(h)), values, given)

    def _loop(self, h: torch.Tensor, e: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        h = self.inject(h + e)
        for block in self.core:
            h = block(h, mask)
        return h

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def flops(self, loops: int, cells: int, neighbours: int | None = None, training: bool = False) -> int:
        """Multiply-adds x2 of one forward pass for one puzzle at `loops` (matmuls and attention); with
        `training`, as training runs it (a trace model's coda too)."""
        c = self.config
        d = c.dim
        attended = cells if (neighbours is None or not c.peer_attention) else neighbours
        per_block = 2 * cells * (4 * d * d + 2 * c.mlp_ratio * d * d) + 2 * 2 * cells * attended * d
        coda = c.coda * per_block + 2 * cells * d * c.n_values
        if c.trace:  # the answer comes from the trace read-out; the coda runs only in training
            return int((c.prelude + c.core * loops) * per_block + 2 * cells * d * c.trace + coda * training)
        return int((c.prelude + c.core * loops) * per_block + coda)


def fix_givens(logits: torch.Tensor, values: torch.Tensor, given: torch.Tensor) -> torch.Tensor:
    """Replace a given cell's logits by 0 for its value and -inf elsewhere (a mark token above
    n_values, such as a maze's START, is a given of the top value)."""
    onehot = torch.nn.functional.one_hot((values - 1).clamp(0, logits.shape[-1] - 1), logits.shape[-1]).bool()
    fixed = torch.zeros_like(logits).masked_fill(~onehot, float("-inf"))
    return torch.where(given[..., None], fixed, logits)
