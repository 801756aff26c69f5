"""AR-solver: the autoregressive baseline done right (Shah et al. 2024). A causal transformer that
writes one step at a time, a cell and then its value, and chooses the cell itself; it is trained on
the order a propagation solver fills the grid (singles first, a guess only where it must; for mazes,
the path as a walk from S), so at every step the next move is one the givens and the steps so far
determine.

The sequence is the puzzle (T cells, givens visible, unknowns as MASK, both directions of attention),
a start token, then two tokens a step as Shah et al.'s sequences have a position then a value: the
step's cell (its position) and its value (its position and value). Every step token sees the whole
puzzle and the step tokens before it. The start token and each value token predict the next cell or
"stop" (a pointer: a score for every cell from the token's state and the cell's state in the puzzle
part, GELU(query + key) -> one score; a cell given or already written scores -inf; a maze's walk ends
before the grid is full, and what is never written takes the task's `unwritten` value). Each cell
token predicts its cell's value. Cells are identified as LoopMDM's are (row/column/box embeddings;
for mazes row and column). Decoding (decoders.py) runs the network twice a step: the cell, then
its value.

An earlier version scored every (cell, value) pair with one pointer head and wrote a step as one
token. Its value head collapsed: every value's weights turned parallel, its value given the cell
stayed at chance (loss ln 9) through 1e14 training FLOPs while it learned which cell comes next
(docs/results/compare.md). The value is now read from a token that knows its cell and sees every
earlier step, as in Shah et al.'s sequences.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from csp_diffusion.blocks import Block, CellEmbedding, KeptKeys, RMSNorm
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
        self.segment = nn.Embedding(3, c.dim)  # puzzle part, a step's cell token, a step's value token
        self.start = nn.Parameter(torch.zeros(c.dim))
        self.blocks = nn.ModuleList(Block(c.dim, c.heads, c.mlp_ratio) for _ in range(c.layers))
        self.norm = RMSNorm(c.dim)
        self.query, self.key = nn.Linear(c.dim, c.dim), nn.Linear(c.dim, c.dim, bias=False)
        self.pointer = nn.Linear(c.dim, 1)
        self.value_head = nn.Linear(c.dim, c.n_values)
        self.stop = nn.Linear(c.dim, 1)
        self.apply(self.init_weights)

    @staticmethod
    def mask(T: int, S: int, device) -> torch.Tensor:
        """bool (T + S, T + S): puzzle <-> puzzle, step token -> puzzle and earlier or same step tokens."""
        m = torch.zeros(T + S, T + S, dtype=torch.bool, device=device)
        m[:, :T] = True
        m[T:, T:] = torch.tril(torch.ones(S, S, dtype=torch.bool, device=device))
        return m

    def _states(self, puzzle, cells, values, positions):
        """(grid states (B, T, dim), step-token states (B, 1 + 2S, dim)): the start token, then each step's cell
        token and value token."""
        B, T = puzzle.shape
        where = self.embed.where(positions[cells.clamp(min=0)])  # (B, S, dim)
        seg = self.segment.weight
        tokens = torch.stack([where + seg[1], where + self.embed.value(values) + seg[2]], dim=2).flatten(1, 2)
        parts = [self.embed(puzzle, puzzle > 0, positions) + seg[0], self.start.expand(B, 1, -1), tokens]
        x = torch.cat(parts, dim=1)
        mask = self.mask(T, x.shape[1] - T, puzzle.device)
        for block in self.blocks:
            x = block(x, mask)
        x = self.norm(x)
        return x[:, :T], x[:, T:]

    def _cells(self, slots, grid, given, written):
        """Logits (B, N, T + 1) of the next cell, then "stop", from N reading tokens."""
        scores = self.pointer(F.gelu(self.query(slots)[:, :, None] + self.key(grid)[:, None]))[..., 0]
        scores = scores.masked_fill(given[:, None] | written, float("-inf"))
        return torch.cat([scores, self.stop(slots)], dim=-1)

    @staticmethod
    def written(cells: torch.Tensor, T: int) -> torch.Tensor:
        """bool (B, S + 1, T): the cells written before each step (step j's prediction sees steps < j)."""
        B, S = cells.shape
        hit = F.one_hot(cells.clamp(min=0), T).bool() & (cells >= 0)[..., None]  # (B, S, T)
        before = torch.cumsum(hit.int(), dim=1) > 0
        return torch.cat([torch.zeros(B, 1, T, dtype=torch.bool, device=cells.device), before], dim=1)

    def forward(self, puzzle: torch.Tensor, cells: torch.Tensor, values: torch.Tensor,
                positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """puzzle (B, T), 0 = unknown; cells, values (B, S): the steps (cell -1: padding). Teacher forcing:
        (cell logits (B, S + 1, T + 1): step j's cell, or "stop", read at the start token (j = 0) and at step
        j - 1's value token; value logits (B, S, n_values): step j's value, read at its cell token)."""
        T = puzzle.shape[1]
        grid, steps = self._states(puzzle, cells, values, positions)
        readers = torch.cat([steps[:, :1], steps[:, 2::2]], dim=1)  # the start token, each value token
        return (self._cells(readers, grid, puzzle > 0, self.written(cells, T)),
                self.value_head(steps[:, 1::2]))

    def decoding(self, puzzle: torch.Tensor, positions: torch.Tensor, steps: int) -> Decoding:
        """A decoding of `puzzle` (B, T) for up to `steps` steps that keeps every layer's keys and values: each
        pass runs one new token, as the teacher-forced forward computes it (the same logits)."""
        return Decoding(self, puzzle, positions, steps)

    def flops(self, loops: int, cells: int, neighbours: int | None = None, steps: int | None = None) -> int:
        """x2 multiply-adds of one teacher-forced forward pass over the puzzle and `steps` steps (default: one per
        cell; `loops` is ignored): the blocks over the puzzle, the start token and two tokens a step, the
        pointer read at S + 1 tokens, the value head at S."""
        c, d = self.config, self.config.dim
        s = cells if steps is None else steps
        n = cells + 1 + 2 * s
        reads = s + 1
        pointer = reads * cells * (d + 2 * d) + 2 * reads * d * (d + 1) + 2 * cells * d * d
        return int(c.layers * block_flops(n, n, d, c.mlp_ratio) + pointer + 2 * s * d * c.n_values)

    def prefix_flops(self, cells: int) -> int:
        """x2 multiply-adds of a decoding's first pass: the puzzle and the start token through the blocks, and
        the pointer's keys of every cell."""
        c, d = self.config, self.config.dim
        return int(c.layers * block_flops(cells + 1, cells + 1, d, c.mlp_ratio) + 2 * cells * d * d)

    def step_flops(self, cells: int, written: int) -> int:
        """x2 multiply-adds of decoding one step after `written` steps, the keys and values of every earlier token
        kept (`Decoding`): the next cell read from the last token (the pointer over every cell), then the cell's
        token through the blocks and its value read, then its value token through the blocks."""
        c, d = self.config, self.config.dim
        n = cells + 1 + 2 * written  # the tokens the step's first new token attends to, itself included

        def token(attended: int) -> int:  # one new token through every block
            return c.layers * block_flops(1, attended, d, c.mlp_ratio)

        return int(self.pointer_flops(cells) + token(n + 1) + 2 * d * c.n_values + token(n + 2))

    def pointer_flops(self, cells: int) -> int:
        """x2 multiply-adds of reading the next cell, or "stop", from one token's state."""
        d = self.config.dim
        return int(cells * (d + 2 * d) + 2 * d * (d + 1))


class Decoding:
    """An AR-solver decoding with every layer's keys and values kept (blocks.KeptKeys), so each pass runs one new
    token instead of the whole sequence, with the same logits. `rows` selects the live rows."""

    def __init__(self, model: ARSolver, puzzle: torch.Tensor, positions: torch.Tensor, steps: int):
        self.model, self.positions, self.given = model, positions, puzzle > 0
        B, T = puzzle.shape
        x = model.embed(puzzle, self.given, positions) + model.segment.weight[0]
        self.kept = KeptKeys(model.blocks, x, T + 1 + 2 * steps)
        self.grid_keys = model.key(model.norm(self.kept.prefix))  # (B, T, dim): the pointer's keys
        self.written = torch.zeros(B, T, dtype=torch.bool, device=puzzle.device)
        self.last = model.norm(self.kept.append(model.start.expand(B, -1), torch.arange(B, device=puzzle.device)))

    def next_cell(self, rows: torch.Tensor) -> torch.Tensor:
        """(b, T + 1): the next cell of `rows`, or "stop", read from their last token."""
        m = self.model
        scores = m.pointer(F.gelu(m.query(self.last[rows])[:, None] + self.grid_keys[rows]))[..., 0]
        scores = scores.masked_fill(self.given[rows] | self.written[rows], float("-inf"))
        return torch.cat([scores, m.stop(self.last[rows])], dim=-1)

    def next_value(self, rows: torch.Tensor, cell: torch.Tensor) -> torch.Tensor:
        """(b, n_values): the value of `cell` (b,), its cell token of `rows` run."""
        m = self.model
        return m.value_head(m.norm(self.kept.append(m.embed.where(self.positions[cell]) + m.segment.weight[1], rows)))

    def write(self, rows: torch.Tensor, cell: torch.Tensor, value: torch.Tensor) -> None:
        """The step (cell, value) of `rows`: its value token run, read for the next cell after it."""
        m = self.model
        self.written[rows, cell] = True
        token = m.embed.where(self.positions[cell]) + m.embed.value(value) + m.segment.weight[2]
        self.last[rows] = m.norm(self.kept.append(token, rows))
