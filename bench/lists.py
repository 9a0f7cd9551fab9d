"""Lists at depth: the first page and a page deep in each long list, at 100,000 pages, timed
in-process (Flask's test client, no server): what keyset pagination buys over an offset.

    python bench/lists.py                                   # SQLite, under bench/work/lists/
    python bench/lists.py --database postgresql+psycopg://postgres@127.0.0.1/wiki_bench

The wiki is written straight into the tables (lists read only pages, revisions, tags and
links; nothing here is rendered or searched), so it is made in seconds, not hours: 100,000
pages, one with 50,000 revisions, every other page tagged ``common`` and linking to ``home``.
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert, select, text

from wiki import create_app
from wiki.extensions import db
from wiki.models import Link, Page, Revision, Role, Tag, page_tags
from wiki.services import accounts
from wiki.services.history import NEWEST_CHANGE_FIRST, recent_changes_query

WORK = Path(__file__).resolve().parent / "work" / "lists"
PAGES = 100_000
HISTORY = 50_000  # revisions of the page "changelog"
CHUNK = 10_000
START = datetime(2024, 1, 1, tzinfo=UTC)
PASSWORD = secrets.token_urlsafe()  # of the one account, made at each fill


def fill(pages: int) -> None:
    """The tables of a wiki of *pages* pages, written directly (see the module docstring)."""
    slugs = ["home", "changelog"] + [f"note-{number:06}" for number in range(pages - 2)]
    for start in range(0, pages, CHUNK):
        db.session.execute(insert(Page), [
            {"id": number + 1, "slug": slug, "title": slug.title(), "revision_number": 1,
             "updated_at": START}
            for number, slug in enumerate(slugs[start:start + CHUNK], start)])
    revisions = [(page_id, 1) for page_id in range(1, pages + 1)]
    revisions += [(2, number) for number in range(2, HISTORY + 1)]
    for start in range(0, len(revisions), CHUNK):
        db.session.execute(insert(Revision), [
            {"page_id": page_id, "number": number, "title": "T", "body": "", "html": "",
             "created_at": START + timedelta(seconds=start + offset)}
            for offset, (page_id, number) in enumerate(revisions[start:start + CHUNK])])
    db.session.execute(text("UPDATE page SET current_revision_id = id WHERE id <> 2"))
    db.session.execute(text("UPDATE page SET revision_number = :number, current_revision_id = "
                            "(SELECT max(id) FROM revision WHERE page_id = 2) WHERE id = 2"),
                       {"number": HISTORY})
    db.session.execute(insert(Tag), [{"id": 1, "name": "common"}])
    every_other = range(3, pages + 1, 2)
    for start in range(0, len(every_other), CHUNK):
        chunk = every_other[start:start + CHUNK]
        db.session.execute(insert(page_tags), [{"page_id": p, "tag_id": 1,
                                                 "page_slug": slugs[p - 1]} for p in chunk])
        db.session.execute(insert(Link), [{"from_page_id": p, "from_slug": slugs[p - 1],
                                           "target_slug": "home"} for p in chunk])
    db.session.commit()
    accounts.create_user("bench", PASSWORD, Role.ADMIN)


def deep_lists(pages: int) -> list[tuple[str, str, str]]:
    """Each list's first page, a page deep in it by number (an offset), and the same page
    by key (as its "Older" / "Next" links reach it): around page 1,000 of /recent."""
    def key_at(statement, offset: int) -> tuple:
        return tuple(db.session.execute(statement.offset(offset).limit(1)).one())

    recent = min(49_950, pages + HISTORY - 100)
    listed, tagged = min(90_000, pages - 200), min(40_000, pages // 2 - 200)
    recent_key = key_at(recent_changes_query().with_only_columns(Revision.created_at,
                                                                 Revision.id), recent - 1)
    (slug,) = key_at(select(Page.slug).where(Page.deleted.is_(False)).order_by(Page.slug),
                     listed - 1)
    (tagged_slug,) = key_at(select(Page.slug).join(page_tags, page_tags.c.page_id == Page.id)
                            .order_by(Page.slug), tagged - 1)
    return [
        ("/recent", f"/recent?page={recent // 50 + 1}",
         f"/recent?before={NEWEST_CHANGE_FIRST.format(recent_key)}"),
        ("/history/changelog", "/history/changelog?page=980",
         f"/history/changelog?before={HISTORY - 49_000 + 1}"),
        ("/pages", f"/pages?page={listed // 100 + 1}", f"/pages?after={slug}"),
        ("/tags/common", f"/tags/common?page={tagged // 100 + 1}",
         f"/tags/common?after={tagged_slug}"),
        ("/backlinks/home", f"/backlinks/home?page={tagged // 100 + 1}",
         f"/backlinks/home?after={tagged_slug}"),
    ]


def timed(client, url: str, rounds: int) -> tuple[float, float]:
    """The median milliseconds of *rounds* requests for *url* (after one to warm up): in
    all, and in the database (as the ``Server-Timing`` header says)."""
    assert client.get(url).status_code == 200, url
    times, database = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        database.append(float(re.search(r"db;dur=([\d.]+)", response.headers["Server-Timing"])[1]))
    return statistics.median(times), statistics.median(database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a database URL (default: SQLite under bench/work)")
    parser.add_argument("--pages", type=int, default=PAGES)
    parser.add_argument("--rounds", type=int, default=30)
    arguments = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    url = arguments.database or f"sqlite:///{WORK / 'wiki.sqlite'}"
    if not arguments.database:
        (WORK / "wiki.sqlite").unlink(missing_ok=True)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(WORK),
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        fill(arguments.pages)
        print(f"filled {arguments.pages:,} pages in {time.perf_counter() - started:.0f} s")
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        lists = deep_lists(arguments.pages)
        dialect = db.engine.dialect.name
    client = app.test_client()
    client.post("/login", data={"username": "bench", "password": PASSWORD})
    print(f"{dialect}, {arguments.pages:,} pages: p50 ms of {arguments.rounds}")
    print("median ms in all (in the database)")
    print(f"{'list':<20}{'first page':>16}{'deep, offset':>16}{'deep, by key':>16}")
    for urls in lists:
        cells = [timed(client, url, arguments.rounds) for url in urls]
        print(f"{urls[0]:<20}" + "".join(f"{f'{whole:.1f} ({db_ms:.1f})':>16}"
                                         for whole, db_ms in cells))


if __name__ == "__main__":
    main()
