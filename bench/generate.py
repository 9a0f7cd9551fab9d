"""Wikis for the benchmark, made the way people make them: one save at a time, through
the wiki's own services.

    python bench/generate.py                    # 1,000 and 10,000 pages (reused when there)
    python bench/generate.py --large            # and 100,000 (or BENCH_LARGE=1)
    python bench/generate.py --sizes 1000 --fresh

Every page and every edit goes through the pages service, so its revision, rendered HTML,
links, tags and search index are written together, as the wiki writes them: each page's first
version by ``pages.create_pages`` (what ``flask pages import`` uses, a batch per transaction),
then the edits one ``pages.save`` at a time, with the same content, dates and authors as one
save after another (``--one-save-at-a-time``, slower) would give. Nothing is inserted around
the services.

The content is made up but shaped like learning notes: headings, paragraphs with inline
code and emphasis, lists and task lists, fenced code, tables, ``[[wiki links]]`` (mostly to
earlier pages, some to pages made later, some red), tags, sub-pages, and a history: one page
in ten is edited a few times, one in two thousand hundreds of times, and one page 500 times.
Words follow a Zipf distribution over a long made-up vocabulary, and three search terms are
planted at known rates: ``COMMON_WORD`` in every other page, ``RARE_WORD`` in five pages,
``PHRASE`` in one page in fifty.

Each wiki is kept under ``bench/work/wiki-<pages>/`` with a ``manifest.json`` written last:
a wiki without one is unfinished and is made again.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import time
from bisect import bisect
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

from flask import current_app
from flask_migrate import upgrade

from wiki import create_app
from wiki.extensions import db
from wiki.models import Role
from wiki.services import accounts, pages
from wiki.services.importing import import_shipped_notes
from wiki.services.slugs import slugify

GENERATOR_VERSION = 1  # bump when the content changes, so old wikis are made again
WORK = Path(__file__).resolve().parent / "work"
DEFAULT_SIZES = (1_000, 10_000)
LARGE_SIZE = 100_000

COMMON_WORD = "blueprint"  # in every other page
RARE_WORD = "quokka"  # in RARE_PAGES pages, whatever the size
RARE_PAGES = 5
PHRASE = "application factory"  # in one page in PHRASE_EVERY
PHRASE_EVERY = 50
HISTORY_TITLE = "Changelog of the Notebook"  # the page with HISTORY_REVISIONS revisions
HISTORY_REVISIONS = 500

BENCH_USER = "bench"
BENCH_PASSWORD = "bench password, not a secret"  # noqa: S105 (a throwaway local account)
AUTHORS = ("ada", "grace", "linus", "guido", "barbara", "ken", "margaret")
SAMPLE_SIZE = 1_000  # slugs handed to the driver for random page views and saves

# The most frequent words, in rank order; a made-up vocabulary follows them.
REAL_WORDS = [
    "the", "of", "and", "to", "a", "in", "is", "it", "that", "for", "on", "with", "as", "this",
    "be", "are", "by", "from", "or", "an", "can", "at", "you", "your", "not", "when", "which",
    "each", "request", "response", "flask", "route", "view", "template", "app", "function",
    "value", "data", "page", "one", "more", "use", "see", "how", "its", "what", "if", "then",
    "but", "all", "they", "have", "new", "will", "only", "server", "client", "session",
    "cookie", "database", "query", "index", "error", "handler", "test", "config", "context",
    "python", "module", "import", "class", "object", "method", "string", "list", "dict", "file",
    "path", "url", "form", "field", "token", "user", "login", "password", "cache", "header",
    "status", "code", "body", "json", "html", "css", "script", "debug", "worker", "process",
    "thread", "socket", "port", "proxy", "deploy", "build", "package", "version", "release",
    "notes", "example", "pattern", "decorator", "extension", "signal", "hook", "middleware",
    "wsgi", "gunicorn", "nginx", "sqlite", "model", "schema", "migration", "table", "column",
    "row", "key", "join", "select", "insert", "update", "delete", "commit",
]
SYLLABLES = [
    "ba", "be", "bi", "bo", "bu", "da", "de", "di", "do", "du", "fa", "fe", "fi", "fo", "ka",
    "ke", "ki", "ko", "ku", "la", "le", "li", "lo", "lu", "ma", "me", "mi", "mo", "mu", "na",
    "ne", "ni", "no", "nu", "pa", "pe", "pi", "po", "pu", "ra", "re", "ri", "ro", "ru", "sa",
    "se", "si", "so", "su", "ta", "te", "ti", "to", "tu", "va", "ve", "vi", "vo", "za", "ze",
    "zi", "zo", "an", "en", "in", "on", "ar", "er", "or", "ur", "al", "el", "il", "ol", "ex",
    "ix", "ox",
]
VOCABULARY_SIZE = 30_000
TAGS = 200
LANGUAGES = ("python", "python", "bash", "json", "text", "sql", "")


# --- words ------------------------------------------------------------------------------


class Words:
    """Words drawn with Zipf frequencies from a fixed vocabulary (the same for every seed)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.vocabulary = _vocabulary()
        weights = (1 / (rank + 1) ** 1.05 for rank in range(len(self.vocabulary)))
        self.cumulative = list(accumulate(weights))

    def word(self) -> str:
        point = self.rng.random() * self.cumulative[-1]
        return self.vocabulary[min(bisect(self.cumulative, point), len(self.vocabulary) - 1)]

    def rare_word(self) -> str:
        """A word from the long tail: names, titles and tags are made of these."""
        return self.vocabulary[self.rng.randrange(200, len(self.vocabulary))]

    def sentence(self, low: int = 6, high: int = 16) -> str:
        words = [self.word() for _ in range(self.rng.randint(low, high))]
        for index in range(len(words)):
            roll = self.rng.random()
            if roll < 0.03:
                words[index] = f"`{words[index]}()`"
            elif roll < 0.05:
                words[index] = f"**{words[index]}**"
            elif roll < 0.07:
                words[index] = f"*{words[index]}*"
        return " ".join(words).capitalize() + "."

    def name(self, count: int) -> str:
        return " ".join(self.rare_word().capitalize() for _ in range(count))


