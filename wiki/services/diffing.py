"""Comparing page revisions: line + word diffs for display, and 3-way merge for edit conflicts.

Pure functions over strings. ``\\r\\n`` is read as ``\\n`` everywhere, so a browser's line
endings never show up as a change.
"""

import difflib
import re
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Literal

from patiencediff import PatienceSequenceMatcher

LineKind = Literal["equal", "delete", "insert"]
Opcode = tuple[str, int, int, int, int]  # as from SequenceMatcher.get_opcodes

# Words, runs of whitespace and single punctuation marks; together they cover every character.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")

# Below this share of matching characters, word highlights would be confetti: mark the line.
_MIN_SIMILARITY = 0.3

# Exact matching of a stretch without unique anchors costs up to about the cube of its length
# when items repeat; beyond this many (old, new) pairs the stretch is shown as replaced.
_MAX_EXACT_GAP = 100_000

# And a whole diff may match this many pairs exactly, once for its lines and once for the
# words of its changed lines: two 600 KB revisions of random punctuation, a stretch of
# repetitive lines after another, took 20 s of word highlighting. Beyond the budget, line
# stretches are shown as replaced and lines without word highlights, and the page says so.
MAX_DIFF_WORK = 5_000_000
# A diff page shows at most this many lines: what it costs to send grows with them.
MAX_SHOWN_LINES = 10_000
# Setting up the word matching of a line pair costs about as much as comparing this many pairs.
_LINE_PAIR_COST = 2_000


@dataclass
class _WorkBudget:
    """How many (old, new) item pairs exact matching may still compare."""

    left: int = MAX_DIFF_WORK
    cut_short: bool = False  # some stretch was shown as replaced rather than matched

    def spend(self, pairs: int) -> bool:
        if pairs > self.left:
            return False
        self.left -= pairs
        return True


@dataclass(frozen=True)
class Segment:
    """A run of characters inside one line; ``changed`` runs are highlighted."""

    text: str
    changed: bool


@dataclass(frozen=True)
class Line:
    """One line of a hunk. Numbers are 1-based; the side a line is absent from has ``None``.

    ``segments`` carry word-level highlights when a changed line is paired with its
    counterpart on the other side; otherwise the line is one unchanged segment.
    """

    kind: LineKind
    old_number: int | None
    new_number: int | None
    segments: tuple[Segment, ...]

    @property
    def text(self) -> str:
        return "".join(segment.text for segment in self.segments)


@dataclass(frozen=True)
class Row:
    """A side-by-side row: old line on the left, new line on the right, ``None`` for a gap."""

    left: Line | None
    right: Line | None


@dataclass(frozen=True)
class Hunk:
    """A run of changes with its context; starts are the 1-based numbers of its first lines."""

    old_start: int
    new_start: int
    lines: tuple[Line, ...]  # inline view: each replaced block's deletions before insertions
    rows: tuple[Row, ...]  # side-by-side view


@dataclass(frozen=True)
class Diff:
    """``coarse``: some stretch of lines counts as replaced without being matched line by
    line; ``words_left_out``: changed lines shown without word highlights; ``lines_left_out``:
    lines of the hunks not shown. All to keep the cost of a diff bounded."""

    hunks: tuple[Hunk, ...]
    added: int
    removed: int
    coarse: bool = False
    words_left_out: int = 0
    lines_left_out: int = 0

    @property
    def identical(self) -> bool:
        return not self.hunks


@dataclass(frozen=True)
class MergeResult:
    """The outcome of a 3-way merge.

    When ``conflicted``, ``text`` shows the clashing regions between ``<<<<<<< yours``,
    ``=======`` and ``>>>>>>> theirs`` markers for information only: it is not to be saved.
    """

    text: str
    conflicted: bool


