"""`csp train MODEL --task TASK`: train a neural solver with a live progress display."""

import json
from dataclasses import fields
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from cli.common import PlainProgress, console, err_console, fail, guarded, model_task
from cli.options import MODEL_TASKS, Device
from puzzles.domains import DEFAULT

# Without `from __future__ import annotations`: the options' help below is made from TrainConfig's
# defaults inside `_command`, so its annotations are evaluated there, not looked up as names later.


def _parse_overrides(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise fail(f"--set expects KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


class _ModelKinds(TyperGroup):
    """`csp train`'s commands, one per model kind, made when first listed or called: the kinds and the
    training defaults live in modules that load torch, which `csp --help` should not wait for."""

    def _made(self) -> dict:
        if not self.commands:
            from csp_diffusion import models

            kinds = typer.Typer()
            for kind, spec in models.MODELS.items():
                kinds.command(kind, help=f"Train {spec.blurb}. CPU by default, CUDA when present; runs unchanged "
                              f"under torchrun.\n\nExamples:\n\ncsp train {kind} --task {DEFAULT} --minutes 10\n"
                              f"csp train {kind} --resume runs/{DEFAULT}-{kind} --minutes 20")(guarded(_command(kind)))
            self.commands.update(typer.main.get_group(kinds).commands)
        return self.commands

    def list_commands(self, ctx) -> list[str]:
        return list(self._made())

    def get_command(self, ctx, cmd_name: str):
        return self._made().get(cmd_name)


_OTHER = next((name for name in MODEL_TASKS if name != DEFAULT), DEFAULT)  # an example's task other than the default
train_app = typer.Typer(cls=_ModelKinds, help=f"Train neural solvers.\n\nExample:\n\ncsp train loopmdm --task {_OTHER} "
                        "--minutes 30", no_args_is_help=True)


def _listed(parts: list[str]) -> str:
    """'a, b or c'."""
    return " or ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)


# what `--pool-mix` may name and `--grid` sets, per task (its own words, `pool_help`)
POOL_MIX = _listed([f"{name} {task.pool_help}" for name, task in MODEL_TASKS.items()])
SIZED = {name: task.TRAIN_SIZE for name, task in MODEL_TASKS.items() if task.TRAIN_SIZE}


def _command(kind: str):
    """`csp train KIND`, its defaults TrainConfig's."""
    from csp_diffusion.train import DEFAULT_STEPS, TrainConfig, check

    default = {f.name: f.default for f in fields(TrainConfig)}

    def command(
        task: Annotated[str | None, typer.Option(help=f"Puzzle task: {' or '.join(MODEL_TASKS)} (default {default['task']}; "
                                                 "with --resume, the run's).")] = None,
        minutes: Annotated[float | None, typer.Option(
            help="Training budget in minutes of training: evaluations and checkpoints are not counted.")] = None,
        steps: Annotated[int | None, typer.Option(
            help=f"Step budget (default {DEFAULT_STEPS} when no other budget).")] = None,
        flops: Annotated[float | None, typer.Option(
            min=1.0, help="Training-FLOP budget, e.g. 1e13: forward and backward as every model kind counts them, "
                          "the budget that stays fair beside a busy process. With several budgets the first reached "
                          "ends the run.")] = None,
        out: Annotated[Path | None, typer.Option(
            help="Run folder: model.safetensors, state.pt, log.jsonl (default runs/TASK-MODEL).")] = None,
        resume: Annotated[Path | None, typer.Option(help="Continue the run in this folder exactly where it stopped.")] = None,
        force: Annotated[bool, typer.Option(
            help="Start over in an --out folder that holds a run (its log and state go).")] = False,
        checkpoint_every: Annotated[str, typer.Option(
            help="Checkpoint every N minutes of training (e.g. 3), or every N steps (e.g. 200steps); the "
                 "first comes after step 1. A kill loses at most this much work.")] = str(
                     default["checkpoint_every_minutes"]),
        init: Annotated[Path | None, typer.Option(
            help="Fine-tune: start from this model checkpoint's weights and config.")] = None,
        seed: Annotated[int, typer.Option(help="Seed of weights, data order and noise.")] = default["seed"],
        batch_size: Annotated[int, typer.Option(help="Puzzles per step (per process).")] = default["batch_size"],
        lr: Annotated[float, typer.Option(help="Peak learning rate.")] = default["lr"],
        pool_size: Annotated[int, typer.Option(
            help="Generated puzzles in the training pool (cached).")] = default["pool_size"],
        pool_mix: Annotated[str | None, typer.Option(
            help=f"The pool's generators, comma-separated, in equal shares: {POOL_MIX}.")] = None,
        eval_every: Annotated[float, typer.Option(
            help="Minutes between held-out solve-rate checks.")] = default["eval_every_minutes"],
        device: Device = None,
        bf16: Annotated[bool, typer.Option(help="bf16 autocast.")] = default["autocast"],
        grid: Annotated[int | None, typer.Option(help=f"{' and '.join(SIZED)}: side of the training grids (default "
                                                 f"{', '.join(map(str, SIZED.values()))}); smaller puzzles sit "
                                                 "inside.")] = None,
        set_: Annotated[list[str] | None, typer.Option(
            "--set", help="Model config override KEY=VALUE, e.g. --set dim=64.")] = None,
    ) -> None:
        if init is not None and resume is not None:
            raise fail("--init starts a fine-tune from a model; --resume continues a run as it was: give one of them")
        if resume is not None and task is None:
            task = _run_task(resume)
        task = task or default["task"]
        model_task(task)  # an unknown task, or one no model runs on, is one line before the run's folder is looked at
        folder = resume or out or Path("runs") / f"{task}-{kind}"
        if resume is not None and not (folder / "state.pt").is_file():
            raise fail(f"no such training state: {folder / 'state.pt'}")
        every_minutes, every_steps = _interval(checkpoint_every)
        cfg = TrainConfig(task=task, model=kind, model_config=_parse_overrides(set_ or []), steps=steps,
                          minutes=minutes, flops=flops, seed=seed, batch_size=batch_size, lr=lr, pool_size=pool_size,
                          pool_mix=None if pool_mix is None else [d.strip() for d in pool_mix.split(",") if d.strip()],
                          eval_every_minutes=eval_every, device=device, autocast=bf16,
                          init=str(init) if init else None, grid=grid, checkpoint_every_minutes=every_minutes,
                          checkpoint_every_steps=every_steps)
        check(cfg)
        _train(cfg, folder, resume is not None, force)

    return command


def _interval(text: str) -> tuple[float | None, int | None]:
    """(minutes, steps) of a --checkpoint-every value: "3" or "2.5" minutes, "200steps" steps."""
    raw = text.strip().lower()
    try:
        if raw.endswith("steps"):
            steps = int(raw[:-5].strip())
            if steps >= 1:
                return None, steps
        else:
            minutes = float(raw.removesuffix("min").removesuffix("m").strip())
            if minutes > 0:
                return minutes, None
    except ValueError:
        pass
    raise fail(f"--checkpoint-every takes minutes (3) or steps (200steps), got {text!r}")


def _run_task(folder: Path) -> str:
    from csp_diffusion.checkpoint import load_state  # one error line for a missing or damaged state

    return load_state(Path(folder) / "state.pt")["train_config"]["task"]


def _train(cfg, out: Path, resume: bool, force: bool = False) -> None:
    from rich.live import Live
    from rich.table import Table

    from csp_diffusion.train import train

    model, task = cfg.model, cfg.task
    status = {"step": 0, "loss": None, "solve_rate": None, "minutes": 0.0, "progress": 0.0, "note": "preparing data"}

    def view() -> Table:
        t = Table.grid(padding=(0, 2))
        bar_w = 30
        filled = int(bar_w * min(1.0, status["progress"]))
        t.add_row(
            f"[bold]{model}[/] on {task}",
            f"[green]{'█' * filled}[/][dim]{'░' * (bar_w - filled)}[/] {100 * status['progress']:5.1f}%",
            f"step {status['step']}",
            "loss " + ("-" if status["loss"] is None else f"{status['loss']:.4f}"),
            "held-out solved " + ("-" if status["solve_rate"] is None else f"{100 * status['solve_rate']:.0f}%"),
            f"{status['minutes']:.1f} training min",
            status["note"],
        )
        return t

    if not err_console.is_terminal:  # a log file or CI: plain lines, not a live display that shows nothing until it ends
        result = train(cfg, Path(out), resume=resume, on_event=_plain_events(model, task), force=force)
        _done(result, out)
        return
    with Live(view(), console=err_console, refresh_per_second=2, transient=False, redirect_stdout=False) as live:
        def on_event(e: dict) -> None:
            kind = e.get("event")
            if kind == "start":
                status["note"] = f"{e['params'] / 1e6:.2f}M params on {e['device']}" + (" (resumed)" if e["resumed"] else "")
            for k in ("step", "loss", "solve_rate", "minutes", "progress"):
                if k in e and e[k] is not None:
                    status[k] = e[k]
            if kind == "checkpoint":
                status["note"] = f"checkpoint at step {e['step']}"
            if kind == "phase":
                status["note"] = e["what"]
            live.update(view())

        result = train(cfg, Path(out), resume=resume, on_event=on_event, force=force)
    _done(result, out)


def _plain_events(model: str, task: str):
    """`train`'s on_event off a terminal: a line per phase and at most one progress line a minute."""
    lines = PlainProgress()
    last = {"solve_rate": None}

    def on_event(e: dict) -> None:
        kind = e.get("event")
        if kind == "phase":
            lines.phase(f"{model} on {task}: {e['what']}")
        elif kind == "start":
            lines.phase(f"{model} on {task}: training, {e['params'] / 1e6:.2f}M params on {e['device']}"
                        + (" (resumed)" if e["resumed"] else ""))
        elif kind in ("step", "eval"):
            if e.get("solve_rate") is not None:
                last["solve_rate"] = e["solve_rate"]
            rate = "" if last["solve_rate"] is None else f" · held-out solved {100 * last['solve_rate']:.0f}%"
            loss = f" · loss {e['loss']:.4f}" if e.get("loss") is not None else ""
            lines.tick(f"{model} on {task}: {100 * e.get('progress', 0):.0f}% · step {e['step']}{loss}{rate}")

    return on_event


def _done(result: dict, out: Path) -> None:
    console.print(f"trained {result['step']} steps in {result['minutes']:.1f} training minutes; final loss {result['loss']:.4f}"
                  + (f"; held-out solve rate {100 * result['solve_rate']:.1f}%" if "solve_rate" in result else "")
                  + f"; weights in {Path(out) / 'model.safetensors'}", markup=False)
