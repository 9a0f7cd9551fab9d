"""Review cards as an Anki package (``.apkg``, built with genanki), for ``flask cards
export-apkg``: a ``Question :: Answer`` card becomes a Basic note, a cloze card an Anki
Cloze note (``{{c1::words}}``). Each note's GUID comes from the card's id, which survives
edits and renames, so importing a later export into Anki updates the notes it made before
instead of adding copies."""

from __future__ import annotations

import hashlib
import html
import itertools
import os
import sqlite3
import tempfile
import time
import zipfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import genanki
from sqlalchemy import exists, select
from sqlalchemy.orm import contains_eager

from wiki.extensions import db
from wiki.models import Card, Page, Tag, page_tags
from wiki.services.cards.extraction import BLANK, CLOZE
from wiki.services.cards.reviewing import Scope, active_cards

# Fixed ids: Anki recognises the note types of earlier exports by them.
BASIC_MODEL_ID = 1_607_392_319
CLOZE_MODEL_ID = 1_607_392_320
CARD_STYLE = ".card { font-family: sans-serif; font-size: 20px; text-align: center; }"

BASIC_MODEL = genanki.Model(
    BASIC_MODEL_ID, "Notebook wiki: basic",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Page"}],
    templates=[{"name": "Card 1", "qfmt": "{{Front}}",
                "afmt": '{{FrontSide}}<hr id="answer">{{Back}}<p><small>{{Page}}</small></p>'}],
    css=CARD_STYLE)
CLOZE_MODEL = genanki.Model(
    CLOZE_MODEL_ID, "Notebook wiki: cloze",
    fields=[{"name": "Text"}, {"name": "Page"}],
    templates=[{"name": "Cloze", "qfmt": "{{cloze:Text}}",
                "afmt": "{{cloze:Text}}<p><small>{{Page}}</small></p>"}],
    css=CARD_STYLE, model_type=genanki.Model.CLOZE)


class SelectionError(ValueError):
    """A page or tag with no cards to export; the message says why."""


@dataclass(frozen=True)
class Exported:
    deck: str
    basic: int
    cloze: int


def export_apkg(path: Path, site_name: str, scope: Scope) -> Exported:
    """Write the active cards of the pages in *scope* (a page and its sub-pages, a tag, or
    everything; only pages its visibility shows) to *path* as one Anki deck.

    :raises SelectionError: no such page or tag, or no cards in it; nothing is written.
    """
    deck_name = _deck_name(site_name, scope)
    cards = _cards(scope)
    if not cards:
        raise SelectionError(_why_empty(scope))
    deck = genanki.Deck(_deck_id(deck_name), deck_name)
    for card in cards:
        deck.add_note(note_of(card, site_name))
    _write(genanki.Package(deck), path)
    cloze = sum(card.kind == CLOZE for card in cards)
    return Exported(deck_name, len(cards) - cloze, cloze)


def note_of(card: Card, site_name: str) -> genanki.Note:
    """The Anki note of *card*: its text escaped (cards are shown as plain text), the page's
    title as a field and its address as a tag (``flask/routing`` → ``flask::routing``, a
    tag hierarchy in Anki)."""
    page = html.escape(card.page.title)
    if card.kind == CLOZE:
        text = html.escape(card.question).replace(
            html.escape(BLANK), "{{c1::" + _inside_cloze(card.answer) + "}}", 1)
        model, fields = CLOZE_MODEL, [text, page]
    else:
        model, fields = BASIC_MODEL, [html.escape(card.question), html.escape(card.answer), page]
    return genanki.Note(model=model, fields=fields, guid=guid_of(card, site_name),
                        tags=[card.page.slug.replace("/", "::")])


def guid_of(card: Card, site_name: str) -> str:
    return genanki.guid_for("notebook-wiki-card", site_name, card.id)


def _inside_cloze(words: str) -> str:
    """*words* escaped so that Anki reads none of them as cloze syntax (``::`` starts a hint,
    ``}}`` ends the deletion): as character references, shown as written."""
    return html.escape(words).replace(":", "&#58;").replace("}", "&#125;")


def _cards(scope: Scope) -> list[Card]:
    query = (scope.narrow(active_cards()).join(Card.page).options(contains_eager(Card.page))
             .where(Page.deleted.is_(False)).order_by(Page.slug, Card.position))
    return list(db.session.scalars(query))


def _why_empty(scope: Scope) -> str:
    if scope.under is not None:
        page = db.session.scalar(select(Page).where(Page.slug == scope.under,
                                                    Page.deleted.is_(False)))
        if page is None or not scope.visible.shows(page.slug):
            return f"There is no page at “{scope.under}”."
        return f"“{page.title}” and its sub-pages have no cards."
    if scope.tag is not None:
        tagged = exists().where(page_tags.c.page_id == Page.id, page_tags.c.tag_id == Tag.id,
                                Tag.name == scope.tag)
        carrying = select(Page.id).where(tagged, Page.deleted.is_(False),
                                         scope.visible.slug_condition())
        if db.session.scalar(carrying.limit(1)) is None:
            return f"No page is tagged “{scope.tag}”."
        return f"The pages tagged “{scope.tag}” have no cards."
    return "There are no cards to export."


def _deck_name(site_name: str, scope: Scope) -> str:
    """The wiki's name, and the selection as a sub-deck: ``Notebook::flask/routing``,
    ``Notebook::#web``."""
    if scope.under is not None:
        return f"{site_name}::{scope.under}"
    if scope.tag is not None:
        return f"{site_name}::#{scope.tag}"
    return site_name


def _deck_id(name: str) -> int:
    """A deck id from its name, the same at every export (Anki's ids are 64-bit; genanki
    suggests staying within 2**31)."""
    return 2**30 + int.from_bytes(hashlib.sha256(name.encode()).digest()[:4]) % 2**30


def _write(package: genanki.Package, path: Path) -> None:
    """The package at *path*, whole or not at all. (genanki's own ``write_to_file`` leaves
    its temporary collection behind in the temporary folder, so the zip is made here.)"""
    timestamp = time.time()
    partial = path.with_name(f".{path.name}.partial")
    with tempfile.TemporaryDirectory() as folder:
        collection = Path(folder) / "collection.anki2"
        with closing(sqlite3.connect(collection)) as connection:
            package.write_to_db(connection.cursor(), timestamp,
                                itertools.count(int(timestamp * 1000)))
            connection.commit()
        try:
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.write(collection, "collection.anki2")
                archive.writestr("media", "{}")
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
