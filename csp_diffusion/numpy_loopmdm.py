"""LoopMDM's forward pass in NumPy, for the hybrid's cold path: no torch.

`csp solve sudoku PUZZLE --solver hybrid` asks the model one question per puzzle, a pass of a few
loops over 81 cells that takes milliseconds; importing torch took longer than the whole CP-SAT
command (docs/results/sudoku.md, "Cold commands"). This reads a LoopMDM checkpoint with safetensors' NumPy
loader and runs the same network (loopmdm.py and blocks.py: the prelude, the looped core from a
state, the coda, RMSNorm, peer attention, exact GELU) in float32, so the hybrid answers without
torch. It runs what the hybrid asks of a Sudoku or Kakuro model: attention over a bool constraint graph
(Sudoku) or over a neighbour table with a learned bias per slot, as the torch network's dense form of it
(`blocks.GraphAttention._table_bias`; Kakuro, each call's grids their own structure), learned embeddings of
position axes or features, no trace read-out; `load` returns None for any other model (the hybrid then
runs the torch network). tests/test_hybrid.py holds its output to the torch network's on the shipped
checkpoints.

Each call runs in pieces of PIECE grids over the CPU's cores, one thread each, with NumPy's BLAS held
to one thread meanwhile (where it can be: `_blas_threads`): beside another busy process, BLAS's own
threads spin-wait on each other, and one puzzle's pass took 1.4 s instead of 10 ms.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from numba import njit

PIECE = 32  # grids per piece: their activations (2,592 cells x 512 floats) stay in cache
MASK_FLOATS = 2**22  # at most this many floats in each block's attention mask of a piece (16 MiB): fewer grids a
# piece on large grids

@njit(cache=True, nogil=True, fastmath=True)
def _gelu_flat(x, e, out):
    """out = x * Phi(x) from e = exp(-x^2 / 2), erf by Abramowitz and Stegun 7.1.26 (absolute error under 1.5e-7,
    float32's own rounding); one compiled pass, vectorized (NumPy has no erf: fifteen passes there)."""
    for i in range(x.size):
        v = x[i]
        z = abs(v) * np.float32(0.7071067811865476)
        t = np.float32(1.0) / (np.float32(1.0) + np.float32(0.3275911) * z)
        poly = ((((np.float32(1.061405429) * t - np.float32(1.453152027)) * t + np.float32(1.421413741)) * t
                 - np.float32(0.284496736)) * t + np.float32(0.254829592)) * t
        erf = np.float32(1.0) - poly * e[i]
        out[i] = np.float32(0.5) * v * (np.float32(1.0) + (erf if v >= 0 else -erf))


def _gelu(x: np.ndarray) -> np.ndarray:
    """The exact GELU torch's F.gelu computes, of float32 `x` (its exp in NumPy, whose exp is vectorized)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    e = np.square(x)
    e *= np.float32(-0.5)
    np.exp(e, out=e)
    out = np.empty_like(x)
    _gelu_flat(x.reshape(-1), e.reshape(-1), out.reshape(-1))
    return out


class NumpyLoopMDM:
    """A LoopMDM checkpoint's network for inference, in NumPy: `(values, given, loops, state)` -> (logits, the
    core's final state), as LoopMDM.forward with return_state."""

    carries_state = True
    trace = 0

    def __init__(self, weights: dict[str, np.ndarray], config: dict, positions: np.ndarray | None = None,
                 graph: np.ndarray | None = None):
        """`positions` (T, axes) and a bool `graph` (T, T): every grid's; None: each call gives its grids' own."""
        self.w = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}
        self.config = config
        self.dim, self.heads = config["dim"], config["heads"]
        self.max_loops = config["max_loops"]
        self.tokens = len(self.w["embed.value.weight"])
        self.fixed = None if positions is None else (self._position(positions), self._masks(graph))
        self.t = {k: np.ascontiguousarray(v.T) for k, v in self.w.items() if v.ndim == 2 and k.endswith(("qkv.weight",
                  "out.weight", "up.weight", "down.weight", "head.weight"))}  # x @ W.T, as nn.Linear

    def num_params(self) -> int:
        return int(sum(v.size for v in self.w.values()))

    def flops(self, loops: int, cells: int, neighbours: int | None = None) -> int:
        """LoopMDM.flops for this config, network.block_flops's count per block (tests/test_hybrid.py holds the
        two equal; network.py imports torch)."""
        c, d = self.config, self.dim
        attended = cells if neighbours is None else neighbours
        per_block = 2 * cells * (4 * d * d + 2 * c["mlp_ratio"] * d * d) + 2 * 2 * cells * attended * d
        return int((c["prelude"] + c["core"] * loops) * per_block + c["coda"] * per_block + 2 * cells * d * c["n_values"])

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        d = x.shape[-1]
        norm = np.sqrt(np.einsum("...i,...i->...", x, x))[..., None]
        return x * ((self.w[name] * np.float32(d**0.5)) / np.maximum(norm, np.float32((1e-6 * d) ** 0.5)))

    def _position(self, positions: np.ndarray) -> np.ndarray:
        """(..., T, dim): the sum of each cell's position-axis (or feature) embeddings."""
        return sum(self.w[f"embed.axes.{a}.weight"][positions[..., a]] for a in range(positions.shape[-1]))

    def _masks(self, graph: np.ndarray) -> dict[str, np.ndarray]:
        """Each block's additive attention mask: from a bool (T, T) graph, one for all, (1, 1, T, T); from a
        neighbour table (B, T, S) or (T, S), each listed neighbour its slot's bias in that block and every other
        cell -inf, (B, H, T, T), as blocks.GraphAttention._table_bias (a table lists a cell at most once a row)."""
        names = [k[:-len("attn.qkv.weight")] for k in self.w if k.endswith("attn.qkv.weight")]
        if graph.dtype == bool:
            mask = np.where(graph, np.float32(0), np.float32(-np.inf))[None, None]
            return dict.fromkeys(names, mask)
        table = graph if graph.ndim == 3 else graph[None]
        B, T, S = table.shape
        at = np.where(table < 0, T, table)
        rows = np.arange(B)[:, None, None], np.arange(T)[None, :, None]
        out = {}
        for name in names:
            bias = self.w.get(name + "attn.slot_bias", np.zeros((self.heads, S), np.float32))
            mask = np.full((B, self.heads, T, T + 1), -np.inf, np.float32)
            mask[rows[0], :, rows[1], at] = bias.T  # (B, T, S) indices, heads last
            out[name] = mask[..., :T]
        return out

    def _block(self, x: np.ndarray, p: str, masks: dict[str, np.ndarray]) -> np.ndarray:
        B, T, C = x.shape
        H, dh = self.heads, C // self.heads
        qkv = self._norm(x, p + "norm1.weight") @ self.t[p + "attn.qkv.weight"]
        q, k, v = qkv.reshape(B, T, 3, H, dh).transpose(2, 0, 3, 1, 4)
        scores = q @ k.transpose(0, 1, 3, 2)
        scores *= np.float32(dh**-0.5)
        scores += masks[p]
        scores -= scores.max(-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(-1, keepdims=True)
        y = (scores @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
        x = x + y @ self.t[p + "attn.out.weight"]
        up = self._norm(x, p + "norm2.weight") @ self.t[p + "mlp.up.weight"]
        return x + _gelu(up) @ self.t[p + "mlp.down.weight"]

    def _run(self, values: np.ndarray, given: np.ndarray, loops: int, state: np.ndarray | None, positions, graph):
        w, c = self.w, self.config
        position, masks = self.fixed if positions is None else (self._position(positions), self._masks(graph))
        e = (w["embed.value.weight"][np.minimum(values, self.tokens - 1)] + w["embed.given.weight"][given.astype(np.int64)]
             + position)  # a value above the last token reads as the last (a Kakuro clue cell: its features carry it)
        for i in range(c["prelude"]):
            e = self._block(e, f"prelude.{i}.", masks)
        h = np.zeros_like(e) if state is None else state
        for _ in range(loops):
            h = self._norm(h + e, "inject.weight")
            for i in range(c["core"]):
                h = self._block(h, f"core.{i}.", masks)
        x = h
        for i in range(c["coda"]):
            x = self._block(x, f"coda.{i}.", masks)
        logits = self._norm(x, "norm.weight") @ self.t["head.weight"]
        # a given cell: 0 for its value, -inf elsewhere; a mark above the top value pins the top (blocks.fix_givens)
        pinned = np.full_like(logits, -np.inf)
        rows, cells = np.nonzero(given)
        pinned[rows, cells, np.clip(values[rows, cells] - 1, 0, logits.shape[-1] - 1)] = 0.0
        return np.where(given[..., None], pinned, logits), h

    def __call__(self, values: np.ndarray, given: np.ndarray, loops: int, state: np.ndarray | None = None,
                 positions: np.ndarray | None = None, graph: np.ndarray | None = None):
        """(logits float32 (B, T, n_values), final core state (B, T, dim)) after `loops` passes of the core from
        `state` (None: zeros), for grids `values` (B, T) int with `given` (B, T) bool; `positions` (B, T, axes)
        and `graph` (a neighbour table (B, T, S)): each grid's own structure, where the network has no fixed one."""
        values = np.asarray(values, dtype=np.int64)
        given = np.asarray(given, dtype=bool)
        T = values.shape[1]
        size = max(1, min(PIECE, MASK_FLOATS // (self.heads * T * T)))  # a piece's masks stay small on large grids
        pieces = range(0, len(values), size)

        def cut(a, i):
            return None if a is None else a[i:i + size] if a.ndim == 3 else a

        if len(pieces) <= 1:
            with _blas_threads(1):
                return self._run(values, given, loops, state, positions, graph)

        def piece(i: int):
            return self._run(values[i:i + size], given[i:i + size], loops, cut(state, i), cut(positions, i),
                             cut(graph, i))

        with _blas_threads(1), ThreadPoolExecutor(min(cores(), len(pieces))) as pool:
            out = list(pool.map(piece, pieces))
        return np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])


def cores() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


_setter = False  # not looked for yet; None: not found


def _blas_setter():
    """(set, get) of the thread count of the OpenBLAS NumPy was built with, or None where it cannot be found
    (another BLAS, another platform): then BLAS keeps its own threads."""
    global _setter
    if _setter is not False:
        return _setter
    _setter = None
    try:
        import ctypes

        with open("/proc/self/maps") as f:  # the libraries loaded: NumPy's OpenBLAS among them
            paths = {line.split()[-1] for line in f if len(line.split()) >= 6}
        libs = {path for path in paths if "openblas" in os.path.basename(path).lower() and ".so" in path}
        for path in sorted(libs):
            lib = ctypes.CDLL(path)
            for set_name, get_name in (("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
                                       ("openblas_set_num_threads", "openblas_get_num_threads")):
                if hasattr(lib, set_name) and hasattr(lib, get_name):
                    setter, getter = getattr(lib, set_name), getattr(lib, get_name)
                    setter.argtypes, setter.restype, getter.restype = [ctypes.c_int], None, ctypes.c_int
                    _setter = (setter, getter)
                    return _setter
    except (OSError, AttributeError, ValueError):
        pass
    return _setter


@contextmanager
def _blas_threads(n: int):
    """NumPy's BLAS on `n` threads inside the block (where it can be told), its own count again after."""
    found = _blas_setter()
    if found is None:
        yield
        return
    setter, getter = found
    before = getter()
    setter(n)
    try:
        yield
    finally:
        setter(before)


def supported(config: dict) -> bool:
    """Whether this runs `config`'s network: a LoopMDM with peer attention over position axes (or features), no
    trace."""
    return (config.get("peer_attention", True) and not config.get("free_positions", False)
            and not config.get("trace", 0) and bool(config.get("position_sizes"))
            and all(k in config for k in ("dim", "heads", "prelude", "core", "coda", "max_loops", "n_values")))


SHIPPED = Path(__file__).parent / "checkpoints"  # solver.SHIPPED (solver.py imports torch)


def load(path: Path | None, kind: str, task: str):
    """(the network, its metadata: kind, task, config, info) of a LoopMDM checkpoint for `task` (None: the
    shipped one), run in NumPy, or None when this cannot run it (another kind, task or architecture, a missing
    or unreadable file: the caller runs torch, which says what is wrong with it)."""
    path = Path(path) if path is not None else SHIPPED / f"{task}-{kind}.safetensors"
    if kind != "loopmdm" or not path.is_file():
        return None
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="np") as f:
            meta = f.metadata() or {}
            weights = {k: f.get_tensor(k) for k in f.keys()}
        meta = {"kind": meta["kind"], "task": meta["task"], "config": json.loads(meta["config"]),
                "info": json.loads(meta.get("info", "{}"))}
    except Exception:  # the torch loader gives the one-line reason
        return None
    if meta["kind"] != kind or meta["task"] != task or not supported(meta["config"]):
        return None
    if not all(np.isfinite(v).all() for v in weights.values() if v.dtype.kind == "f"):
        return None  # broken weights: the torch loader says which
    from puzzles.domains import get_task, per_puzzle

    grid = meta["info"].get("train_config", {}).get("grid")
    kind_of_task = get_task(task, grid)
    st = kind_of_task.structure()
    if len(meta["config"]["position_sizes"]) != st.positions.shape[-1]:
        return None
    try:
        if per_puzzle(kind_of_task):  # each call brings its grids' structure (Kakuro)
            return NumpyLoopMDM(weights, meta["config"]), meta
        if st.adjacency is None:  # a neighbour table shared by every grid (mazes): not what the hybrid runs
            return None
        return NumpyLoopMDM(weights, meta["config"], st.positions, st.adjacency), meta
    except KeyError:  # weights that do not match the config
        return None
