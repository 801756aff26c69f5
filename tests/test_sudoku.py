"""puzzles.sudoku: parsing, formats, verification, counting, generation, augmentation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from puzzles import sudoku as sd
from puzzles.errors import PuzzleError, UserError

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Norvig top95 #1 and its solution.
P1 = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
S1 = "417369825632158947958724316825437169791586432346912758289643571573291684164875293"


def grid(text: str) -> np.ndarray:
    return np.array([0 if ch == "." else int(ch) for ch in text], dtype=np.int8)


# ---------------------------------------------------------------- an independent counter


def count_independent(cells, limit: int = 2) -> int:
    """Solutions of a puzzle (81 ints, 0 blank), up to `limit`.

    Plain Python with bitmasks and the most-constrained cell first; it shares no code
    with puzzles.sudoku.search, so it can check the generator's uniqueness claims.
    """
    rows, cols, boxes = [0] * 9, [0] * 9, [0] * 9
    blanks = []
    for i, d in enumerate(int(v) for v in cells):
        r, c = divmod(i, 9)
        b = (r // 3) * 3 + c // 3
        if d:
            bit = 1 << d
            if (rows[r] | cols[c] | boxes[b]) & bit:
                return 0
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
        else:
            blanks.append((r, c, b))
    found = 0

    def dfs(blanks) -> bool:
        nonlocal found
        if not blanks:
            found += 1
            return found >= limit
        best, best_free, best_n = 0, 0, 10
        for k, (r, c, b) in enumerate(blanks):
            free = ~(rows[r] | cols[c] | boxes[b]) & 0x3FE
            n = bin(free).count("1")
            if n < best_n:
                best, best_free, best_n = k, free, n
                if n <= 1:
                    break
        if best_n == 0:
            return False
        r, c, b = blanks[best]
        rest = blanks[:best] + blanks[best + 1 :]
        for d in range(1, 10):
            bit = 1 << d
            if best_free & bit:
                rows[r] |= bit
                cols[c] |= bit
                boxes[b] |= bit
                stop = dfs(rest)
                rows[r] &= ~bit
                cols[c] &= ~bit
                boxes[b] &= ~bit
                if stop:
                    return True
        return False

    dfs(blanks)
    return found


def test_independent_counter_itself():
    assert count_independent(grid(P1)) == 1
    assert count_independent(grid(S1)) == 1
    assert count_independent([0] * 81, limit=5) == 5
    assert count_independent(grid("11" + "." * 79)) == 0


# ---------------------------------------------------------------- strategies


@st.composite
def solved_puzzles(draw, min_blanks: int = 0, max_blanks: int = 81):
    """(puzzle, solution): a random full grid with a random set of cells blanked."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    solution = sd.random_solution(rng)
    blanks = draw(st.integers(min_blanks, max_blanks))
    puzzle = solution.copy()
    puzzle[rng.permutation(81)[:blanks]] = 0
    return puzzle, solution


# ---------------------------------------------------------------- parsing


def test_parse_plain_and_blanks():
    g = sd.parse(P1)
    assert g.dtype == np.int8 and g.shape == (81,)
    assert np.array_equal(g, grid(P1))
    for blank in "0_":
        assert np.array_equal(sd.parse(P1.replace(".", blank)), g)
    mixed = "".join(("._0"[k % 3] if ch == "." else ch) for k, ch in enumerate(P1))
    assert np.array_equal(sd.parse(mixed), g)


def test_parse_separators_spaces_and_line_breaks():
    g = grid(P1)
    rows = [P1[9 * r : 9 * r + 9] for r in range(9)]
    pretty = "\n".join(
        ("------+-------+------\n" if r in (3, 6) else "")
        + " | ".join(" ".join(rows[r][3 * b : 3 * b + 3]) for b in range(3))
        for r in range(9)
    )
    assert np.array_equal(sd.parse(pretty), g)
    assert np.array_equal(sd.parse("\n".join(rows) + "\n"), g)
    assert np.array_equal(sd.parse("\t" + " ".join(P1) + "\r\n"), g)


