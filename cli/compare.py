"""`csp compare`: the architecture study."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app
from cli.common import PlainProgress, console, err_console, fail, guarded, model_task, progress
from cli.options import Device, Task, library_help
from puzzles.domains import DEFAULT

OUT = Path("runs/compare")


def _study_defaults() -> dict[str, object]:
    from dataclasses import fields

    from csp_diffusion.study import Study

    facts = {f.name: f.default for f in fields(Study)}
    facts["budgets"] = ",".join(f"{b:.3g}".replace("+", "") for b in facts["budgets"])
    facts["variants"] = ", ".join(facts["variants"])
    facts["decoders"] = ",".join(facts["decoders"])
    return facts


@app.command("compare", cls=library_help(_study_defaults))
@guarded
def compare(
    task: Task = DEFAULT,
    flops: Annotated[str | None, typer.Option(
        "--flops", help="Training-FLOP budgets, comma-separated (e.g. 1e13,3e13): one run per variant and seed trains "
        "to the largest and keeps a snapshot at each, scored on every tier (default {budgets}).")] = None,
    variants: Annotated[str | None, typer.Option(
        "--variants", help="Comma-separated subset of the variants (default all: {variants}).")] = None,
    seeds: Annotated[int | None, typer.Option("--seeds", min=1, help="Runs per variant (default {seeds}).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the runs, results.json, report.md, plots.")] = OUT,
    eval_puzzles: Annotated[int | None, typer.Option(
        "--eval-puzzles", min=1, help="Held-out generated puzzles to score on (default {eval_puzzles}).")] = None,
    k_max: Annotated[int | None, typer.Option(
        "--k-max", min=2, help="LoopMDM's most loops in training, which sets mdm-same-compute's depth (default "
        "{k_max}).")] = None,
    dim: Annotated[int | None, typer.Option(
        "--dim", min=8, help="LoopMDM's width; every other variant gets the width that matches its parameter count "
        "(default {dim}).")] = None,
    decoders: Annotated[str | None, typer.Option(
        "--decoder", help="Decoders every variant is scored with, comma-separated, of argmax, native, sampler (the "
        "rule check on); each architecture claim compares two variants under one of them (default {decoders}).")] = None,
    device: Device = None,
) -> None:
    """Train LoopMDM, a same-parameter MDM, a same-compute deeper MDM, row-major and solver-order AR, HRM and
    TRM (each with its paper's optimizer settings) at matched parameters, one run per seed with a snapshot at each
    training-FLOP budget; score every snapshot on a ladder of held-out tiers; gate each variant on whether it learned;
    write a report that decides each claim by an interval on its difference. Resumable: runs and scores are kept.

    Example:

    csp compare --task sudoku --flops 1e13 --seeds 1 --variants loopmdm,mdm-same-params"""
    t = model_task(task)  # an unknown task, or one no model runs on, is one line before torch loads
    from csp_diffusion.study import Study, run

    given = {"budgets": _budgets(flops) if flops else None, "seeds": seeds, "eval_puzzles": eval_puzzles,
             "k_max": k_max, "dim": dim, "variants": _variants(variants) if variants else None,
             "decoders": _decoders(decoders) if decoders else None}
    study = Study(task=task, device=device, **{k: v for k, v in given.items() if v is not None})
    if not err_console.is_terminal:  # a log file or CI: plain lines, not a live display that shows nothing until it ends
        run(study, out, _plain_events(_scores(study, t)))
        _report(out)
        return
    total = _scores(study, t)
    with progress() as bar:
        job = bar.add_task("compare", total=total, status="")

        def on_event(e: dict) -> None:
            if e.get("event") == "phase":
                bar.update(job, status=e["what"])
            elif e.get("event") == "variant":
                bar.update(job, status=f"{e['name']} seed {e['seed']} at {e['budget']:.3g} FLOPs")
            elif e.get("event") == "step":
                bar.update(job, status=f"{e.get('progress', 0) * 100:.0f}% · loss {e['loss']:.3f}")
            elif e.get("event") == "evaluated":
                bar.update(job, advance=1, status=f"{e['variant']} seed {e['seed']} {e.get('tier') or ''}: "
                                                        f"{100 * e['solve_rate']:.0f}%")

        run(study, out, on_event)
    _report(out)


def _scores(study, task) -> int:
    """How many (snapshot, tier) rows the study scores (`task`: its task object): its progress bar's length."""
    tiers = len(study.tiers) or len(task.study_tiers)
    return sum(study.seeds_of(v) for v in study.variants) * len(study.budgets) * tiers


def _plain_events(total: int):
    """`run`'s on_event off a terminal: a line per phase (pool, training a variant's seed, evaluation) and at
    most one progress line a minute."""
    lines = PlainProgress()
    done = {"n": 0, "run": ""}

    def on_event(e: dict) -> None:
        kind = e.get("event")
        if kind == "phase":
            lines.phase(f"{done['run']}: {e['what']}" if done["run"] and "training pool" in e["what"] else e["what"])
        elif kind == "variant":
            done["run"] = f"{e['name']} seed {e['seed']} at {e['budget']:.3g} FLOPs"
            lines.phase(f"training {done['run']} ({done['n'] + 1}/{total})")
        elif kind == "step":
            lines.tick(f"{done['run']}: {e.get('progress', 0) * 100:.0f}% · step {e['step']} · loss {e['loss']:.3f}")
        elif kind == "evaluated":
            done["n"] += 1
            where = f"{e['variant']} seed {e['seed']}" + (f" {e['tier']}" if e.get("tier") else "")
            lines.phase(f"{where}: {100 * e['solve_rate']:.0f}% solved ({done['n']}/{total})")

    return on_event


def _budgets(text: str) -> tuple[float, ...]:
    try:
        budgets = tuple(sorted({float(x) for x in text.split(",") if x.strip()}))
    except ValueError:
        raise fail(f"--flops takes comma-separated numbers such as 1e13,3e13, got {text!r}") from None
    if not budgets or min(budgets) < 1e6:
        raise fail(f"--flops budgets must be at least 1e6 training FLOPs, got {text!r}")
    return budgets


def _names(text: str, known: tuple[str, ...], what: str) -> tuple[str, ...]:
    """The comma-separated names of `text`, in order, once each; one line and exit 2 for any not in `known`."""
    picked = tuple(dict.fromkeys(x.strip() for x in text.split(",") if x.strip()))
    unknown = [v for v in picked if v not in known]
    if unknown or not picked:
        raise fail(f"unknown {what}(s) {', '.join(unknown) or text!r}; choose from {', '.join(known)}")
    return picked


def _decoders(text: str) -> tuple[str, ...]:
    from csp_diffusion.models import DECODERS

    return _names(text, DECODERS, "decoder")


def _variants(text: str) -> tuple[str, ...]:
    from csp_diffusion.study import VARIANTS

    return _names(text, VARIANTS, "variant")


def _report(out: Path) -> None:
    console.print((out / "report.md").read_text(), highlight=False, soft_wrap=True, markup=False)
    console.print(f"report: {out / 'report.md'}; results: {out / 'results.json'}", highlight=False, markup=False)
