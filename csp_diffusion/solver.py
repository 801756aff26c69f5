"""Neural solvers behind the common Result interface: load a checkpoint, sample, verify."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from csp_diffusion import models
from csp_diffusion.errors import CheckpointError
from csp_diffusion.runtime import fast_bf16, idle_threads, keep_freed_memory, pass_costs, pick_device
from csp_diffusion.sampler import SamplerConfig, State
from puzzles.domains import get_task
from puzzles.limits import default_time_limit
from puzzles.result import Result

SHIPPED = Path(__file__).parent / "checkpoints"
MAX_CELLS = 1001 * 1001  # the largest grid a neural solver takes (the largest maze `csp generate` makes): its
# memory grows with the cells and the chains, and a larger grid is refused with one line rather than run out of it


def shipped_checkpoint(name: str, task: str) -> Path:
    """The shipped model `name` for `task`: KIND@BUDGET names one of the matched set; a kind names its own
    model, or where it has none, its matched-set model of the largest budget."""
    path = SHIPPED / f"{task}-{name}.safetensors"
    if not path.is_file() and "@" not in name:
        matched = [n for n in shipped_names(task) if n.partition("@")[0] == name]
        if matched:
            path = SHIPPED / f"{task}-{max(matched, key=lambda n: float(n.partition('@')[2]))}.safetensors"
    if not path.is_file():
        raise CheckpointError(f"no shipped {name} checkpoint for {task} (expected {path}); pass --checkpoint")
    return path


def shipped_names(task: str) -> list[str]:
    """The matched set's shipped models for `task` (KIND@BUDGET: every kind trained to one FLOP budget)."""
    return sorted(p.name[len(task) + 1:-len(".safetensors")] for p in SHIPPED.glob(f"{task}-*@*.safetensors")
                  if models.kind_of(p.name[len(task) + 1:-len(".safetensors")]))


