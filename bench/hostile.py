"""The hostile-input section of ``make bench``: inputs that once held a worker for seconds.

Rendering and diffing are pure functions, so they are timed in this process, each input
three times, the median kept. The tests check that their work grows linearly and stays
within its budgets; this shows what that costs in seconds on this machine.

    python bench/hostile.py        # this section alone, spliced into bench/results/latest.md
"""

from __future__ import annotations

import random
import statistics
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from wiki.services import diffing, rendering

RESULTS = Path(__file__).resolve().parent / "results"
REPEATS = 3
GOAL_SECONDS = 1.0
HEADING = "## Hostile input"


def random_punctuation(line_length: int, size: int, seed: int) -> str:
    """Lines of random punctuation and spaces, none repeating: the hardest text to diff."""
    rng = random.Random(seed)
    alphabet = string.punctuation + "  "
    lines = ["".join(rng.choices(alphabet, k=line_length)) for _ in range(size // line_length)]
    return "\n".join(lines)


def _rendering(markdown: str) -> tuple[int, Callable[[], object]]:
    return len(markdown.encode()), lambda: rendering.render(markdown)


def _diffing(line_length: int, size: int = 600_000) -> tuple[int, Callable[[], object]]:
    old, new = (random_punctuation(line_length, size, seed) for seed in (1, 2))
    return len(new), lambda: diffing.diff_texts(old, new)


def _merging() -> tuple[int, Callable[[], object]]:
    base, mine, theirs = (random_punctuation(300, 600_000, seed) for seed in (1, 2, 3))
    return len(mine), lambda: diffing.merge(base, mine, theirs)


# name → (input size in bytes, the call), made when measured
CASES: dict[str, Callable[[], tuple[int, Callable[[], object]]]] = {
    "render: 20,000 duplicate headings": lambda: _rendering("# a\n" * 20_000),
    "render: 12,000 task-list items": lambda: _rendering("- [ ] x\n" * 12_000),
    "render: systemd fence, one line of 2,400 blanks": lambda: _rendering(
        "```systemd\n" + " \t" * 1_200 + "x\n```\n"),
    "render: systemd fence, 30,000 lines it cannot lex": lambda: _rendering(
        "```systemd\n" + "no equals sign\n" * 30_000 + "```\n"),
    "render: 1 MB table, two columns": lambda: _rendering(
        "| a | b |\n|---|---|\n" + "| x | y |\n" * 99_990),
    "render: 1 MB table, 100 columns": lambda: _rendering(
        "|a" * 100 + "\n" + "|-" * 100 + "\n" + ("|x" * 100 + "\n") * 4_970),
    "diff: 900 KB random punctuation, 1-character lines": lambda: _diffing(1, 450_000),
    "diff: 600 KB random punctuation, 20-character lines": lambda: _diffing(20),
    "diff: 600 KB random punctuation, 300-character lines": lambda: _diffing(300),
    "merge (edit conflict): 3 × 600 KB random punctuation": _merging,
}


@dataclass
class HostileResult:
    name: str
    kb: float
    seconds: float  # median of REPEATS


def measure() -> list[HostileResult]:
    results = []
    for name, make in CASES.items():
        size, call = make()
        times = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        results.append(HostileResult(name, size / 1000, statistics.median(times)))
        print(f"{name}: {results[-1].seconds:.2f} s", flush=True)
    return results


def worst(results: list[HostileResult]) -> HostileResult:
    return max(results, key=lambda result: result.seconds)


def markdown(results: list[HostileResult]) -> list[str]:
    slowest = worst(results)
    return [
        HEADING, "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Rendering and diffing in one process, "
        f"each input {REPEATS} times, the median. "
        f"Worst case: {slowest.name}, {slowest.seconds:.2f} s (goal: under "
        f"{GOAL_SECONDS:g} s).", "",
        "| input | KB | seconds |", "| --- | ---: | ---: |",
        *(f"| {r.name} | {r.kb:,.0f} | {r.seconds:.2f} |" for r in results),
    ]


def splice_into(report: Path, section: list[str]) -> None:
    """Put *section* in place of the report's hostile-input section (or at its end),
    keeping every other row."""
    text = report.read_text() if report.exists() else "# Benchmark results\n"
    before, _, after = text.partition(f"\n{HEADING}\n")
    rest = after[after.index("\n## "):] if "\n## " in after else ""
    report.write_text(before.rstrip("\n") + "\n\n" + "\n".join(section) + "\n" + rest)


if __name__ == "__main__":
    splice_into(RESULTS / "latest.md", markdown(measure()))
    print((RESULTS / "latest.md").read_text())