def diff_texts(old: str, new: str, context: int = 3) -> Diff:
    """Diff *old* against *new* line by line, with ``context`` unchanged lines around changes.

    A missing final newline is not shown as a change: ``"a"`` and ``"a\\n"`` are identical.
    Only the first ``MAX_SHOWN_LINES`` lines of the hunks are made; the rest are counted.
    """
    old_lines, new_lines = _split_lines(old), _split_lines(new)
    matcher = _AnchoredMatcher(None, old_lines, new_lines)
    groups = list(matcher.get_grouped_opcodes(context))
    changes = [opcode for group in groups for opcode in group if opcode[0] != "equal"]
    words = _WordBudget()
    hunks: list[Hunk] = []
    shown = 0
    for group in groups:
        if shown == MAX_SHOWN_LINES:
            break
        hunks.append(_hunk(_clipped(group, MAX_SHOWN_LINES - shown), old_lines, new_lines, words))
        shown += len(hunks[-1].lines)
    return Diff(
        hunks=tuple(hunks),
        added=sum(j2 - j1 for _, _, _, j1, j2 in changes),
        removed=sum(i2 - i1 for _, i1, i2, _, _ in changes),
        coarse=matcher.budget.cut_short,
        words_left_out=words.lines_left_out,
        lines_left_out=sum(map(_line_count, groups)) - shown,
    )


def _line_count(opcodes: list[Opcode]) -> int:
    """How many lines the inline view of a hunk made of *opcodes* has."""
    return sum(i2 - i1 + (j2 - j1 if tag != "equal" else 0) for tag, i1, i2, j1, j2 in opcodes)


def _clipped(opcodes: list[Opcode], limit: int) -> list[Opcode]:
    """The first *limit* lines' worth of *opcodes*."""
    clipped = []
    for tag, i1, i2, j1, j2 in opcodes:
        if limit <= 0:
            break
        olds = min(i2 - i1, limit)
        news = olds if tag == "equal" else min(j2 - j1, limit - olds)
        clipped.append((tag, i1, i1 + olds, j1, j1 + news))
        limit -= olds + (news if tag != "equal" else 0)
    return clipped


def unified(old: str, new: str, old_label: str, new_label: str) -> str:
    """Return a unified diff of *old* against *new* (``""`` when they are the same)."""
    diff_lines = difflib.unified_diff(
        _split_lines(old), _split_lines(new), old_label, new_label, lineterm=""
    )
    return "".join(line + "\n" for line in diff_lines)


def merge(base: str, mine: str, theirs: str) -> MergeResult:
    """Merge the changes *mine* and *theirs* each made to *base*; the text uses ``\\n``.

    Every line is given a newline before merging, so that adding or dropping the final
    newline does not clash with an edit of the last line; whether the result ends with one
    is then merged on its own (the side that changed it from *base* wins).
    """
    from merge3 import Merge3  # with the first merge: a worker serving pages never merges

    base, mine, theirs = (_normalise_newlines(text) for text in (base, mine, theirs))
    merger = Merge3(
        *(_terminated_lines(text) for text in (base, mine, theirs)),
        # merge3's default is difflib's SequenceMatcher with autojunk on: slow and crude.
        sequence_matcher=_AnchoredMatcher,
    )
    conflicted = any(region[0] == "conflict" for region in merger.merge_regions())
    text = "".join(merger.merge_lines(name_a="yours", name_b="theirs"))
    if not _merged_final_newline(base, mine, theirs):
        text = text.removesuffix("\n")
    return MergeResult(text=text, conflicted=conflicted)


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n")


def _split_lines(text: str) -> list[str]:
    """Lines without their endings; only ``\\n`` ends a line, as in the editor."""
    lines = _normalise_newlines(text).split("\n")
    if lines[-1] == "":  # a final newline ends the last line rather than starting one
        lines.pop()
    return lines


def _terminated_lines(text: str) -> list[str]:
    return [line + "\n" for line in _split_lines(text)]


def _merged_final_newline(base: str, mine: str, theirs: str) -> bool:
    base_has, mine_has, theirs_has = (text.endswith("\n") for text in (base, mine, theirs))
    return mine_has if mine_has != base_has else theirs_has


