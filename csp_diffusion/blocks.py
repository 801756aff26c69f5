"""Transformer pieces shared by the models: attention over a constraint graph, MLP, block, cell embedding,
and the parameterization that pins given cells."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x / rms(x) as x * sqrt(dim) / ||x||: one fused reduction instead of square, mean, add and rsqrt
        # (a faster forward pass on CPU); the clamp plays eps
        d = x.shape[-1]
        return x * ((self.weight * d**0.5) / torch.linalg.vector_norm(x, dim=-1, keepdim=True).clamp_min((self.eps * d) ** 0.5))


MATH_KEYS = 168  # ... up to this many keys (bf16, causal or graph mask, batch 64, one core, a forward and backward:
# 164 keys flash 208 ms, math 108 ms; 256 keys flash 181 ms, math 314 ms)


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Scaled dot-product attention, by the fastest of PyTorch's exact kernels here: its "math" kernel when
    training in bf16 on a CPU, whose flash kernel's backward pass is slow there (81 cells, 4 heads of 16, batch
    64, one core: a forward and backward 81 ms flash, 31 ms math; forward alone flash 5 ms, math 14 ms; in
    fp32 flash is the faster both ways), its default choice elsewhere. The same attention either way, to
    rounding."""
    if q.device.type == "cpu" and q.dtype == torch.bfloat16 and q.requires_grad and k.shape[-2] <= MATH_KEYS:
        with sdpa_kernel(SDPBackend.MATH):
            return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


DENSE_TABLE_ENTRIES = 2**24  # a neighbour table is attended densely while its mask has at most this many entries
# (64 MiB of float32: a training batch of 64 on a 12x12 canvas is 5.3M)
DENSE_TRAINING_RATIO, DENSE_SAMPLING_RATIO = 32, 8  # ... and its cells are at most this many times its slots


