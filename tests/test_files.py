"""Writing outputs never replaces what a user owns: links are followed, devices written into."""

from __future__ import annotations

import os
import stat

import pytest

from puzzles.errors import UserError
from puzzles.files import write_text


def test_a_link_is_written_through_and_stays_a_link(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text("old\n")
    link = tmp_path / "l.txt"
    link.symlink_to(target)
    write_text(link, "new\n")
    assert link.is_symlink() and target.read_text() == "new\n"


def test_a_regular_file_is_replaced_whole_and_keeps_its_mode(tmp_path):
    f = tmp_path / "f.txt"
    f.write_text("old\n")
    f.chmod(0o640)
    write_text(f, "new\n")
    assert f.read_text() == "new\n" and stat.S_IMODE(f.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]  # no temporary file left


def test_a_fifo_is_written_into_not_replaced(tmp_path):
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    write_text(fifo, "through the pipe\n")
    reader.join(5)
    assert got == ["through the pipe\n"] and stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_character_device_is_written_into_not_replaced(tmp_path):
    null = tmp_path / "null"
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a copy of /dev/null
    except PermissionError:
        pytest.skip("mknod needs root")
    write_text(null, "gone\n")
    assert stat.S_ISCHR(null.stat().st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_a_full_device_is_one_error():
    with pytest.raises(UserError, match=r"^cannot write /dev/full: no space left on the device$"):
        write_text("/dev/full", "x" * 100_000)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_an_endless_input_is_one_error_not_a_memory_error():
    from puzzles import maze, sudoku
    from puzzles.errors import PuzzleError

    for read in (sudoku.read_file, maze.read_file):
        with pytest.raises(PuzzleError, match=r"^/dev/zero has a line longer than 100,000 characters: not a puzzle file$"):
            read("/dev/zero")


def test_the_line_bound_counts_across_blocks(tmp_path, monkeypatch):
    import io

    from puzzles import files
    from puzzles.errors import PuzzleError

    monkeypatch.setattr(files, "MAX_LINE", 10)
    assert files.read_stream(io.BytesIO(b"0123456789\n" * 3), "ok") == "0123456789\n" * 3
    with pytest.raises(PuzzleError, match="longer than 10"):
        files.read_stream(io.BytesIO(b"0123456789\n01234567890\n"), "long")