@dataclass
class _WordBudget:
    """The word highlighting of one diff: its budget, and how many lines went without."""

    budget: _WorkBudget = field(default_factory=_WorkBudget)
    lines_left_out: int = 0


def _hunk(
    opcodes: list[Opcode], old_lines: list[str], new_lines: list[str], words: _WordBudget
) -> Hunk:
    lines: list[Line] = []
    rows: list[Row] = []
    for tag, i1, i2, j1, j2 in opcodes:
        olds, news = old_lines[i1:i2], new_lines[j1:j2]
        if tag == "equal":
            equal = [
                Line("equal", i1 + k + 1, j1 + k + 1, (Segment(text, False),))
                for k, text in enumerate(olds)
            ]
            lines += equal
            rows += [Row(line, line) for line in equal]
        else:
            deletes, inserts = _changed_lines(olds, news, i1 + 1, j1 + 1, words)
            lines += deletes + inserts
            rows += [Row(left, right) for left, right in zip_longest(deletes, inserts)]
    _, old_start, _, new_start, _ = opcodes[0]
    return Hunk(old_start + 1, new_start + 1, tuple(lines), tuple(rows))


def _changed_lines(
    olds: list[str], news: list[str], old_number: int, new_number: int, words: _WordBudget
) -> tuple[list[Line], list[Line]]:
    """Pair old and new lines one-to-one for word highlights; the surplus stand alone.

    Pairs the budget cannot afford are marked changed as a whole.
    """
    old_segments = [(Segment(text, False),) for text in olds]
    new_segments = [(Segment(text, False),) for text in news]
    for k, (old, new) in enumerate(zip(olds, news, strict=False)):
        affordable = words.budget.spend(_LINE_PAIR_COST)
        highlighted = _highlight(old, new, words.budget) if affordable else None
        if highlighted is None:
            old_segments[k], new_segments[k] = (Segment(old, True),), (Segment(new, True),)
            words.lines_left_out += 2
        else:
            old_segments[k], new_segments[k] = highlighted
    deletes = [
        Line("delete", old_number + k, None, segments) for k, segments in enumerate(old_segments)
    ]
    inserts = [
        Line("insert", None, new_number + k, segments) for k, segments in enumerate(new_segments)
    ]
    return deletes, inserts


def _highlight(
    old: str, new: str, budget: _WorkBudget
) -> tuple[tuple[Segment, ...], tuple[Segment, ...]] | None:
    """Segments of a paired old and new line, marking the words that differ; None when
    matching them would go beyond *budget*."""
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
    line_budget = _WorkBudget(left=budget.left)
    opcodes = _AnchoredMatcher(None, old_tokens, new_tokens, budget=line_budget).get_opcodes()
    budget.left = line_budget.left
    if line_budget.cut_short:
        return None
    old_pieces, new_pieces = [], []
    for tag, i1, i2, j1, j2 in opcodes:
        changed = tag != "equal"
        old_pieces.append(Segment("".join(old_tokens[i1:i2]), changed))
        new_pieces.append(Segment("".join(new_tokens[j1:j2]), changed))
    if _similarity(old_pieces, new_pieces) < _MIN_SIMILARITY:
        return (Segment(old, True),), (Segment(new, True),)
    return _joined(old_pieces), _joined(new_pieces)


def _similarity(old_pieces: list[Segment], new_pieces: list[Segment]) -> float:
    """Share of characters left unchanged, like ``SequenceMatcher.ratio`` but by characters,
    so that the spaces two unrelated lines share do not make them look alike."""
    total = sum(len(piece.text) for piece in old_pieces + new_pieces)
    unchanged = sum(len(piece.text) for piece in old_pieces + new_pieces if not piece.changed)
    return unchanged / total if total else 1.0


