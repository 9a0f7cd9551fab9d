"""Review cards: found in pages' text when they are saved (``syncing``, called by the pages
service in the saving transaction), kept through edits (``identity``), reviewed on an FSRS
schedule per user (``reviewing``), summed up in statistics (``stats``)."""

from wiki.services.cards.extraction import BASIC, BLANK, CLOZE, Found, extract
from wiki.services.cards.reviewing import (
    RATINGS,
    NothingDue,
    ReviewError,
    Scope,
    count_on_page,
    count_on_page_query,
    get_card,
    grade,
    next_card,
    next_card_and_schedule,
    nothing_due,
    pages_with_cards,
    schedule_of,
    set_new_cards_per_day,
)
from wiki.services.cards.stats import Stats, stats
from wiki.services.cards.syncing import sync

__all__ = [
    "BASIC", "BLANK", "CLOZE", "RATINGS", "Found", "NothingDue", "ReviewError", "Scope", "Stats",
    "count_on_page", "count_on_page_query", "extract", "get_card", "grade", "next_card",
    "next_card_and_schedule",
    "nothing_due", "pages_with_cards", "schedule_of", "set_new_cards_per_day", "stats", "sync",
]
