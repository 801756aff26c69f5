"""The registry of model kinds (config, network, decoding, training objective), building and loading.

Adding a model kind is one file for its network (and, if it needs them, its decoding in
decoders.py and its objective in objectives.py) plus one entry in MODELS; the CLI, training,
bench and compare read the kinds from here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from csp_diffusion.ar import AR, ARConfig
from csp_diffusion.ar_solver import ARSolver, ARSolverConfig
from csp_diffusion.checkpoint import read_model
from csp_diffusion.decoders import ARDecoder, ARSolverDecoder, RecurrentDecoder
from csp_diffusion.errors import CheckpointError
from csp_diffusion.hrm import HRM, HRMConfig
from csp_diffusion.loopmdm import LoopMDM, LoopMDMConfig
from csp_diffusion.objectives import ARObjective, ARSolverObjective, HRMObjective, MDMObjective, TRMObjective
from csp_diffusion.sampler import Sampler
from csp_diffusion.trm import TRM, TRMConfig
from puzzles.errors import UserError


@dataclass(frozen=True)
class Kind:
    config: type
    network: type
    decoder: type  # decoder(model, task, SamplerConfig, device, autocast).solve(puzzles, on_step, shape)
    objective: type  # what one training step optimizes
    blurb: str
    chains: int | None = 1  # chains per puzzle by default; None = the task's own (`sampling_defaults`)


MODELS = {
    "loopmdm": Kind(LoopMDMConfig, LoopMDM, Sampler, MDMObjective, "LoopMDM, the looped masked-diffusion solver", None),
    "ar": Kind(ARConfig, AR, ARDecoder, ARObjective, "the row-major autoregressive baseline"),
    "ar-solver": Kind(ARSolverConfig, ARSolver, ARSolverDecoder, ARSolverObjective,
                      "the solver-order autoregressive baseline (Shah et al. 2024)"),
    "hrm": Kind(HRMConfig, HRM, RecurrentDecoder, HRMObjective, "the HRM-style dual-timescale baseline"),
    "trm": Kind(TRMConfig, TRM, RecurrentDecoder, TRMObjective, "TRM, the tiny recursive model"),
}
DEFAULT = "loopmdm"  # the solver people get unless they name another


def sampling_defaults(kind: str, task) -> dict:
    """SamplerConfig's chains and step limit for `kind` on `task` (a task object) where none are given: a kind
    with chains None (LoopMDM) takes the task's own (`task.chains`, `task.steps`), the others their own chain
    count and the sampler's step limit."""
    own = MODELS[kind].chains
    if own is None:
        return {"chains": task.chains, "max_steps": task.steps}
    return {"chains": own}


def kind_of(name: str) -> str | None:
    """The model kind a neural solver's name names: a kind ("trm") or a kind at a training budget
    ("trm@1e13", a shipped model of the matched set); None for any other name."""
    kind, at, budget = name.partition("@")
    if kind not in MODELS:
        return None
    if not at:
        return kind
    try:
        return kind if float(budget) > 0 else None
    except ValueError:
        return None


def decoder(kind: str, model, task, config, device: torch.device, autocast: bool = False):
    """The inference procedure for a model kind, with `solve(puzzles, on_step=None, shape=None)`."""
    return MODELS[kind].decoder(model, task, config, device, autocast)


def check_config(config: dict) -> None:
    """UserError on settings no network can have (from --set or a hand-edited checkpoint): a size
    below 1, or a width the attention heads do not divide."""
    for key, value in config.items():
        may_be_zero = ("slots", "prelude", "coda", "tokens", "trace", "trace_reveal")
        if isinstance(value, int) and not isinstance(value, bool) and key not in may_be_zero and value < 1:
            raise UserError(f"model setting {key}={value} must be at least 1")
    if not 0 <= config.get("trace_reveal", 0) <= 1:
        raise UserError(f"model setting trace_reveal={config['trace_reveal']} must be between 0 and 1")
    if config.get("dim", 1) % config.get("heads", 1):
        raise UserError(f"model setting dim={config['dim']} must be a multiple of heads={config['heads']}")


def build(kind: str, config: dict) -> torch.nn.Module:
    """The network of `kind` from its config (checked by `check_config`)."""
    c = MODELS[kind].config.from_dict(config)
    check_config(c.to_dict())
    return MODELS[kind].network(c)


def load(path: Path, kind: str | None = None, task: str | None = None, device: torch.device | None = None):
    """(model in eval mode, metadata) from a safetensors checkpoint; checks kind and task when given."""
    tensors, meta = read_model(path)
    if meta["kind"] not in MODELS:
        raise CheckpointError(f"{path}: unknown model kind {meta['kind']!r}")
    if kind and meta["kind"] != kind:
        raise CheckpointError(f"{path} holds a {meta['kind']} model, not {kind}")
    if task and meta["task"] != task:
        raise CheckpointError(f"{path} was trained for {meta['task']}, not {task}")
    broken = [k for k, t in tensors.items() if t.is_floating_point() and not torch.isfinite(t).all()]
    if broken:
        raise CheckpointError(f"{path} holds non-finite weights (NaN or infinity, as a diverged run leaves) in "
                              f"{broken[0]}" + (f" and {len(broken) - 1} more" if len(broken) > 1 else ""))
    try:
        model = build(meta["kind"], meta["config"])
        model.load_state_dict(tensors)
    except (TypeError, RuntimeError, KeyError) as e:
        raise CheckpointError(f"{path}: weights do not match the stored config ({type(e).__name__})") from None
    return model.to(device or "cpu").eval(), meta
