"""The `csp` application: sub-apps for solving, generating and training."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="csp",
    help="Solve constraint-satisfaction puzzles (Sudoku, mazes) with looped masked-diffusion models and exact oracles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
solve_app = typer.Typer(help="Solve puzzles.", no_args_is_help=True)
generate_app = typer.Typer(help="Generate puzzles.", no_args_is_help=True)

# Each module registers its commands on `app` or on the sub-apps above (one per puzzle domain: its
# solve and generate commands); `csp train` is a sub-app of its own.
from cli import bench, compare, maze, sudoku  # noqa: E402,F401
from cli.train import train_app  # noqa: E402

app.add_typer(solve_app, name="solve")
app.add_typer(generate_app, name="generate")
app.add_typer(train_app, name="train")


def main() -> None:
    """The console entry point: as `app()`, except that a usage error (an unknown option, a missing
    argument, a bad value) is one red line on stderr, exit 2, like every other error."""
    import sys

    from cli.common import fail

    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        code = fail("aborted", 1).exit_code
    except Exception as e:  # click's exceptions (Typer vendors click, so they are matched by shape)
        if not (hasattr(e, "format_message") and hasattr(e, "exit_code")):
            raise
        if type(e).__name__ == "NoArgsIsHelpError":  # a bare group: its help, as click prints it
            e.show()
            sys.exit(e.exit_code)
        ctx = getattr(e, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        code = fail(e.format_message() + hint, e.exit_code).exit_code
    sys.exit(code if isinstance(code, int) else 0)