def _vocabulary() -> list[str]:
    made_up = random.Random(0)
    planted = {COMMON_WORD, RARE_WORD, *PHRASE.split()}
    vocabulary = [word for word in REAL_WORDS if word not in planted]
    seen = set(vocabulary) | planted
    while len(vocabulary) < VOCABULARY_SIZE:
        word = "".join(made_up.choice(SYLLABLES) for _ in range(made_up.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            vocabulary.append(word)
    return vocabulary


# --- pages --------------------------------------------------------------------------------


@dataclass
class Plan:
    """Which pages to make, and when each of them is edited."""

    size: int
    titles: list[str] = field(default_factory=list)
    tags: list[list[str]] = field(default_factory=list)
    edits: dict[int, list[int]] = field(default_factory=dict)  # step → pages edited then

    @property
    def saves(self) -> int:
        return self.size + sum(len(edited) for edited in self.edits.values())


class Author:
    """Writes page bodies and edits them."""

    def __init__(self, rng: random.Random, plan: Plan) -> None:
        self.rng = rng
        self.plan = plan
        self.words = Words(rng)

    def body(self, index: int) -> str:
        rng = self.rng
        blocks = [self.paragraph(index)]
        for _ in range(rng.randint(2, 5)):
            blocks.append(f"## {self.words.name(rng.randint(1, 3))}")
            blocks.append(self.paragraph(index))
            roll = rng.random()
            if roll < 0.35:
                blocks.append(self.bullets(index))
            elif roll < 0.55:
                blocks.append(self.code())
            elif roll < 0.7:
                blocks.append(self.table())
            if rng.random() < 0.3:
                blocks.append(f"### {self.words.name(2)}\n\n{self.paragraph(index)}")
        blocks.append(self.planted(index))
        return "\n\n".join(block for block in blocks if block) + "\n"

    def planted(self, index: int) -> str:
        """The search terms whose frequency the benchmark relies on."""
        size, sentences = self.plan.size, []
        if index % 2 == 0:
            sentences.append(f"Each {COMMON_WORD} groups views.")
        if index % max(size // RARE_PAGES, 1) == 7:
            sentences.append(f"A {RARE_WORD} appears here.")
        if index % PHRASE_EVERY == 3:
            sentences.append(f"Start from an {PHRASE}.")
        return " ".join(sentences)

    def paragraph(self, index: int) -> str:
        sentences = [self.words.sentence() for _ in range(self.rng.randint(2, 5))]
        for _ in range(self.rng.choice((0, 1, 1, 2))):
            position = self.rng.randrange(len(sentences))
            sentences[position] = sentences[position][:-1] + f" (see {self.link(index)})."
        return " ".join(sentences)

    def link(self, index: int) -> str:
        rng, titles = self.rng, self.plan.titles
        roll = rng.random()
        if roll < 0.06 or index == 0:  # a page nobody has written yet: a red link
            return f"[[{self.words.name(2)}]]"
        if roll < 0.12 and index + 1 < len(titles):  # a page written a little later
            target = min(index + rng.randint(1, 200), len(titles) - 1)
        elif roll < 0.5:  # the popular pages: low numbers are linked far more often
            target = min(int((rng.paretovariate(1.1) - 1) * 20), index - 1)
        else:
            target = rng.randrange(index)
        title = titles[target]
        if rng.random() < 0.2:
            return f"[[{title}|{self.words.word()} {self.words.word()}]]"
        return f"[[{title}]]"

    def bullets(self, index: int) -> str:
        rng = self.rng
        task = rng.random() < 0.2
        items = []
        for number in range(1, rng.randint(3, 7)):
            text = self.words.sentence(3, 9)
            if rng.random() < 0.15:
                text += f" {self.link(index)}"
            marker = f"- [{'x' if rng.random() < 0.5 else ' '}]" if task else "-"
            items.append(f"{number}. {text}" if not task and rng.random() < 0.2 else
                         f"{marker} {text}")
        return "\n".join(items)

    def code(self) -> str:
        rng, word = self.rng, self.words.rare_word
        language = rng.choice(LANGUAGES)
        if language in ("python", ""):
            lines = [f"from flask import {word().capitalize()}", "",
                     f"@app.route(\"/{word()}/<int:{word()}_id>\")",
                     f"def {word()}_{word()}({word()}_id):"]
            lines += [f"    {word()} = {word()}.get({word()}_id, {rng.randint(0, 99)})"
                      for _ in range(rng.randint(2, 8))]
            lines.append(f"    return render_template(\"{word()}.html\", {word()}={word()})")
        elif language == "bash":
            lines = [f"$ flask --app {word()} {word()} --{word()} {rng.randint(1, 9)}"
                     for _ in range(rng.randint(2, 6))]
        elif language == "json":
            pairs = ", ".join(f'"{word()}": {rng.randint(0, 999)}' for _ in range(4))
            lines = ["{" + pairs + "}"]
        elif language == "sql":
            lines = [f"SELECT {word()}, {word()} FROM {word()} WHERE {word()} = ?;"]  # noqa: S608
        else:
            lines = [f"{word()} -> {word()} -> {word()}" for _ in range(rng.randint(2, 5))]
        return f"```{language}\n" + "\n".join(lines) + "\n```"

    def table(self) -> str:
        rng, word = self.rng, self.words.word
        header = [word().capitalize() for _ in range(3)]
        rows = ["| " + " | ".join(header) + " |", "| --- | :---: | ---: |"]
        rows += [f"| `{word()}` | {word()} {word()} | {rng.randint(1, 9999)} |"
                 for _ in range(rng.randint(3, 6))]
        return "\n".join(rows)

    def edit(self, body: str, index: int) -> str:
        """*body* with one paragraph rewritten, sometimes one added or one removed."""
        lines = body.split("\n")
        prose = _prose_lines(lines[:-2])  # the last line keeps the planted search terms
        roll = self.rng.random()
        if not prose or roll < 0.2:
            lines.insert(len(lines) - 2, self.paragraph(index) + "\n")
        elif roll < 0.3 and len(prose) > 3:
            del lines[self.rng.choice(prose)]
        else:
            lines[self.rng.choice(prose)] = self.paragraph(index)
        return "\n".join(lines)


def _prose_lines(lines: list[str]) -> list[int]:
    """Indexes of paragraph lines outside code fences (the ones an edit may rewrite)."""
    found, in_code = [], False
    for number, line in enumerate(lines):
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and len(line) > 40 and line[0].isalpha():
            found.append(number)
    return found


def make_plan(size: int, rng: random.Random) -> Plan:
    plan = Plan(size)
    words = Words(rng)
    slugs: set[str] = set()
    tag_names = [f"{words.rare_word()}" for _ in range(TAGS)]
    for index in range(size):
        title = HISTORY_TITLE if index == 0 else _title(index, plan.titles, words, rng)
        while slugify(title) in slugs or slugify(title) == pages.HOME:
            title += f" {words.rare_word().capitalize()}"
        slugs.add(slugify(title))
        plan.titles.append(title)
        count = rng.choice((0, 1, 1, 2, 2, 3, 4))
        plan.tags.append(sorted({tag_names[min(int(rng.paretovariate(0.8)) - 1, TAGS - 1)]
                                 for _ in range(count)}))
    _schedule_edits(plan, rng)
    return plan


def _title(index: int, titles: list[str], words: Words, rng: random.Random) -> str:
    if index > 20 and rng.random() < 0.08:  # a sub-page of an earlier top-level page
        parent = titles[rng.randrange(1, index)]
        if "/" not in parent:
            return f"{parent}/{words.name(rng.randint(1, 2))}"
    return words.name(rng.randint(2, 4))


def _schedule_edits(plan: Plan, rng: random.Random) -> None:
    """Edits happen at random later steps: a few for one page in ten, hundreds for one in
    two thousand (at least two pages), and HISTORY_REVISIONS - 1 for page 0."""
    size = plan.size
    edit_counts = {0: HISTORY_REVISIONS - 1}
    for page in rng.sample(range(1, size), max(2, size // 2_000)):
        edit_counts[page] = rng.randint(100, 300)
    for page in rng.sample(range(1, size), size // 10):
        edit_counts.setdefault(page, rng.randint(1, 4))
    for page, count in edit_counts.items():
        for _ in range(count):
            plan.edits.setdefault(rng.randrange(page, size), []).append(page)


# --- making a wiki ------------------------------------------------------------------------


@dataclass
class Manifest:
    """What the driver needs to know about a generated wiki."""

    version: int
    pages: int
    saves: int
    seconds: float
    history_slug: str
    history_revisions: int
    sample_slugs: list[str]
    title_prefixes: list[str]
    common_word: str = COMMON_WORD
    rare_word: str = RARE_WORD
    phrase: str = PHRASE
    user: str = BENCH_USER
    password: str = BENCH_PASSWORD


def wiki_folder(size: int) -> Path:
    return WORK / f"wiki-{size}"


def load_manifest(size: int) -> Manifest | None:
    path = wiki_folder(size) / "manifest.json"
    if not path.exists():
        return None
    manifest = Manifest(**json.loads(path.read_text()))
    return manifest if manifest.version == GENERATOR_VERSION else None


def ensure(size: int, fresh: bool = False, *, one_save_at_a_time: bool = False) -> Manifest:
    """The wiki of *size* pages, made now unless a finished one of this version is there."""
    manifest = None if fresh else load_manifest(size)
    return manifest or generate(size, one_save_at_a_time=one_save_at_a_time)


def generate(size: int, seed: int = 8, *, one_save_at_a_time: bool = False) -> Manifest:
    folder = wiki_folder(size)
    shutil.rmtree(folder, ignore_errors=True)
    instance = folder / "instance"
    instance.mkdir(parents=True)
    manifest = fill(instance, size, seed, one_save_at_a_time=one_save_at_a_time)
    _checkpoint(instance / "wiki.sqlite")
    (folder / "manifest.json").write_text(json.dumps(asdict(manifest), indent=1))
    return manifest


def fill(instance: Path, size: int, seed: int = 8, database_url: str | None = None,
         *, one_save_at_a_time: bool = False) -> Manifest:
    """Write a wiki of *size* pages into the instance's SQLite file, or into the empty
    database at *database_url* (the review bench on PostgreSQL)."""
    rng = random.Random(seed)
    plan = make_plan(size, rng)
    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": database_url})
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        import_shipped_notes()
        authors = _create_accounts()
        write = _write_pages if one_save_at_a_time else _write_pages_in_bulk
        write(plan, Author(rng, plan), authors, Progress(size, plan.saves))
        db.session.remove()
        db.engine.dispose()
    return Manifest(
        version=GENERATOR_VERSION, pages=size, saves=plan.saves,
        seconds=round(time.perf_counter() - started, 1),
        history_slug=slugify(HISTORY_TITLE), history_revisions=HISTORY_REVISIONS,
        sample_slugs=[slugify(title) for title in rng.sample(plan.titles, min(SAMPLE_SIZE, size))],
        title_prefixes=[title[: rng.randint(3, 6)].lower() for title in
                        rng.sample(plan.titles, min(SAMPLE_SIZE, size))],
    )


def _create_accounts() -> list:
    accounts.create_user(BENCH_USER, BENCH_PASSWORD, Role.EDITOR)
    return [accounts.create_user(name, BENCH_PASSWORD, Role.EDITOR) for name in AUTHORS]


def _write_pages(plan: Plan, author: Author, authors: list, progress: Progress) -> None:
    rng = author.rng
    start = datetime.now(UTC) - timedelta(days=365)
    tick = timedelta(days=364) / plan.saves
    saves = 0
    for index, title in enumerate(plan.titles):
        saves += 1
        edit = pages.PageEdit(None, title, author.body(index), summary="First notes",
                              tags=plan.tags[index], when=start + saves * tick)
        pages.save(edit, rng.choice(authors))
        for edited in plan.edits.get(index, ()):
            saves += 1
            _edit(plan, author, edited, rng.choice(authors), start + saves * tick)
        progress.update(index + 1, saves)
    progress.done(saves)


def _write_pages_in_bulk(plan: Plan, author: Author, authors: list,
                         progress: Progress) -> None:
    """What :func:`_write_pages` writes, drawn in the same order from the same random
    numbers: the first versions created a batch at a time, then the edits saved in order.
    (An old revision's links to a page made after it are blue here, red there.)"""
    rng = author.rng
    start = datetime.now(UTC) - timedelta(days=365)
    tick = timedelta(days=364) / plan.saves
    batch_size = current_app.config["IMPORT_BATCH_PAGES"]
    bodies: dict[int, str] = {}
    batch: list[pages.NewPage] = []
    edits: list[pages.PageEdit] = []
    editors: list = []
    saves = 0
    for index, title in enumerate(plan.titles):
        saves += 1
        bodies[index] = author.body(index)
        batch.append(pages.NewPage(slugify(title), title, bodies[index], summary="First notes",
                                   tags=plan.tags[index], when=start + saves * tick,
                                   author=rng.choice(authors)))
        for edited in plan.edits.get(index, ()):
            saves += 1
            editors.append(rng.choice(authors))
            bodies[edited] = author.edit(bodies[edited], edited)
            edits.append(pages.PageEdit(
                slugify(plan.titles[edited]), plan.titles[edited], bodies[edited],
                summary=author.words.sentence(2, 6)[:-1], tags=plan.tags[edited],
                minor=author.rng.random() < 0.2, when=start + saves * tick))
        if len(batch) == batch_size or index + 1 == len(plan.titles):
            pages.create_pages(batch)
            batch = []
            progress.update(index + 1, index + 1)
    for done, (edit, who) in enumerate(zip(edits, editors, strict=True), start=1):
        pages.save(edit, who)
        progress.update(len(plan.titles), len(plan.titles) + done)
    progress.done(saves)


def _edit(plan: Plan, author: Author, index: int, who, when: datetime) -> None:
    slug = slugify(plan.titles[index])
    page = pages.get_page(slug)
    body = author.edit(page.current_revision.body, index)
    pages.save(pages.PageEdit(slug, page.title, body, summary=author.words.sentence(2, 6)[:-1],
                              tags=plan.tags[index], minor=author.rng.random() < 0.2, when=when),
               who)


def _checkpoint(database: Path) -> None:
    """Fold the write-ahead log into the database file, so its size on disk is all there."""
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


class Progress:
    """A line on stderr every couple of seconds: pages, saves, rate and time left."""

    def __init__(self, size: int, saves: int) -> None:
        self.size, self.saves = size, saves
        self.started = self.shown = time.perf_counter()

    def update(self, pages_done: int, saves_done: int) -> None:
        now = time.perf_counter()
        if now - self.shown < 2:
            return
        self.shown = now
        rate = saves_done / (now - self.started)
        left = (self.saves - saves_done) / rate
        print(f"  {self.size:,} pages: {pages_done:,} pages, {saves_done:,}/{self.saves:,} "
              f"saves, {rate:,.0f} saves/s, about {left:,.0f} s left", file=sys.stderr)

    def done(self, saves: int) -> None:
        seconds = time.perf_counter() - self.started
        print(f"  {self.size:,} pages: {saves:,} saves in {seconds:,.0f} s "
              f"({saves / seconds:,.0f} saves/s)", file=sys.stderr)


def sizes_wanted(large: bool, sizes: list[int] | None = None) -> list[int]:
    if sizes:
        return sizes
    return [*DEFAULT_SIZES, LARGE_SIZE] if large else list(DEFAULT_SIZES)


def forget_shell_settings() -> None:
    """Drop the shell's WIKI_/FLASK_ settings from this process and the servers it starts:
    a WIKI_DATABASE_URL there would have the bench write to, and measure, that database."""
    for name in [name for name in os.environ if name.startswith(("WIKI_", "FLASK_"))]:
        del os.environ[name]


def main(argv: list[str] | None = None) -> None:
    forget_shell_settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", default=bool(os.environ.get(
        "BENCH_LARGE")), help=f"also make the {LARGE_SIZE:,}-page wiki")
    parser.add_argument("--sizes", type=int, nargs="+", help="page counts to make")
    parser.add_argument("--fresh", action="store_true", help="make them again even if there")
    parser.add_argument("--one-save-at-a-time", action="store_true",
                        help="create pages with pages.save too, not a batch at a time")
    args = parser.parse_args(argv)
    for size in sizes_wanted(args.large, args.sizes):
        print(f"Wiki of {size:,} pages", file=sys.stderr)
        manifest = ensure(size, fresh=args.fresh, one_save_at_a_time=args.one_save_at_a_time)
        print(f"  ready: {manifest.saves:,} saves, made in {manifest.seconds:,} s",
              file=sys.stderr)


if __name__ == "__main__":
    main()