def _joined(pieces: list[Segment]) -> tuple[Segment, ...]:
    """Drop empty pieces and merge neighbours with the same ``changed`` flag."""
    segments: list[Segment] = []
    for piece in pieces:
        if not piece.text:
            continue
        if segments and segments[-1].changed == piece.changed:
            segments[-1] = Segment(segments[-1].text + piece.text, piece.changed)
        else:
            segments.append(piece)
    return tuple(segments)


class _AnchoredMatcher(difflib.SequenceMatcher):
    """A SequenceMatcher made fast on long, repetitive texts: patience diff, then exact.

    Plain ``SequenceMatcher`` without autojunk slows down with every repeated item (blank
    lines, ``}``, spaces); with autojunk on, it mangles repetitive pages. So patience diff
    (``patiencediff``) anchors on items that occur once in each sequence, and the small gaps
    it leaves are matched exactly, without autojunk, while the work budget lasts.
    """

    def __init__(self, isjunk=None, a=(), b=(), budget: _WorkBudget | None = None):
        self.budget = budget or _WorkBudget()
        super().__init__(isjunk, a, b, autojunk=False)

    def get_matching_blocks(self) -> list[tuple[int, int, int]]:
        a, b = self.a, self.b
        blocks = []
        i, j = 0, 0
        # Small inputs are matched exactly as one stretch: anchoring would only cost time.
        anchors = (PatienceSequenceMatcher(None, a, b).get_matching_blocks()
                   if len(a) * len(b) > _MAX_EXACT_GAP else [])
        for anchor_i, anchor_j, size in anchors:
            blocks += _gap_blocks(a[i:anchor_i], b[j:anchor_j], i, j, self.budget)
            blocks.append((anchor_i, anchor_j, size))
            i, j = anchor_i + size, anchor_j + size
        blocks += _gap_blocks(a[i:], b[j:], i, j, self.budget)
        return [*_coalesced(blocks), (len(a), len(b), 0)]


def _gap_blocks(
    a, b, a_offset: int, b_offset: int, budget: _WorkBudget
) -> list[tuple[int, int, int]]:
    """Matching blocks of a stretch between anchors, offset to their place in the whole.

    Beyond its common ends, a large stretch, or one the budget cannot afford, counts as all
    changed: matching it exactly could take seconds.
    """
    head = _common_prefix_length(a, b)
    tail = _common_suffix_length(a, b, min(len(a), len(b)) - head)
    blocks = [(a_offset, b_offset, head)]
    a_middle, b_middle = a[head : len(a) - tail], b[head : len(b) - tail]
    pairs = len(a_middle) * len(b_middle)
    if pairs and (pairs > _MAX_EXACT_GAP or not budget.spend(pairs)):
        budget.cut_short = True
    elif pairs:
        matcher = difflib.SequenceMatcher(None, a_middle, b_middle, autojunk=False)
        offset_i, offset_j = a_offset + head, b_offset + head
        blocks += [(i + offset_i, j + offset_j, n) for i, j, n in matcher.get_matching_blocks()]
    blocks.append((a_offset + len(a) - tail, b_offset + len(b) - tail, tail))
    return blocks


def _coalesced(blocks: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Drop empty blocks and join touching ones, as ``get_matching_blocks`` promises."""
    joined: list[tuple[int, int, int]] = []
    for i, j, size in blocks:
        if not size:
            continue
        if joined and joined[-1][0] + joined[-1][2] == i and joined[-1][1] + joined[-1][2] == j:
            joined[-1] = (joined[-1][0], joined[-1][1], joined[-1][2] + size)
        else:
            joined.append((i, j, size))
    return joined


def _common_prefix_length(a, b) -> int:
    length = 0
    while length < min(len(a), len(b)) and a[length] == b[length]:
        length += 1
    return length


def _common_suffix_length(a, b, limit: int) -> int:
    """Length of the common suffix, at most *limit* so that it cannot overlap the prefix."""
    length = 0
    while length < limit and a[-1 - length] == b[-1 - length]:
        length += 1
    return length
