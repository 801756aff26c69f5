"""The CLI at a terminal: results on stdout and nothing else, progress and messages on stderr, whichever of them
is a terminal; user text shown as it is, never read as rich markup; bounded stdin; seeds; help and version."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cli_checks import one_line_error
from typer.testing import CliRunner

from cli.app import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "puzzles" / "data" / "sample.sudoku"
PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"


def cli(*args: str, **kwargs):
    return CliRunner().invoke(app, [str(a) for a in args], **kwargs)


def _under_pty(args: list[str], terminal: str) -> tuple[subprocess.CompletedProcess, str]:
    """Run `csp ARGS` with `terminal` ("stderr" or "stdout") on a pseudo-terminal (stdin too) and the other stream
    on a pipe: (the process, with the piped stream's text, and what the terminal received)."""
    master, slave = pty.openpty()
    received: list[bytes] = []

    def drain() -> None:  # read as it comes: a full terminal buffer would stall the command
        while True:
            try:
                block = os.read(master, 65536)
            except OSError:  # EIO once the last writer has closed the terminal
                return
            if not block:
                return
            received.append(block)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, terminal: slave}
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100", "TERM": "xterm-256color"}
    try:
        r = subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, stdin=slave, text=True, timeout=180,
                           env=env, **streams)
    finally:
        os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    return r, b"".join(received).decode("utf-8", "replace")


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


EXACT = ["solve", "sudoku", "--file", str(SAMPLE), "--json", "--solver", "cpsat"]


def test_json_reaches_piped_stdout_while_stderr_is_a_terminal():
    r, screen = _under_pty(EXACT, terminal="stderr")
    assert r.returncode == 0, screen
    records = _records(r.stdout)  # every line JSON, nothing else
    assert [x["source"] for x in records] == [f"{SAMPLE}:{k}" for k in (5, 6, 7)]
    assert all(x["solved"] and x["solver"] == "cpsat" for x in records)
    assert "solving (cpsat)" in screen and '"task"' not in screen  # the bar on the terminal, no result there


def test_json_reaches_a_terminal_stdout_while_stderr_is_piped():
    r, screen = _under_pty(EXACT, terminal="stdout")
    assert r.returncode == 0, r.stderr
    assert '"task"' not in r.stderr
    lines = [line for line in screen.replace("\r", "").splitlines() if line]
    assert [json.loads(line)["source"] for line in lines] == [f"{SAMPLE}:{k}" for k in (5, 6, 7)]


def test_the_neural_default_writes_only_json_to_stdout_with_a_terminal_on_stderr():
    r, screen = _under_pty(["solve", "sudoku", "--file", str(SAMPLE), "--json", "--limit", "2", "--device", "cpu"],
                           terminal="stderr")
    assert r.returncode in (0, 1), screen
    records = _records(r.stdout)
    assert [x["source"] for x in records] == [f"{SAMPLE}:5", f"{SAMPLE}:6"]
    assert "Traceback" not in screen and '"task"' not in screen


def test_a_table_reaches_piped_stdout_while_stderr_is_a_terminal():
    r, screen = _under_pty(["solve", "sudoku", "--file", str(SAMPLE), "--solver", "cpsat"], terminal="stderr")
    assert r.returncode == 0, screen
    assert "sudoku · cpsat" in r.stdout and "solving" not in r.stdout
    assert "solving (cpsat)" in screen and "unsolved" not in screen


# ---------------------------------------------------------------- user text is not rich markup


@pytest.mark.parametrize("args, shown", [
    (["solve", "sudoku", "[/]"], "[/]"),
    (["solve", "sudoku", "--file", "[/]"], "[/]"),
    (["solve", "sudoku", PUZZLE, "--solver", "[/]"], "'[/]'"),
    (["generate", "sudoku", "--difficulty", "[/]"], "'[/]'"),
    (["generate", "maze", "--kind", "[/]"], "'[/]'"),
    (["bench", "--puzzles", "[/]", "--solvers", "cpsat"], "[/]"),
    (["bench", "--puzzles", "gen:easy:2", "--task", "[/]"], "'[/]'"),
    (["solve", "maze", "[bold]x.txt"], "[bold]x.txt"),
    (["solve", "sudoku", "--file", "[bold]x.txt"], "[bold]x.txt"),
    (["generate", "sudoku", "-o", "[bold]/x.txt"], "[bold]/x.txt"),
])
def test_user_text_that_looks_like_markup_is_shown_verbatim(args, shown):
    line = one_line_error(cli(*args))
    assert shown in line, line


def test_a_markup_like_file_name_is_shown_verbatim_in_the_summary(tmp_path):
    f = tmp_path / "[red]p.sudoku"
    f.write_text(PUZZLE + "\n" + "12345678." + "." * 36 + "........9" + "." * 27 + "\n")
    r = cli("solve", "sudoku", "--file", f, "--solver", "cpsat")
    assert r.exit_code == 1, r.output
    assert f"{f}:2: not solved: no solution" in r.stdout


def test_a_markup_like_output_name_is_shown_verbatim(tmp_path):
    out = tmp_path / "[bold]m.txt"
    r = cli("generate", "maze", "-o", out)
    assert r.exit_code == 0, r.output
    assert r.stderr.strip() == f"wrote 1 maze to {out}"


# ---------------------------------------------------------------- bounded stdin, seeds