def test_parse_wrong_length():
    with pytest.raises(PuzzleError) as e:
        sd.parse(P1[:-1])
    assert str(e.value) == "a Sudoku has 81 cells, got 80"
    with pytest.raises(PuzzleError, match=r"^a Sudoku has 81 cells, got 82$"):
        sd.parse(P1 + "1")
    with pytest.raises(PuzzleError, match=r"^a Sudoku has 81 cells, got 0$"):
        sd.parse(" | \n")


def test_parse_bad_character_names_it_and_its_position():
    with pytest.raises(PuzzleError) as e:
        sd.parse(P1[:10] + "x" + P1[11:])
    assert str(e.value) == "bad character 'x' at position 11 (expected 1-9 or a blank . 0 _)"
    # the position counts every character of the text, separators included
    with pytest.raises(PuzzleError, match=r"^bad character '\*' at position 4 "):
        sd.parse("1 |*" + P1[2:])


def test_parse_conflicting_givens():
    text = ".." + "5" + "..." + "5" + ".." + "." * 72  # r1c3 and r1c7
    with pytest.raises(PuzzleError) as e:
        sd.parse(text)
    assert str(e.value) == "givens conflict: r1c3 and r1c7 are both 5"
    column = "1" + "." * 8 + "1" + "." * 71  # r1c1 and r2c1; r2c1 also shares the box
    with pytest.raises(PuzzleError, match=r"^givens conflict: r1c1 and r2c1 are both 1$"):
        sd.parse(column)
    box = "7" + "." * 9 + "7" + "." * 70  # r1c1 and r2c2
    with pytest.raises(PuzzleError, match=r"^givens conflict: r1c1 and r2c2 are both 7$"):
        sd.parse(box)
    several = "55" + "." * 7 + "5" + "." * 71
    with pytest.raises(PuzzleError, match=r"r1c1 and r1c2 are both 5 \(and 2 more conflicts\)$"):
        sd.parse(several)


def test_errors_are_user_errors():
    assert issubclass(PuzzleError, UserError) and issubclass(UserError, ValueError)


@SETTINGS
@given(solved_puzzles(), st.sampled_from(".0_"))
def test_roundtrip_81_characters(pair, blank):
    puzzle, _ = pair
    text = sd.to_string(puzzle, blank=blank)
    assert len(text) == 81
    assert np.array_equal(sd.parse(text), puzzle)


@SETTINGS
@given(st.lists(solved_puzzles(), min_size=1, max_size=6), st.data())
def test_roundtrip_file_with_comments_and_solutions(pairs, data):
    lines = ["# a header comment", ""]
    for puzzle, solution in pairs:
        with_solution = data.draw(st.booleans())
        blank = data.draw(st.sampled_from(".0_"))
        sep = data.draw(st.sampled_from([" ", "\t", ",", "  "]))
        line = sd.to_string(puzzle, blank)
        if with_solution:
            line += sep + sd.to_string(solution)
        if data.draw(st.booleans()):
            line += "  # trailing comment"
        lines.append(line)
        if data.draw(st.booleans()):
            lines.append("   ")
    text = "\n".join(lines) + data.draw(st.sampled_from(["", "\n", "\n\n"]))
    got = sd.read_text(text, name="t.txt")
    assert len(got) == len(pairs)
    for s, (puzzle, solution), line in zip(got, pairs, [ln for ln in lines if ln.strip() and ln[0] != "#"]):
        assert np.array_equal(s.givens, puzzle)
        if len(line.split("#")[0].replace(",", " ").split()) == 2:
            assert np.array_equal(s.solution, solution)
        else:
            assert s.solution is None
        assert s.source.startswith("t.txt:")


@SETTINGS
@given(st.lists(solved_puzzles(), min_size=1, max_size=6))
def test_roundtrip_write_lines(pairs):
    made = [sd.Sudoku(p, s) for p, s in pairs]
    got = sd.read_text(sd.write_lines(made))
    assert [sd.to_string(s.givens) for s in got] == [sd.to_string(p) for p, _ in pairs]
    assert [sd.to_string(s.solution) for s in got] == [sd.to_string(s) for _, s in pairs]


