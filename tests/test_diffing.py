import difflib
import random
import string

import pytest

from tests.helpers import save_page
from wiki.services import diffing
from wiki.services.diffing import (
    MAX_DIFF_WORK,
    MAX_SHOWN_LINES,
    Line,
    MergeResult,
    Segment,
    diff_texts,
    merge,
    unified,
)


@pytest.fixture
def matching_work(monkeypatch):
    """Counts the work a diff does: the (old, new) item pairs difflib's exact matching looks
    at, and the items patience diff anchors (its cost grows with them, about n log n).

    Each ``find_longest_match`` call scans (at most) its whole rectangle of pairs.
    """
    work = {"pairs": 0, "anchored": 0}
    find_longest_match = difflib.SequenceMatcher.find_longest_match
    patience = diffing.PatienceSequenceMatcher

    def counting_patience(isjunk, a, b):
        work["anchored"] += len(a) + len(b)
        return patience(isjunk, a, b)

    def counting(self, alo=0, ahi=None, blo=0, bhi=None):
        ahi = len(self.a) if ahi is None else ahi
        bhi = len(self.b) if bhi is None else bhi
        work["pairs"] += (ahi - alo) * (bhi - blo)
        return find_longest_match(self, alo, ahi, blo, bhi)

    monkeypatch.setattr(difflib.SequenceMatcher, "find_longest_match", counting)
    monkeypatch.setattr(diffing, "PatienceSequenceMatcher", counting_patience)
    return work


def numbered(count: int, changed: dict[int, str] | None = None) -> str:
    """A text of *count* lines ``line N``, with some lines replaced by number."""
    changed = changed or {}
    return "".join(changed.get(n, f"line {n}") + "\n" for n in range(1, count + 1))


def shape(lines: tuple[Line, ...]) -> list[tuple[str, int | None, int | None]]:
    return [(line.kind, line.old_number, line.new_number) for line in lines]


def only_hunk(old: str, new: str):
    diff = diff_texts(old, new)
    assert len(diff.hunks) == 1
    return diff.hunks[0]


# --- line + word diff -------------------------------------------------------------------------


def test_added_line():
    diff = diff_texts("a\nb\n", "a\nx\nb\n")

    assert (diff.added, diff.removed) == (1, 0)
    [hunk] = diff.hunks
    assert shape(hunk.lines) == [("equal", 1, 1), ("insert", None, 2), ("equal", 2, 3)]
    assert hunk.lines[1].segments == (Segment("x", False),)


def test_removed_line():
    diff = diff_texts("a\nx\nb\n", "a\nb\n")

    assert (diff.added, diff.removed) == (0, 1)
    assert shape(diff.hunks[0].lines) == [("equal", 1, 1), ("delete", 2, None), ("equal", 3, 2)]


def test_changed_line_highlights_the_changed_words():
    hunk = only_hunk("The quick brown fox jumps.\n", "The quick red fox jumped!\n")

    deleted, inserted = hunk.lines
    assert deleted.segments == (
        Segment("The quick ", False),
        Segment("brown", True),
        Segment(" fox ", False),
        Segment("jumps.", True),
    )
    assert inserted.segments == (
        Segment("The quick ", False),
        Segment("red", True),
        Segment(" fox ", False),
        Segment("jumped!", True),
    )


def test_dissimilar_paired_line_is_changed_as_a_whole():
    deleted, inserted = only_hunk("alpha beta gamma\n", "one two three\n").lines

    assert deleted.segments == (Segment("alpha beta gamma", True),)
    assert inserted.segments == (Segment("one two three", True),)


def test_line_numbers_in_both_columns():
    hunk = only_hunk("a\nb\nc\nd\ne\n", "a\nc\nd2\ne\nf\n")

    assert (hunk.old_start, hunk.new_start) == (1, 1)
    assert shape(hunk.lines) == [
        ("equal", 1, 1),
        ("delete", 2, None),
        ("equal", 3, 2),
        ("delete", 4, None),
        ("insert", None, 3),
        ("equal", 5, 4),
        ("insert", None, 5),
    ]