class GraphAttention(nn.Module):
    """Multi-head self-attention over a constraint graph, given as either
    - a bool (cells, cells) mask limiting each cell to its neighbours (None = full attention), or
    - a long (cells, slots) neighbour table, -1 = no neighbour, for large sparse grids: each cell
      attends to its `slots` listed cells only, with a learned per-head bias for each slot (slot k
      is a fixed direction, e.g. self/up/right/down/left), so direction is known without positions.
    Either may also be one per grid of the batch, (B, cells, cells) or (B, cells, slots), for a task
    whose graph differs per puzzle (Kakuro's runs).
    """

    def __init__(self, dim: int, heads: int, slots: int = 0):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.out = nn.Linear(dim, dim, bias=False)
        self.slot_bias = nn.Parameter(torch.zeros(heads, slots)) if slots else None

    def forward(self, x: torch.Tensor, graph: torch.Tensor | None, rows: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, N, C) -> (B, N, C); with `rows` (long (T,), a neighbour table `graph` (T, S) whose entries
        index x's N cells), only those T cells attend: (B, T, C) (the quiet loops, quiet.py)."""
        B, T, C = x.shape  # batch, cells, channels
        qkv = self.qkv(x)
        if graph is not None and graph.dtype != torch.bool and rows is None and self._dense(graph, B, T):
            q, k, v = qkv.view(B, T, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
            y = attend(q, k, v, self._table_bias(graph, q.dtype)).transpose(1, 2)
        elif graph is not None and graph.dtype != torch.bool:
            y = self._local(qkv, graph, rows)
            T = graph.shape[-2]
        else:
            q, k, v = qkv.view(B, T, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
            mask = graph[:, None] if graph is not None and graph.dim() == 3 else graph  # one per grid: (B, 1, T, T)
            y = attend(q, k, v, mask).transpose(1, 2)
        return self.out(y.reshape(B, T, C))

    def _dense(self, table: torch.Tensor, B: int, T: int) -> bool:
        """Whether a neighbour table is attended densely (`_table_bias`) rather than by gathering (`_local`): when
        its grid has few cells for its slots, and the mask is at most DENSE_TABLE_ENTRIES. Gathering costs
        T * S, its backward's scatter most of all; dense attention T * T. Measured side by side on one core:
        Kakuro (33 slots) dense 5x faster to train on a 12x12 canvas and 2x faster to sample 8x8-10x10
        puzzles; mazes (5 slots) dense 1.3x faster to train on 9x9 grids, but 1.2x slower to sample 15x15
        mazes and 3.4x slower on 30x30."""
        ratio = DENSE_TRAINING_RATIO if torch.is_grad_enabled() else DENSE_SAMPLING_RATIO
        return T <= ratio * table.shape[-1] and (B if table.dim() == 3 else 1) * self.heads * T * T <= DENSE_TABLE_ENTRIES

    def _table_bias(self, table: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """A neighbour table (B, T, S), or (T, S) for all, as the additive mask (B or 1, H, T, T) of dense attention: each listed
        neighbour gets its slot's bias, every other cell -inf. The same attention as `_local` for a table that
        lists a cell at most once in a row (Kakuro's do), several times faster on small grids, where gathering
        each cell's keys and values and its backward's scatter cost more than the T x T products (`_dense`).
        Empty slots write to a spare column, dropped."""
        table = table if table.dim() == 3 else table[None]  # a table all grids share: one mask, broadcast
        B, T, S = table.shape
        at = torch.where(table < 0, T, table)
        slots = self.slot_bias if self.slot_bias is not None else torch.zeros(self.heads, S, device=table.device)
        bias = slots.to(dtype)[None, :, None, :].expand(B, -1, T, -1)  # (B, H, T, S)
        mask = torch.full((B, self.heads, T, T + 1), float("-inf"), dtype=dtype, device=table.device)
        return mask.scatter(3, at[:, None].expand(-1, self.heads, -1, -1), bias)[..., :T]

    def _local(self, qkv: torch.Tensor, table: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """qkv (B, N, 3C); table (T, S), or one per grid (B, T, S) -> (B, T, H, d), O(T * S) instead of
        O(T^2); the queries are the cells `rows` (default: T = N, every cell; a shared table only). Each
        cell's neighbours' keys and values are gathered as whole rows, keys apart from values so each is
        contiguous, and heads stay in the last axes, so nothing is permuted (faster than gathering per head
        and contracting with einsum). On CPU the products and sums run in float32 whatever the input: there
        bf16 elementwise work is slower than float32 (this kernel about 25% faster on a 30x30 maze;
        docs/results/maze.md, "Frames")."""
        B, _, C3 = qkv.shape
        T, S = table.shape[-2:]
        C, H = C3 // 3, self.heads
        d = C // H
        x = qkv.float() if qkv.device.type == "cpu" else qkv
        q = (x[..., :C] if rows is None else x[:, rows, :C]).view(B, T, 1, H, d)
        if table.dim() == 3:  # a table per grid: gather each grid's rows from its own cells
            at = table.clamp(min=0).reshape(B, T * S, 1).expand(-1, -1, C)
            k = x[..., C : 2 * C].gather(1, at).view(B, T, S, H, d)
            v = x[..., 2 * C :].gather(1, at).view(B, T, S, H, d)
        else:
            neighbours = table.clamp(min=0).reshape(-1)
            k = x[..., C : 2 * C].index_select(1, neighbours).view(B, T, S, H, d)
            v = x[..., 2 * C :].index_select(1, neighbours).view(B, T, S, H, d)
        scores = (q * k).sum(-1) * d**-0.5  # (B, T, S, H)
        if self.slot_bias is not None:
            scores = scores + self.slot_bias.t().to(scores.dtype)
        scores = scores.masked_fill((table < 0)[..., None], float("-inf"))
        return (scores.softmax(2)[..., None] * v).sum(2).to(qkv.dtype)


class MLP(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.up = nn.Linear(dim, hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.up(x)))


class Block(nn.Module):
    """Pre-norm transformer block."""

    def __init__(self, dim: int, heads: int, mlp_ratio: int, slots: int = 0):
        super().__init__()
        self.norm1, self.attn = RMSNorm(dim), GraphAttention(dim, heads, slots)
        self.norm2, self.mlp = RMSNorm(dim), MLP(dim, mlp_ratio * dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, rows: torch.Tensor | None = None) -> torch.Tensor:
        """With `rows`: only those cells' outputs (GraphAttention.forward)."""
        y = self.attn(self.norm1(x), mask, rows)
        x = (x if rows is None else x[:, rows]) + y
        return x + self.mlp(self.norm2(x))


class KeptKeys:
    """Causal decoding over `blocks` (Block) with every layer's keys and values kept: a prefix (a puzzle, attending
    to itself in both directions) runs once, then each `append` runs one new token per row through the blocks,
    attending to the prefix and every token appended before it and to itself: what the whole sequence under a
    causal mask gives that token, at the cost of one token. Every row appends at the same position (the decoders'
    live rows advance together); `rows` picks the rows that take part."""

    def __init__(self, blocks: nn.ModuleList, x: torch.Tensor, size: int):
        """x (B, T, dim): the prefix's input; `size`: the most tokens, prefix included."""
        B, T, C = x.shape
        H = blocks[0].attn.heads
        self.blocks = blocks
        self.keys = [x.new_zeros((B, H, size, C // H), dtype=torch.float32) for _ in blocks]
        self.values = [torch.zeros_like(k) for k in self.keys]
        self.n = 0  # the tokens kept so far
        self.prefix = self._run(x, torch.arange(B, device=x.device), torch.ones(T, T, dtype=torch.bool, device=x.device))

    def append(self, token: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """token (b, dim) of `rows` -> its output (b, dim) after the blocks (before any final norm)."""
        mask = torch.ones(1, self.n + 1, dtype=torch.bool, device=token.device)
        return self._run(token[:, None], rows, mask)[:, 0]

    def _run(self, x: torch.Tensor, rows: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, m, C = x.shape
        at, every = self.n, len(rows) == len(self.keys[0])  # every row: slices, not gathered copies
        for i, block in enumerate(self.blocks):
            H = block.attn.heads
            q, k, v = block.attn.qkv(block.norm1(x)).view(b, m, 3, H, C // H).permute(2, 0, 3, 1, 4)
            K, V = self.keys[i], self.values[i]
            if every:
                K[:, :, at:at + m], V[:, :, at:at + m] = k.float(), v.float()
                keys, values = K[:, :, :at + m], V[:, :, :at + m]
            else:
                K[rows, :, at:at + m], V[rows, :, at:at + m] = k.float(), v.float()
                keys, values = K[rows, :, :at + m], V[rows, :, :at + m]
            y = F.scaled_dot_product_attention(q, keys.to(q.dtype), values.to(q.dtype), attn_mask=mask)
            x = x + block.attn.out(y.transpose(1, 2).reshape(b, m, C))
            x = x + block.mlp(block.norm2(x))
        self.n += m
        return x


class MixerBlock(nn.Module):
    """A pre-norm MLP-mixer block (TRM's Sudoku variant): an MLP across the cells (the same for every channel)
    in place of attention, then the channel MLP. It needs a fixed number of cells and ignores the graph."""

    def __init__(self, dim: int, cells: int, mlp_ratio: int):
        super().__init__()
        self.norm1, self.mix = RMSNorm(dim), MLP(cells, mlp_ratio * cells)
        self.norm2, self.mlp = RMSNorm(dim), MLP(dim, mlp_ratio * dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, rows: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.mix(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.mlp(self.norm2(x))


def mixer_flops(cells: int, dim: int, mlp_ratio: int) -> int:
    """x2 multiply-adds of one MixerBlock's forward pass: the cell MLP per channel and the channel MLP per cell."""
    return 2 * 2 * mlp_ratio * cells * cells * dim + 2 * 2 * mlp_ratio * cells * dim * dim


class CellEmbedding(nn.Module):
    """Value token + given/unknown flag + one learned embedding per structural axis (row, column, box; or
    any per-cell feature a task gives as an index, such as a Kakuro cell's run sums).

    With `free_positions`, cells get a free embedding each instead (the ablation). `tokens` counts
    the value tokens, MASK included (n_values + 1, plus any input-only marks a task adds); a value
    above the last token reads as the last (a Kakuro clue cell holds its sums: the features carry them).
    """

    def __init__(self, dim: int, tokens: int, position_sizes: tuple[int, ...], cells: int, free_positions: bool):
        super().__init__()
        self.value = nn.Embedding(tokens, dim)  # 0 = MASK
        self.given = nn.Embedding(2, dim)
        self.free_positions = free_positions
        if free_positions:
            self.position = nn.Embedding(cells, dim)
        else:
            self.axes = nn.ModuleList(nn.Embedding(n, dim) for n in position_sizes)

    def forward(self, values: torch.Tensor, given: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """values, given: (B, T); positions: (T, axes), or one per grid (B, T, axes) -> (B, T, dim)."""
        x = self.value(values.clamp(max=self.value.num_embeddings - 1)) + self.given(given.long())
        if self.free_positions:
            return x + self.position(torch.arange(values.shape[1], device=values.device))
        return x + self.where(positions)

    def where(self, positions: torch.Tensor) -> torch.Tensor:
        """(..., dim): the sum of the position-axis embeddings of cells with `positions` (..., axes)."""
        return sum(emb(positions[..., a]) for a, emb in enumerate(self.axes))


def fix_givens(logits: torch.Tensor, values: torch.Tensor, given: torch.Tensor) -> torch.Tensor:
    """Replace a given cell's logits by 0 for its value and -inf elsewhere (a mark token above
    n_values, such as a maze's START, is a given of the top value)."""
    onehot = F.one_hot((values - 1).clamp(0, logits.shape[-1] - 1), logits.shape[-1]).bool()
    fixed = torch.zeros_like(logits).masked_fill(~onehot, float("-inf"))
    return torch.where(given[..., None], fixed, logits)