@SETTINGS
@given(
    st.lists(
        st.tuples(
            solved_puzzles(),
            st.booleans(),
            st.one_of(st.none(), st.integers(0, 10**6)),
            st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=12).filter(
                lambda s: s.strip() == s and not s.startswith("#")
            ),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_roundtrip_csv(rows):
    made = [sd.Sudoku(p, s if keep else None, source=src, rating=rating) for (p, s), keep, rating, src in rows]
    text = sd.write_csv(made)
    assert text.startswith("source,question,answer,rating\n")
    got = sd.read_text(text, name="x.csv")
    assert len(got) == len(made)
    for a, b in zip(got, made):
        assert np.array_equal(a.givens, b.givens)
        assert (a.solution is None) == (b.solution is None)
        if b.solution is not None:
            assert np.array_equal(a.solution, b.solution)
        assert a.rating == b.rating
        assert a.source == b.source


def test_csv_header_after_comments_and_in_capitals():
    body = f"x,{P1},{S1},7\n"
    for header in ("source,question,answer,rating\n", "Source,Question,Answer,Rating\n"):
        for lead in ("", "# made by hand\n\n"):
            (s,) = sd.read_text(lead + header + body)
            assert sd.to_string(s.givens) == P1 and sd.to_string(s.solution) == S1 and s.rating == 7


def test_file_errors_name_the_line():
    text = f"# two puzzles\n{P1}\n\n{P1[:-1]}\n"
    with pytest.raises(PuzzleError, match=r"^f\.txt:4: a Sudoku has 81 cells, got 80$"):
        sd.read_text(text, name="f.txt")
    wrong = S1.translate(str.maketrans("12", "21"))  # a valid grid that changes givens
    with pytest.raises(PuzzleError, match=r"^f\.txt:1: the solution field is wrong: given r\dc\d was changed$"):
        sd.read_text(f"{P1} {wrong}\n", name="f.txt")
    with pytest.raises(PuzzleError, match=r"^c\.csv:3: bad character"):
        sd.read_text(f"source,question,answer,rating\na,{P1},,\nb,{P1[:-1]}x,,\n", name="c.csv")
    with pytest.raises(PuzzleError, match=r"^c\.csv:2: invalid literal"):
        sd.read_text(f"source,question,answer,rating\na,{P1},,hard\n", name="c.csv")
    with pytest.raises(PuzzleError, match="no puzzles found"):
        sd.read_text("# nothing\n\n", name="e.txt")
    with pytest.raises(PuzzleError, match="no puzzles found"):
        sd.read_text("source,question,answer,rating\n", name="e.csv")
    with pytest.raises(PuzzleError, match=r"^q\.csv:1: the CSV header names no puzzle column \(question, puzzle, "):
        sd.read_text(f"source,questions\na,{P1}\n", name="q.csv")


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_line_endings(eol):
    for text in (f"{P1} {S1}{eol}{P1}{eol}", f"source,question,answer,rating{eol}a,{P1},{S1},3{eol}b,{P1},,{eol}"):
        a, b = sd.read_text(text)
        assert sd.to_string(a.givens) == sd.to_string(b.givens) == P1
        assert sd.to_string(a.solution) == S1 and b.solution is None


def test_read_file(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text(f"{P1} {S1}\n")
    (s,) = sd.read_file(f)
    assert sd.to_string(s.solution) == S1
    with pytest.raises(PuzzleError, match="no such file"):
        sd.read_file(tmp_path / "missing.txt")
    with pytest.raises(PuzzleError, match="cannot read"):
        sd.read_file(tmp_path)
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PuzzleError, match="cannot read"):
        sd.read_file(tmp_path / "bin")


JUNK = st.one_of(
    st.text(max_size=300),
    st.text(st.sampled_from(list("0123456789._|-+ \n\t,#xX;")), max_size=400),
    st.builds(lambda a, b: a + b, st.just("source,question,answer,rating\n"), st.text(max_size=200)),
    st.builds(lambda a, b: a + b, st.sampled_from([P1, S1, P1 + " ", P1 + "," + S1]), st.text(max_size=20)),
)


@settings(max_examples=300, deadline=None)
@given(JUNK)
def test_random_junk_raises_only_puzzle_errors(text):
    for fn in (sd.parse, sd.read_text):
        try:
            out = fn(text)
        except PuzzleError:
            continue
        grids = [out] if fn is sd.parse else [s.givens for s in out]
        for g in grids:
            assert g.shape == (81,) and g.min() >= 0 and g.max() <= 9
            assert not sd.conflicts(g)


# ---------------------------------------------------------------- verification and counting


def test_verify():
    p, s = grid(P1), grid(S1)
    assert sd.verify(p, s) is None and sd.is_solution(p, s)
    assert sd.verify(np.zeros(81, np.int8), s) is None
    changed = s.copy()
    changed[0] = 1  # r1c1 is the given 4
    assert sd.verify(p, changed) == "given r1c1 was changed"
    swapped = s.copy()
    swapped[[1, 2]] = swapped[[2, 1]]  # two blanks of row 1 swapped: columns now clash
    assert "are both" in sd.verify(p, swapped)
    clash = s.copy()
    clash[1] = clash[2]  # r1c2 := r1c3
    assert sd.verify(p, clash) == f"r1c2 and r1c3 are both {clash[2]}"
    incomplete = s.copy()
    incomplete[80] = 0
    assert sd.verify(p, incomplete) == "r9c9 is not filled with 1-9"
    assert "expected 81 cells" in sd.verify(p, s[:80])
    assert not sd.is_solution(p, p)


@SETTINGS
@given(solved_puzzles())
def test_verify_accepts_every_random_solution(pair):
    puzzle, solution = pair
    assert sd.verify(puzzle, solution) is None


def test_count_solutions_zero_one_several():
    assert sd.count_solutions(grid(P1)) == 1
    assert sd.count_solutions(grid(S1)) == 1
    assert sd.count_solutions(np.zeros(81, np.int8), 2) == 2
    assert sd.count_solutions(np.zeros(81, np.int8), 7) == 7
    # r1 holds 1-8 and r5c9 is 9: r1c9 has no digit left, though no givens clash
    none = grid("12345678." + "." * 36 + "........9" + "." * 27)
    assert sd.count_solutions(none) == 0
    # a full grid minus an unavoidable rectangle has exactly two solutions
    s = grid(S1).reshape(9, 9)
    rect = _rectangle(s)
    assert rect is not None
    g = s.copy()
    for r, c in rect:
        g[r, c] = 0
    assert sd.count_solutions(g.reshape(81), 10) == 2 == count_independent(g.reshape(81), 10)
    with pytest.raises(PuzzleError, match="more than one solution"):
        sd.solve_unique(g.reshape(81))
    with pytest.raises(PuzzleError, match="no solution"):
        sd.solve_unique(none)
    assert np.array_equal(sd.solve_unique(grid(P1)), grid(S1))


def _rectangle(s: np.ndarray):
    """Cells (r1,c1),(r1,c2),(r2,c1),(r2,c2) in two boxes holding a,b / b,a: swapping them is another solution."""
    for r1 in range(9):
        for r2 in range(r1 + 1, (r1 // 3) * 3 + 3):  # same band: the rectangle spans two boxes
            for c1 in range(9):
                for c2 in range(c1 + 1, 9):
                    if c1 // 3 != c2 // 3 and s[r1, c1] == s[r2, c2] and s[r1, c2] == s[r2, c1]:
                        return [(r1, c1), (r1, c2), (r2, c1), (r2, c2)]
    return None


@SETTINGS
@given(solved_puzzles(max_blanks=40), st.integers(1, 30))
def test_count_solutions_agrees_with_independent_counter(pair, limit):
    puzzle, _ = pair
    assert sd.count_solutions(puzzle, limit) == count_independent(puzzle, limit)


# ---------------------------------------------------------------- generation


def test_generation_is_reproducible_by_seed():
    a = [sd.to_string(s.givens) for s in sd.generate(4, "medium", seed=3)]
    b = [sd.to_string(s.givens) for s in sd.generate(4, "medium", seed=3)]
    c = [sd.to_string(s.givens) for s in sd.generate(4, "medium", seed=4)]
    assert a == b and a != c
    assert len(set(a)) == 4
    # whatever the number of workers (chunks are seeded by index)
    one = [sd.to_string(s.givens) for s in sd.generate(5, "hard", seed=9, workers=1, chunk=2)]
    two = [sd.to_string(s.givens) for s in sd.generate(5, "hard", seed=9, workers=2, chunk=2)]
    assert one == two


@pytest.mark.parametrize("difficulty", sd.DIFFICULTIES)
def test_generated_puzzles_are_unique_and_have_their_difficulty(difficulty):
    lo, hi = {"easy": (0, 0), "medium": (0, 10), "hard": (11, 100), "extreme": (101, 10**9),
              "fiendish": (0, 10**9)}[difficulty]
    for s in sd.generate(4, difficulty, seed=21):
        assert count_independent(s.givens, limit=2) == 1
        assert sd.verify(s.givens, s.solution) is None
        if difficulty == "fiendish":  # by the guesses a singles solver needs, not by the tree rating
            from puzzles.sudoku.search import singles_guesses

            assert singles_guesses(s.givens, s.solution) >= sd.FIENDISH
        else:
            assert sd.difficulty_of(s.givens) == difficulty
        assert s.rating is not None and lo <= s.rating <= hi
        assert s.source == f"generated:{difficulty}"
        if difficulty == "easy":
            assert (s.givens != 0).sum() >= 36
        else:
            assert (s.givens != 0).sum() < 36


def test_generate_rejects_unknown_difficulty():
    with pytest.raises(PuzzleError, match="unknown difficulty 'brutal'"):
        list(sd.generate(1, "brutal"))
    with pytest.raises(PuzzleError, match="unknown difficulty"):
        sd.generate_one(np.random.default_rng(0), "brutal")


def test_random_solution_is_valid_and_seeded():
    a = sd.random_solution(np.random.default_rng(5))
    b = sd.random_solution(np.random.default_rng(5))
    assert np.array_equal(a, b)
    assert sd.verify(np.zeros(81, np.int8), a) is None


# ---------------------------------------------------------------- augmentation


@SETTINGS
@given(solved_puzzles(), st.integers(0, 2**32 - 1))
def test_augmentation_preserves_validity_and_inverts(pair, seed):
    puzzle, solution = pair
    rng = np.random.default_rng(seed)
    sym = sd.random_symmetry(rng)
    p2, s2 = sym.apply(puzzle), sym.apply(solution)
    assert sd.verify(p2, s2) is None
    assert (p2 != 0).sum() == (puzzle != 0).sum()
    assert sd.count_solutions(p2, 3) == sd.count_solutions(puzzle, 3)
    inv = sym.inverse()
    assert np.array_equal(inv.apply(p2), puzzle)
    assert np.array_equal(inv.apply(s2), solution)
    assert np.array_equal(sym.apply(inv.apply(solution)), solution)
    a, b = sd.augment(puzzle, solution, np.random.default_rng(seed))
    assert sd.verify(a, b) is None
    a2, none = sd.augment(puzzle, None, np.random.default_rng(seed))
    assert none is None and np.array_equal(a, a2)


def test_augmentation_changes_something():
    rng = np.random.default_rng(0)
    s = grid(S1)
    outs = {sd.to_string(sd.random_symmetry(rng).apply(s)) for _ in range(20)}
    assert len(outs) > 15


def test_frames_are_seeded_cell_moves_that_keep_every_solution_valid():
    perms = sd.frames(16)
    assert perms.shape == (16, 81) and (perms[0] == np.arange(81)).all()
    assert len({p.tobytes() for p in perms}) == 16 and all(sorted(p) == list(range(81)) for p in perms)
    assert (sd.frames(16) == perms).all()  # the same frames every time
    solution = sd.random_solution(np.random.default_rng(3))
    for p in perms:
        assert sd.is_solution(np.zeros(81, np.int8), solution[p])
