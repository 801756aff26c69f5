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
from csp_diffusion.decoders import ARDecoder, ArgmaxDecoder, ARSolverDecoder, OneByOne, RecurrentDecoder, UnmaskDecoder
from csp_diffusion.errors import CheckpointError
from csp_diffusion.hrm import HRM, HRMConfig
from csp_diffusion.loopmdm import LoopMDM, LoopMDMConfig
from csp_diffusion.objectives import ARObjective, ARSolverObjective, HRMObjective, MDMObjective, TRMObjective
from csp_diffusion.sampler import Sampler
from csp_diffusion.trm import TRM, TRMConfig
from puzzles.contract import neural
from puzzles.domains import per_puzzle
from puzzles.errors import UserError

DECODERS = ("argmax", "native", "sampler")  # how a model's predictions become an answer (decoders.py)
_MDM = {"argmax": ArgmaxDecoder, "native": UnmaskDecoder, "sampler": Sampler}
_RECURRENT = {"argmax": ArgmaxDecoder, "native": RecurrentDecoder, "sampler": Sampler}


@dataclass(frozen=True)
class Kind:
    config: type
    network: type
    decoders: dict  # decoder name -> class(model, task, SamplerConfig, device, autocast).solve(puzzles, on_step, shape)
    default_decoder: str  # what `csp solve` and `csp bench` read it with unless told
    objective: type  # what one training step optimizes
    blurb: str


MODELS = {
    "loopmdm": Kind(LoopMDMConfig, LoopMDM, _MDM, "sampler", MDMObjective, "LoopMDM, the looped masked-diffusion solver"),
    "ar": Kind(ARConfig, AR, dict.fromkeys(DECODERS, ARDecoder), "argmax", ARObjective,
               "the row-major autoregressive baseline"),
    "ar-solver": Kind(ARSolverConfig, ARSolver, dict.fromkeys(DECODERS, ARSolverDecoder), "argmax", ARSolverObjective,
                      "the solver-order autoregressive baseline (Shah et al. 2024)"),
    "hrm": Kind(HRMConfig, HRM, _RECURRENT, "native", HRMObjective, "the HRM-style dual-timescale baseline"),
    "trm": Kind(TRMConfig, TRM, _RECURRENT, "native", TRMObjective, "TRM, the tiny recursive model"),
}
DEFAULT = "loopmdm"  # the solver people get unless they name another
NATIVE_STEPS = {"loopmdm": 32, "hrm": 16, "trm": 16}  # the native decoders' model calls: HRM's and TRM's code
# evaluates 16 segments (halt_max_steps); the MDM's unmasking 32 steps, the commit loop's count in the decoder study
SAMPLED_CHAINS = 8  # an AR kind's chains under `--decoder sampler` unless told
SAMPLER_STEPS = 32  # a recurrent kind's sampler steps (one segment each) unless told
DEFAULT_SEGMENTS = 64  # HRM's and TRM's segment cap when no decoder is named (their reading before decoders were
# a choice); `--decoder native` reads them as their papers do, 16


def decoder_of(kind: str, name: str | None) -> str:
    """The decoder `name` for `kind` (None: the kind's default); UserError for a name no kind has."""
    if name is None:
        return MODELS[kind].default_decoder
    if name not in DECODERS:
        raise UserError(f"unknown decoder {name!r}; choose from {', '.join(DECODERS)}")
    return name


def sampling_defaults(kind: str, task, decoder: str | None = None) -> dict:
    """SamplerConfig's decoder, chains and step limit for `kind` on `task` (a task object) read with `decoder`
    (None: the kind's own) where none are given: LoopMDM's sampler takes the task's chains and steps
    (`task.chains`, `task.steps`); a native decoder its paper's model calls (NATIVE_STEPS; HRM and TRM read
    with no decoder named, DEFAULT_SEGMENTS); an AR kind's
    sampler SAMPLED_CHAINS chains; a recurrent kind's sampler SAMPLER_STEPS steps; the rest one chain."""
    name = decoder_of(kind, decoder)
    out = {"decoder": name, "chains": 1}
    if name == "sampler" and kind == "loopmdm":
        out.update(chains=task.chains, max_steps=task.steps)
    elif name == "sampler" and kind in ("ar", "ar-solver"):
        out.update(chains=SAMPLED_CHAINS)
    elif name == "sampler":
        out.update(max_steps=SAMPLER_STEPS)
    elif name == "native" and kind != "loopmdm" and decoder is None:
        out.update(max_steps=DEFAULT_SEGMENTS)  # `csp solve --solver hrm` as it always was: up to 64 segments
    elif name == "native" and kind in NATIVE_STEPS:
        out.update(max_steps=NATIVE_STEPS[kind])
    return out


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
    """The inference procedure for a model kind read with `config.decoder` (None: the kind's own), with
    `solve(puzzles, on_step=None, shape=None)` and `solve_iter`; on a task whose structure differs per puzzle
    (Kakuro), one puzzle at a time (`decoders.OneByOne`)."""
    check_task(kind, task)
    made = MODELS[kind].decoders[decoder_of(kind, config.decoder)](model, task, config, device, autocast)
    return OneByOne(made) if per_puzzle(task) else made


def check_task(kind: str, task) -> None:
    """UserError when `kind` cannot run on `task`: the AR kinds write cells in an order of rows and columns
    (`task.axes`), which a task whose cells carry none (Kakuro, whose model reads its runs) lacks."""
    if not runs_on(kind, task):
        raise UserError(f"{kind} writes cells in an order of rows and columns, which {task.name} cells do not "
                        f"carry; choose from {', '.join(k for k in MODELS if runs_on(k, task))}")


def runs_on(kind: str, task) -> bool:
    """Whether model `kind` can train and run on `task` (`check_task`): a task with the neural capability whose
    cells carry the axes the kind writes in, where it needs them."""
    return neural(task) and not (MODELS[kind].network.needs_positions and not task.axes)


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