def test_side_by_side_rows_pair_replaced_lines_and_leave_gaps_for_the_surplus():
    old = "x\nold one\nold two\ny\n"
    new = "x\nnew one\nnew two\nnew three\ny\n"

    hunk = only_hunk(old, new)

    texts = [(row.left and row.left.text, row.right and row.right.text) for row in hunk.rows]
    assert texts == [
        ("x", "x"),
        ("old one", "new one"),
        ("old two", "new two"),
        (None, "new three"),
        ("y", "y"),
    ]
    assert hunk.rows[1].left.segments == (Segment("old", True), Segment(" one", False))
    assert hunk.rows[3].right.segments == (Segment("new three", False),)
    # The inline view shows the whole replaced block's deletions before its insertions.
    assert [line.kind for line in hunk.lines] == [
        "equal", "delete", "delete", "insert", "insert", "insert", "equal",
    ]  # fmt: skip


def test_diff_in_reverse_is_the_inverse():
    old = "one\ntwo\nthree\nfour\n"
    new = "one\n2\nthree\nfour\nfive\n"
    forward, backward = diff_texts(old, new), diff_texts(new, old)

    def mirrored(line: Line | None) -> Line | None:
        if line is None:
            return None
        kind = {"delete": "insert", "insert": "delete", "equal": "equal"}[line.kind]
        return Line(kind, line.new_number, line.old_number, line.segments)

    assert (backward.added, backward.removed) == (forward.removed, forward.added)
    forward_rows = [row for hunk in forward.hunks for row in hunk.rows]
    backward_rows = [row for hunk in backward.hunks for row in hunk.rows]
    assert [(mirrored(row.right), mirrored(row.left)) for row in forward_rows] == [
        (row.left, row.right) for row in backward_rows
    ]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("", ""),
        ("a\nb\n", "a\nb\n"),
        ("a\r\nb\r\n", "a\nb\n"),  # line endings are not a change
        ("a\nb", "a\nb\n"),  # nor is a missing final newline
    ],
)
def test_identical_texts_have_no_hunks(old, new):
    diff = diff_texts(old, new)

    assert diff.identical
    assert (diff.hunks, diff.added, diff.removed) == ((), 0, 0)


def test_crlf_is_read_as_lf():
    hunk = only_hunk("a\r\nb\r\nc\r\n", "a\nB\nc\n")

    assert [line.text for line in hunk.lines] == ["a", "b", "B", "c"]


def test_unchanged_runs_collapse_to_context_around_far_apart_changes():
    diff = diff_texts(numbered(200), numbered(200, {50: "changed 50", 150: "changed 150"}))

    assert [(hunk.old_start, hunk.new_start) for hunk in diff.hunks] == [(47, 47), (147, 147)]
    first = diff.hunks[0]
    assert [line.text for line in first.lines] == [
        "line 47", "line 48", "line 49", "line 50", "changed 50", "line 51", "line 52", "line 53",
    ]  # fmt: skip
    assert (diff.added, diff.removed) == (2, 2)


@pytest.mark.parametrize(("unchanged_between", "hunks"), [(4, 1), (6, 1), (7, 2)])
def test_changes_close_together_share_a_hunk(unchanged_between, hunks):
    second = 50 + unchanged_between + 1
    new = numbered(200, {50: "changed", second: "changed"})

    # Two hunks' context (3 + 3 lines) joins them; one more unchanged line splits them.
    assert len(diff_texts(numbered(200), new).hunks) == hunks


def test_context_is_configurable():
    diff = diff_texts(numbered(20), numbered(20, {10: "changed"}), context=1)

    assert shape(diff.hunks[0].lines) == [
        ("equal", 9, 9), ("delete", 10, None), ("insert", None, 10), ("equal", 11, 11),
    ]  # fmt: skip


def markdown_page(lines: int) -> list[str]:
    """About 1 MB of Markdown: paragraphs separated by blank lines, which repeat a lot."""
    return [
        "" if n % 4 == 0 else f"Paragraph {n}: the quick brown fox jumps over the lazy dog {n}."
        for n in range(lines)
    ]


def test_a_large_page_with_edits_far_apart_diffs_and_merges_with_little_work(matching_work):
    base = markdown_page(20_000)
    mine, theirs, both = list(base), list(base), list(base)
    for edited in (mine, both):
        edited[100] = "A new first paragraph."
    for edited in (theirs, both):
        edited[15_001] += " And more."
    for edited in (mine, both):
        del edited[9_001:9_004]
    base_text, mine_text, theirs_text, both_text = (
        "\n".join(lines) + "\n" for lines in (base, mine, theirs, both)
    )
    assert len(base_text) > 1_000_000

    diff = diff_texts(base_text, mine_text)
    merged = merge(base_text, mine_text, theirs_text)

    # Unique lines anchor the match: only the few edited lines are compared pairwise.
    assert matching_work["pairs"] < 1_000
    assert (len(diff.hunks), diff.added, diff.removed) == (2, 1, 4)
    assert not diff.coarse and not diff.words_left_out
    assert merged == MergeResult(both_text, conflicted=False)


