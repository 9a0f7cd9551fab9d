"""Keeping a page's cards true to its text, inside the transaction that saves the text."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from wiki.models import Card, Page
from wiki.services.cards.extraction import extract
from wiki.services.cards.identity import Known, match


def sync(session: Session, page: Page, body: str) -> None:
    """Make *page*'s cards those written in *body*: new ones added, changed ones updated in
    place (their ids, and so every schedule, kept; see ``identity``), missing ones retired.
    Called with an empty *body* when the page is deleted."""
    found = extract(body)
    cards = list(session.scalars(select(Card).where(Card.page_id == page.id)))
    if not found and not cards:
        return
    by_id = {card.id: card for card in cards}
    known = [Known(card.id, card.position, card.kind, card.question, card.answer, card.retired)
             for card in cards]
    kept = set()
    for position, (item, card_id) in enumerate(zip(found, match(known, found), strict=True)):
        if card_id is None:
            session.add(Card(page_id=page.id, position=position, kind=item.kind,
                             question=item.question, answer=item.answer))
            continue
        kept.add(card_id)
        card = by_id[card_id]
        card.position, card.question, card.answer = position, item.question, item.answer
        card.retired = False
    for card in cards:
        if card.id not in kept:
            card.retired = True
