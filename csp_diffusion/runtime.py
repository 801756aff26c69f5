"""Where and how the networks run: device choice, native bf16, the allocator on glibc, CPU threads.

torch is imported by the functions that use it: the hybrid's NumPy network (numpy_loopmdm.py) takes
the allocator setting and the idle-core count without it."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def fast_bf16(device: torch.device) -> bool:
    """Whether bf16 is native here (AVX-512 BF16/AMX CPUs, bf16-capable GPUs): inference then runs
    with bf16 weights under bf16 autocast, with the same solve rates and faster (docs/results/sudoku.md,
    "Speed"); elsewhere bf16 would be emulated and slow."""
    import torch

    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def keep_freed_memory() -> None:
    """On glibc, let freed blocks of up to 256 MB be reused instead of handed back to the system. A forward
    pass frees and reallocates activations of tens of MB; returned to the system, each one comes back as
    fresh pages, faulted in on first touch (docs/results/sudoku.md, "Speed"). A process-wide setting; elsewhere
    (no glibc) nothing."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 256 << 20)  # M_MMAP_THRESHOLD: blocks below this come from the heap, not fresh mmaps
        libc.mallopt(-1, 512 << 20)  # M_TRIM_THRESHOLD: keep this much freed heap rather than trimming it
    except (OSError, AttributeError):
        pass


def pick_device(name: str | None = None) -> torch.device:
    """`name` if given, else CUDA when present, else CPU."""
    import torch

    from puzzles.errors import UserError

    if not name:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device {name!r}; use cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device {name!r} asked for, but CUDA is not available here")
    if device.type not in ("cpu", "cuda"):
        raise UserError(f"unsupported device {name!r}; use cpu, cuda or cuda:N")
    return device


def idle_cores(sample_s: float = 0.05) -> int | None:
    """How many of this process's CPUs were at least 80% idle over the last `sample_s` seconds, from
    /proc/stat (None where there is none: not Linux)."""
    import os
    import time

    def ticks() -> dict[str, tuple[int, int]]:
        out = {}
        with open("/proc/stat") as f:
            for line in f:
                name, *fields = line.split()
                if name.startswith("cpu") and name != "cpu":
                    n = [int(x) for x in fields[:8]]
                    out[name] = (n[3] + n[4], sum(n))  # idle + iowait, all
        return out

    try:
        mine = {f"cpu{c}" for c in os.sched_getaffinity(0)}
        before = ticks()
        time.sleep(sample_s)
        after = ticks()
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    idle = 0
    for cpu in mine & before.keys() & after.keys():
        spent = after[cpu][1] - before[cpu][1]
        idle += spent > 0 and (after[cpu][0] - before[cpu][0]) >= 0.8 * spent
    return idle


@contextmanager
def idle_threads(device: torch.device):
    """On a CPU, as many intra-op threads as there are idle cores, at least one, whatever the batch. Threads on
    cores of their own are faster; beside a busy process they spin-wait on each other (docs/results/maze.md,
    "One 30x30 random-wall maze alone"), at any batch size: a 16-loop pass over 256 Sudoku grids took 4.2-6.6 s on
    two threads and 1.9-2.1 s on one beside other jobs, 64 grids 1.5-6.0 s against 0.5 s (alone, two threads are
    the faster). Measured when the batch starts; torch's own count again after."""
    import torch

    before = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(min(before, idle_cores() or 1))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def pass_costs(task, model, shape) -> tuple[float, float]:
    """(fixed, per-loop) forward FLOPs of one pass of a looped `model` (torch or NumPy) on a grid of `task`'s of
    `shape`: a pass's cost is affine in its loops."""
    st = task.structure(shape)
    neighbours = st.neighbours.shape[1] if st.neighbours is not None else int(st.adjacency.sum(1).mean())
    cells = st.positions.shape[0]
    fixed = model.flops(0, cells, neighbours)
    return fixed, model.flops(1, cells, neighbours) - fixed
