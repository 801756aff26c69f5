"""The `csp` application: sub-apps for solving, generating and training."""

from __future__ import annotations

import inspect

import typer
from typer.core import TyperOption

from puzzles.contract import TERMINAL, capable
from puzzles.domains import TASKS

HELP = {"help_option_names": ["-h", "--help"]}  # every command's context inherits these from the app's


def _examples(help: str) -> list[str]:
    """The example command lines of a kind's help (its last paragraph's lines that start `csp `)."""
    return [line for line in help.rsplit("\n\n", 1)[-1].splitlines() if line.startswith("csp ")]


_terminals = {name: task.terminal for name, task in TASKS.items() if capable(task, TERMINAL)}
_generators = {name: t.generator for name, t in _terminals.items() if t.generator is not None}

app = typer.Typer(
    name="csp",
    help=f"Solve constraint-satisfaction puzzles ({', '.join(TASKS)}) with looped masked-diffusion models and exact "
    "oracles.\n\nExamples:\n\n"
    + "\n".join([min(_examples(t.help), key=len) for t in _terminals.values()] + [f"csp solve {next(iter(_terminals))} -h"]),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings=HELP,
)
solve_app = typer.Typer(help="Solve puzzles, one command per kind.\n\nExamples:\n\n"
                        + "\n".join(_examples(t.help)[-1] for t in _terminals.values()), no_args_is_help=True)
generate_app = typer.Typer(help="Generate puzzles, one command per kind.\n\nExamples:\n\n"
                           + "\n".join(_examples(g.help)[0] for g in _generators.values()), no_args_is_help=True)


def _flag_type(display_type_rich):
    """Help shows a value's type beside an option that takes one, and no `<bool>` beside a flag, which takes none."""

    def shown(self, ctx):
        return None if self.is_flag or self.count else display_type_rich(self, ctx)

    return shown


if hasattr(TyperOption, "display_type_rich"):  # the Typer versions whose help writes a type tag
    TyperOption.display_type_rich = _flag_type(TyperOption.display_type_rich)

# Each module registers its commands on `app` or on the sub-apps above (`cli.solve` and `cli.generate`: one command
# per kind in the registry); `csp train` is a sub-app of its own.
from cli import bench, compare, generate, solve  # noqa: E402,F401
from cli.train import train_app  # noqa: E402


def version() -> str:
    """The installed package's version; from a source tree that is not installed, pyproject.toml's."""
    from importlib import metadata

    try:
        return metadata.version("csp-diffusion")
    except metadata.PackageNotFoundError:
        import re
        from pathlib import Path

        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        try:
            found = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(), re.MULTILINE)
        except OSError:
            found = None
        return found.group(1) if found else "unknown"


def _print_version(given: bool) -> None:
    if given:
        typer.echo(f"csp {version()}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                      help="Print the version and exit."),
) -> None:
    pass


def _prose(doc: str) -> str:
    """A docstring as help text: each paragraph's lines joined into one, which rich wraps to the terminal (it keeps a
    docstring's own line breaks, ragged at any other width), but for a paragraph of examples (lines that start `csp `)."""
    paragraphs = [p.splitlines() for p in doc.split("\n\n")]
    return "\n\n".join("\n".join(p) if all(line.startswith("csp ") for line in p) else " ".join(line.strip() for line in p)
                       for p in paragraphs)


for _typer in (app, solve_app, generate_app):
    for _info in _typer.registered_commands:
        if _info.help is None and _info.callback is not None and _info.callback.__doc__:
            _info.help = _prose(inspect.getdoc(_info.callback))

app.add_typer(solve_app, name="solve")
app.add_typer(generate_app, name="generate")
app.add_typer(train_app, name="train")


def main() -> None:
    """The console entry point: as `app()`, except that a usage error (an unknown option, a missing
    argument, a bad value) is one red line on stderr, exit 2, like every other error; and stdout's own
    failures: a reader gone (`csp ... | head -1`, a broken pipe) ends the command silently with exit 1,
    a full or closed stdout is one line on stderr and exit 1."""
    import sys

    if sys.stdout is None:  # started with stdout closed: saying so is left to the first write
        sys.stdout = _ClosedStdout()
    _end_on_sigterm()
    try:
        code = _run()
        sys.stdout.flush()  # what is still buffered fails here, not after the exit code is chosen
    except BrokenPipeError:
        _quiet_stdout()
        code = 1
    except OSError as e:
        if e.filename is not None or e.errno not in _STDOUT_ERRNOS:
            raise
        from cli.common import fail

        _quiet_stdout()
        code = fail(f"cannot write to stdout: {e.strerror}", 1).exit_code
    sys.exit(code)


def _end_on_sigterm() -> None:
    """SIGTERM (`kill`, a scheduler's stop) ends the command as an exception does, exit 143: what is running stops
    its worker processes on the way out (`puzzles.workers`), a half-written file is not left behind. (A training
    run turns it into Ctrl-C while it trains, to checkpoint first.)"""
    import signal

    def terminated(signum, frame):
        import threading

        # a helper thread (a process pool's manager, the progress display's refresh) torn down mid-task may raise
        # on the way out; the command is ending on the user's signal, so that is no error to show
        threading.excepthook = lambda args: None
        raise SystemExit(128 + signum)

    try:
        signal.signal(signal.SIGTERM, terminated)
    except ValueError:  # not the main thread
        pass


def _run() -> int:
    import sys

    from cli.common import fail

    try:
        code = app(standalone_mode=False, prog_name="csp")
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
    return code if isinstance(code, int) else 0


import errno  # noqa: E402

_STDOUT_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EBADF, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


class _ClosedStdout:
    """sys.stdout when the process started without one: a write fails as writing to a closed descriptor does."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "it is closed")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(errno.EBADF, "it is closed")


def _quiet_stdout() -> None:
    """Point stdout at the null device, so that what is still buffered goes nowhere at exit instead of
    failing again (Python's advice for SIGPIPE, docs.python.org/3/library/signal.html#note-on-sigpipe)."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