def test_a_page_of_nothing_but_repeated_lines_still_diffs_with_bounded_work(matching_work):
    base = ["| a | b |", "", "---", "text"] * 5_000
    new = list(base)
    new[10], new[19_000] = "x", "y"

    diff = diff_texts("\n".join(base), "\n".join(new))

    assert matching_work["pairs"] <= MAX_DIFF_WORK
    # With no line unique to anchor on, the stretch between the two edits counts as replaced.
    assert diff.hunks[0].old_start == 8
    assert diff.added == diff.removed
    assert diff.coarse


def random_punctuation(line_length: int, size: int, seed: int) -> str:
    """Lines of random punctuation and spaces: no line repeats, no word does, and matching
    two such texts word by word used to take 20 s."""
    rng = random.Random(seed)
    alphabet = string.punctuation + "  "
    lines = ["".join(rng.choices(alphabet, k=line_length)) for _ in range(size // line_length)]
    return "\n".join(lines)


@pytest.mark.parametrize("line_length", [20, 300])
def test_diffing_random_punctuation_stays_within_its_budget(matching_work, line_length):
    old, new = (random_punctuation(line_length, 600_000, seed) for seed in (1, 2))

    diff = diff_texts(old, new)

    # One budget for the lines, one for the words; difflib's recursion may revisit a little.
    assert matching_work["pairs"] <= 3 * MAX_DIFF_WORK
    assert diff.coarse or diff.words_left_out
    assert diff.added == len(new.split("\n"))


def test_the_work_of_a_diff_stops_growing_with_its_size(matching_work):
    work, anchored = [], []
    for size in (150_000, 600_000):
        matching_work.update(pairs=0, anchored=0)
        diff_texts(random_punctuation(300, size, 1), random_punctuation(300, size, 2))
        work.append(matching_work["pairs"])
        anchored.append(matching_work["anchored"])

    assert work[1] <= 1.2 * work[0]
    # Patience diff anchored the lines, then each changed line's words: 4 times the text,
    # 4 times the items, not 16.
    assert 0 < anchored[1] <= 4.2 * anchored[0]


def test_a_diff_shows_its_first_lines_and_counts_the_rest():
    old, new = numbered(MAX_SHOWN_LINES), numbered(MAX_SHOWN_LINES, {
        n: f"changed {n}" for n in range(1, MAX_SHOWN_LINES + 1, 2)})

    diff = diff_texts(old, new)

    shown = [line for hunk in diff.hunks for line in hunk.lines]
    assert len(shown) == MAX_SHOWN_LINES
    assert diff.lines_left_out == MAX_SHOWN_LINES * 2 - MAX_SHOWN_LINES // 2 - len(shown)
    assert (diff.added, diff.removed) == (MAX_SHOWN_LINES // 2, MAX_SHOWN_LINES // 2)


def test_merging_random_punctuation_stays_within_its_budget(matching_work):
    base, mine, theirs = (random_punctuation(3, 600_000, seed) for seed in (1, 2, 3))

    assert merge(base, mine, theirs).conflicted
    # merge3 matches base with each side twice: four matchers, each within the budget.
    assert matching_work["pairs"] <= 4 * 3 * MAX_DIFF_WORK


def test_word_highlights_left_out_are_said_on_the_diff_revert_and_conflict_pages(auth, client):
    note = "Word highlighting was left out for"
    old, new = (random_punctuation(300, 600_000, seed) for seed in (1, 2))
    auth.login()
    save_page(client, "noise", "Noise", old)
    save_page(client, "noise", "Noise", new)
    revert = client.get("/revert/noise?rev=1")
    assert revert.status_code == 200 and note in revert.get_data(as_text=True)
    conflict = save_page(client, "noise", "Noise", random_punctuation(300, 600_000, 3),
                         base_revision="1")
    assert conflict.status_code == 409 and note in conflict.get_data(as_text=True)
    auth.logout()

    for url in ("/diff/noise?from=1&to=2", "/diff/noise?from=1&to=2&view=split"):
        response = client.get(url)
        assert response.status_code == 200
        assert note in response.get_data(as_text=True)


def test_unified():
    text = unified("a\nb\nc\n", "a\nB\nc\nd", "revision 1", "revision 2")

    assert text == "--- revision 1\n+++ revision 2\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n"


def test_unified_of_identical_texts_is_empty():
    assert unified("a\r\n", "a\n", "old", "new") == ""


# --- 3-way merge ------------------------------------------------------------------------------

BASE = "# Title\n\nIntro.\n\nBody.\n\nEnd.\n"


def test_non_overlapping_edits_are_both_kept():
    mine = BASE.replace("Intro.", "Better intro.")
    theirs = BASE.replace("End.", "The end.")

    assert merge(BASE, mine, theirs) == MergeResult(
        "# Title\n\nBetter intro.\n\nBody.\n\nThe end.\n", conflicted=False
    )


def test_overlapping_edits_conflict():
    result = merge(BASE, BASE.replace("Body.", "My body."), BASE.replace("Body.", "Their body."))

    assert result.conflicted
    assert result.text == (
        "# Title\n\nIntro.\n\n"
        "<<<<<<< yours\nMy body.\n=======\nTheir body.\n>>>>>>> theirs\n"
        "\nEnd.\n"
    )


def test_edits_of_adjacent_lines_conflict():
    # merge3 needs an unchanged line between two edits to tell them apart.
    result = merge("a\nb\nc\n", "a\nB\nc\n", "a\nb\nC\n")

    assert result == MergeResult(
        "a\n<<<<<<< yours\nB\nc\n=======\nb\nC\n>>>>>>> theirs\n", conflicted=True
    )


def test_identical_edits_merge_cleanly_once():
    mine = BASE.replace("Body.", "New body.")

    assert merge(BASE, mine, mine) == MergeResult(mine, conflicted=False)


def test_the_same_deletion_on_both_sides_merges_cleanly():
    mine = BASE.replace("Body.\n\n", "")

    assert merge(BASE, mine, mine) == MergeResult(mine, conflicted=False)


@pytest.mark.parametrize("edited_side", ["mine", "theirs"])
def test_when_one_side_is_unchanged_the_other_wins(edited_side):
    edited = BASE.replace("Intro.", "Changed.").replace("End.\n", "")
    mine, theirs = (edited, BASE) if edited_side == "mine" else (BASE, edited)

    assert merge(BASE, mine, theirs) == MergeResult(edited, conflicted=False)


def test_different_appends_at_the_end_conflict():
    result = merge("a\nb\n", "a\nb\nmine\n", "a\nb\ntheirs\n")

    assert result == MergeResult(
        "a\nb\n<<<<<<< yours\nmine\n=======\ntheirs\n>>>>>>> theirs\n", conflicted=True
    )


def test_the_same_append_at_the_end_merges_cleanly():
    assert merge("a\n", "a\nb\n", "a\nb\n") == MergeResult("a\nb\n", conflicted=False)


def test_texts_without_a_final_newline_merge():
    assert merge("a\nm\nb", "A\nm\nb", "a\nm\nB") == MergeResult("A\nm\nB", conflicted=False)


@pytest.mark.parametrize(
    ("base", "mine", "theirs", "merged"),
    [
        ("a\nb", "a\nb\n", "a\nB", "a\nB\n"),  # one side adds the final newline
        ("a\nb\n", "a\nb", "a\nB\n", "a\nB"),  # one side drops it
    ],
)
def test_the_final_newline_does_not_clash_with_an_edit_of_the_last_line(base, mine, theirs, merged):
    assert merge(base, mine, theirs) == MergeResult(merged, conflicted=False)


def test_conflict_markers_start_on_their_own_line_without_a_final_newline():
    result = merge("a\n", "a\nmine", "a\ntheirs")

    assert result.conflicted
    assert result.text == "a\n<<<<<<< yours\nmine\n=======\ntheirs\n>>>>>>> theirs"


def test_crlf_is_normalised():
    base = "a\r\nm\r\nb\r\n"

    result = merge(base, "A\nm\nb\n", "a\r\nm\r\nB\r\n")

    assert result == MergeResult("A\nm\nB\n", conflicted=False)


@pytest.mark.parametrize(
    ("mine", "theirs", "expected"),
    [
        ("Page\n", "Page\n", MergeResult("Page\n", False)),
        ("Mine\n", "", MergeResult("Mine\n", False)),
        ("", "Theirs\n", MergeResult("Theirs\n", False)),
        (
            "Mine\n",
            "Theirs\n",
            MergeResult("<<<<<<< yours\nMine\n=======\nTheirs\n>>>>>>> theirs\n", True),
        ),
    ],
)
def test_a_page_created_twice_at_once(mine, theirs, expected):
    assert merge("", mine, theirs) == expected