def test_an_endless_sudoku_stdin_is_one_line():
    with open("/dev/zero", "rb") as zero:
        r = subprocess.run([sys.executable, "-m", "cli", "solve", "sudoku", "--file", "-", "--solver", "cpsat"],
                           cwd=ROOT, stdin=zero, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["error: <stdin> has a line longer than 100,000 characters: not a puzzle file"]


def test_sudoku_stdin_still_reads_puzzles():
    r = cli("solve", "sudoku", "--file", "-", "--solver", "cpsat", "--json", input=SAMPLE.read_text())
    assert r.exit_code == 0, r.output
    assert len(_records(r.stdout)) == 3


@pytest.mark.parametrize("args, message", [
    (["generate", "maze", "--seed", "-1"], "error: --seed must be 0 or more, got -1"),
    (["generate", "sudoku", "--seed", "-1"], "error: --seed must be 0 or more, got -1"),
    (["bench", "--puzzles", "gen:easy:2:seed=-1", "--solvers", "cpsat"],
     "error: bad generator spec 'gen:easy:2:seed=-1': seed must be 0 or more"),
    (["train", "loopmdm", "--seed", "-1", "--out", "/nonexistent/run"], "error: seed must be 0 or more, got -1"),
])
def test_a_negative_seed_is_one_line(args, message):
    assert one_line_error(cli(*args)) == message


# ---------------------------------------------------------------- help and version


def _commands() -> list[list[str]]:
    from csp_diffusion import models

    return [[], ["solve"], ["generate"], ["train"], ["solve", "sudoku"], ["solve", "maze"], ["generate", "sudoku"],
            ["generate", "maze"], ["bench"], ["compare"], *(["train", kind] for kind in models.MODELS)]


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "csp")
def test_every_command_takes_h_and_shows_an_example_and_no_bool_tag(command):
    r = cli(*command, "-h", env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert r.stdout == cli(*command, "--help", env={"COLUMNS": "200"}).stdout
    assert "<bool>" not in r.stdout
    lines = [line.strip(" │") for line in r.stdout.splitlines()]
    heading = next(k for k, line in enumerate(lines) if line in ("Example:", "Examples:"))
    examples = lines[heading + 2:]
    examples = examples[:examples.index("")] if "" in examples else examples
    assert examples and all(line.startswith("csp ") for line in examples), lines[heading:]
    if len(command) == 2:  # a command's own examples run it
        assert any(line.startswith(f"csp {' '.join(command)}") for line in examples), examples
    prose = lines[:heading]
    assert not any(line.endswith(" no") or line.endswith(" and") for line in prose), prose  # no ragged docstring breaks


def test_version_is_the_package_version():
    from importlib import metadata

    r = cli("--version")
    assert r.exit_code == 0
    assert r.stdout == f"csp {metadata.version('csp-diffusion')}\n"


def test_version_falls_back_to_pyproject(monkeypatch):
    import re
    from importlib import metadata

    from cli import app as app_module

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    expected = re.search(r'^version = "(.+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert app_module.version() == expected


# ---------------------------------------------------------------- files that must not be replaced, runs refused early


@pytest.mark.parametrize("args", [["generate", "sudoku", "-o"], ["generate", "maze", "-o"],
                                  ["bench", "--puzzles", "gen:easy:2", "--solvers", "cpsat", "--csv"]],
                         ids=lambda a: " ".join(a[:2]))
def test_a_read_only_output_file_is_refused_before_work(args, tmp_path, monkeypatch):
    out = tmp_path / "kept.txt"
    out.write_text("keep me\n")
    out.chmod(0o444)
    from csp_diffusion import bench as b
    from puzzles import maze as mz
    from puzzles import sudoku as sd

    def no_work(*a, **k):
        raise AssertionError("work started")

    monkeypatch.setattr(sd, "generate", no_work)
    monkeypatch.setattr(mz, "generate", no_work)
    monkeypatch.setattr(b, "load", no_work)
    assert one_line_error(cli(*args, out)) == f"error: cannot write {out}: it is read-only"
    assert out.read_text() == "keep me\n"


def test_atomic_write_never_replaces_a_read_only_file(tmp_path):
    from puzzles.errors import UserError
    from puzzles.files import write_text

    out = tmp_path / "kept.txt"
    out.write_text("keep me\n")
    out.chmod(0o444)
    with pytest.raises(UserError, match="it is read-only"):
        write_text(out, "new\n")
    assert out.read_text() == "keep me\n"
    link = tmp_path / "link.txt"
    link.symlink_to(out)
    with pytest.raises(UserError, match="it is read-only"):
        write_text(link, "new\n")
    assert out.read_text() == "keep me\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in any folder")
def test_an_output_in_a_read_only_folder_is_refused_before_work(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        line = one_line_error(cli("generate", "sudoku", "-o", folder / "x.txt"))
    finally:
        folder.chmod(0o755)
    assert line == f"error: cannot write {folder / 'x.txt'}: no permission to write in {folder}"


@pytest.mark.parametrize("inside", [False, True], ids=["the file", "inside the file"])
def test_train_out_naming_a_file_is_refused_before_the_pool(inside, tmp_path, monkeypatch):
    monkeypatch.setenv("CSP_CACHE", str(tmp_path / "cache"))
    f = tmp_path / "notes.txt"
    f.write_text("mine\n")
    out = f / "run" if inside else f
    line = one_line_error(cli("train", "loopmdm", "--steps", "1", "--pool-size", "16", "--batch-size", "4", "--set", "dim=16",
                              "--set", "heads=2", "--out", out))
    assert line.startswith(f"error: {f} is a file, not a folder")
    assert not (tmp_path / "cache").exists() and f.read_text() == "mine\n"  # no pool was made


def test_train_init_with_resume_is_refused_before_work(tmp_path):
    line = one_line_error(cli("train", "loopmdm", "--init", tmp_path / "m.safetensors", "--resume", tmp_path / "run"))
    assert line == "error: --init starts a fine-tune from a model; --resume continues a run as it was: give one of them"