class NeuralSolver:
    """A trained model of any kind plus its decoding (LoopMDM: the retracting sampler), for one task.
    `name` is a model kind or a shipped KIND@BUDGET."""

    def __init__(self, name: str, task: str, checkpoint: Path | None = None, device: str | None = None,
                 sampler: SamplerConfig | None = None, batch_size: int = 256):
        self.device = pick_device(device)
        if self.device.type == "cpu":
            keep_freed_memory()
        kind = models.kind_of(name)
        self.model, self.meta = models.load(checkpoint or shipped_checkpoint(name, task), kind, task, self.device)
        self.task = get_task(task, self.meta["info"].get("train_config", {}).get("grid"))  # trained grid size
        self.name, self.kind = name, kind
        self.config = sampler or SamplerConfig(**models.sampling_defaults(kind, self.task))
        self.batch_size = batch_size
        self._pass_costs: dict[tuple, tuple[float, float]] = {}  # grid shape -> (fixed, per-loop) forward FLOPs
        self.autocast = fast_bf16(self.device)
        if self.autocast:  # bf16 weights too: no recasting per call (docs/results/sudoku.md, "Speed"), same solve rates
            self.model.to(torch.bfloat16)

    @property
    def params(self) -> int:
        return self.model.num_params()

    @property
    def train_flops(self) -> float | None:
        """The training FLOPs its checkpoint records (every kind counts them alike)."""
        return self.meta["info"].get("train_flops")

    def describe(self, shape) -> str:
        """One line on the model and its compute for a grid of `shape`."""
        plan = self.plan(shape)
        loops, steps = plan.loops, plan.max_steps
        flops = self.flops(shape, passes=1, loops=loops)
        together = " started together" if self.config.chains > 1 and self.config.spare_after == 0 else ""
        rules = "rules on" if self.config.rules else "rules off"
        return (f"model: {self.params / 1e6:.2f}M parameters, {flops / 1e9:.2f} GFLOP per grid per step at "
                f"{loops} loops; decoder {self.decoder} ({rules}), {self.config.chains} chain(s){together}, "
                f"step limit {steps}")

    def plan(self, shape, puzzle: np.ndarray | None = None) -> SamplerConfig:
        """The sampler settings for `puzzle` (encoded), a grid of `shape`: the configured ones when
        `loops` is set; for a model that learned an execution trace, a loop cap from the puzzle's size
        (the task's `trace_loop_cap`); else the model's K_max, both it and the step limit scaled up by the grid's
        side over the trained side. A time limit of None becomes the default for the grid's cells."""
        config = self.config
        if config.time_limit is None:
            config = replace(config, time_limit=default_time_limit(int(np.prod(shape))))
        if config.loops:
            return config
        if self.model.trace:  # the first step settles most puzzles; the step limit is not scaled
            return replace(config, loops=self.task.trace_loop_cap(puzzle, shape))
        scale = max(1.0, max(shape) / max(self.task.structure().shape))
        return replace(config, loops=round(self.model.max_loops * scale), max_steps=round(config.max_steps * scale))

    def flops(self, shape, passes: int, loops: int) -> float:
        """Forward FLOPs of `passes` forward passes running `loops` loops in all, on a grid of `shape`
        (a pass's cost is affine in its loops: a fixed part plus the looped core's)."""
        if shape not in self._pass_costs:  # every result asks: the structure is built once per grid shape
            self._pass_costs[shape] = pass_costs(self.task, self.model, shape)
        fixed, per_loop = self._pass_costs[shape]
        return passes * fixed + loops * per_loop

    def solve(self, puzzles: list, on_step: Callable[[State], None] | None = None) -> Iterator[Result]:
        """Results in input order. Puzzles are whatever the task encodes (Sudoku grids, mazes);
        those of one shape run together, one batch of puzzles (x chains) per sampler call."""
        encoded = [self.task.encode(p) for p in puzzles]
        if self.model.embed.value.num_embeddings < self.task.tokens:  # a model from before the task's marks
            encoded = [(self.task.classes(v), shape) for v, shape in encoded]  # reads plain values
        # up to batch_size puzzles per sampler call, whatever the chains: on CPU the sampler runs big batches
        # in pieces, and a big batch keeps those pieces full as puzzles finish (docs/results/sudoku.md, "Speed")
        per_batch = max(1, self.batch_size)
        plans = [self.plan(shape, v) for v, shape in encoded]
        start = 0
        while start < len(encoded):
            shape = encoded[start][1]
            end = start + 1
            while end < len(encoded) and end - start < per_batch and encoded[end][1] == shape and plans[end] == plans[start]:
                end += 1
            yield from self._solve_batch([v for v, _ in encoded[start:end]], puzzles[start:end], shape, plans[start],
                                         on_step if start == 0 else None)
            start = end

    def solve_screened(self, puzzles: list, unique: bool = False, reasons: list | None = None,
                       on_step: Callable[[State], None] | None = None) -> Iterator[Result]:
        """Results in input order, each as soon as it is known: a puzzle the task screens out (no answer;
        with `unique`, not exactly one) gets its reason without the model running, the others are
        solved, and a failure the task can blame on the puzzle says so (`task.explain`). `reasons`, one
        per puzzle, replaces the screening where the caller has done it (None: none found)."""
        if reasons is None:
            reasons = [self.task.screen(p, unique) for p in puzzles]
        todo = [p for p, why in zip(puzzles, reasons) if why is None]
        solved = self.solve(todo, on_step=on_step)
        for p, why in zip(puzzles, reasons):
            if why is not None:
                yield Result(self.task.name, self.name, self.task.to_text(p), None, False, 0.0, why)
                continue
            r = next(solved)
            if not r.verified:
                blame = self.task.explain(p)
                r = r if blame is None else replace(r, error=blame)
            yield r

    def fits(self, shape) -> bool:
        """Whether the model can address every cell of a grid of `shape` (position embeddings
        bound it; models without positions run on any size)."""
        sizes = self.model.config.position_sizes
        positions = self.task.structure(shape).positions[:, :len(sizes)]
        return bool((positions < np.asarray(sizes, dtype=np.int64)).all()) if sizes else True

    def _solve_batch(self, rows: list[np.ndarray], originals: list, shape, config: SamplerConfig,
                     on_step) -> Iterator[Result]:
        """`rows` encoded, `originals` as given (the text of a result is drawn from the original:
        an encoded maze no longer tells S from G)."""
        cells = int(np.prod(shape))
        refused = (None if cells <= MAX_CELLS else f"a {shape[0]}x{shape[1]} grid is too large for a neural solver: "
                   f"{cells:,} cells, and it takes at most {MAX_CELLS:,} (1001 x 1001)")
        if refused is None and not self.fits(shape):
            refused = f"a {shape[0]}x{shape[1]} grid is larger than this {self.name} model addresses"
        if refused is not None:
            for puzzle, original in zip(rows, originals):
                yield Result(task=self.task.name, solver=self.name, puzzle=self.task.text(puzzle, shape, original),
                             solution=None, verified=False, seconds=0.0, error=refused)
            return
        loops = config.loops
        sampler = models.decoder(self.kind, self.model, self.task, config, self.device, self.autocast)
        chunk = np.stack(rows).astype(np.int64)
        with idle_threads(self.device):  # beside a busy process, threads spin-wait on each other
            held, nxt = {}, 0  # outcomes that wait for an earlier puzzle to be final
            for k, o in sampler.solve_iter(chunk, on_step=on_step, shape=shape):
                held[k] = o
                while nxt in held:
                    yield self._result(chunk[nxt], originals[nxt], held.pop(nxt), shape, loops, config)
                    nxt += 1

    @property
    def decoder(self) -> str:
        """The decoder it reads the model with (argmax, native or sampler)."""
        return models.decoder_of(self.kind, self.config.decoder)

    @property
    def reads_steps(self) -> bool:
        """Whether its decoder stops at `max_steps` model calls a chain: the sampler and the native unmasking
        and segment decoders do; argmax makes one call, the AR kinds one a cell, whatever the step limit."""
        return self.kind not in ("ar", "ar-solver") and self.decoder != "argmax"

    def _result(self, puzzle: np.ndarray, original, o, shape, loops: int, config: SamplerConfig) -> Result:
        """The Result of one puzzle's Outcome (`original`: the puzzle as given, for its text)."""
        extra = {"steps": o.steps, "commits": o.commits, "retractions": o.retractions, "loops": loops,
                 "decoder": self.decoder, "rules": config.rules,
                 "max_steps": config.max_steps if self.reads_steps else None,  # its budget: steps (None: fixed)
                 "time_limit": config.time_limit or 0.0, **o.extra}  # and seconds (0 = none)
        if "flops" not in extra:  # a decoder whose passes differ in cost counts its own (AR-solver)
            extra["flops"] = self.flops(shape, o.extra["passes"], o.extra["loops_run"])
        text = self.task.text(o.values, shape, original)
        if not o.verified:
            extra["final"] = text
        return Result(
            task=self.task.name, solver=self.name, puzzle=self.task.text(puzzle, shape, original),
            solution=text if o.verified else None, verified=o.verified,
            seconds=o.seconds, error=None if o.verified else
            "gave up at the time limit" if o.extra.get("timed_out") else "not solved within the step limit",
            extra=extra,
        )
