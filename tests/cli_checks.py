"""What every CLI test checks of a failure: one red line on stderr, the exit code, no traceback."""

from __future__ import annotations


def one_line_error(result, code: int = 2) -> str:
    """The single `error: ...` line a failed command printed (asserting there is exactly one)."""
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]
