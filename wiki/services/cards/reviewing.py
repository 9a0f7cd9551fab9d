"""Reviewing: the next card a user should see, and grading it with FSRS (the ``fsrs``
package, its default parameters). Each user has one schedule per card; a card without one
is new to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, joinedload

from wiki.database import write_transaction
from wiki.extensions import db
from wiki.models import Card, CardSchedule, Page, ReviewLog, Tag, User, as_utc, page_tags, utcnow
from wiki.services.access import EVERYTHING, Visibility

if TYPE_CHECKING:
    import fsrs

NEW = 0  # ReviewLog.state of a card graded for the first time
RATINGS = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}
MAX_NEW_PER_DAY = 1000


def fsrs_module():
    """The ``fsrs`` package, imported on the first grade rather than at start-up."""
    import fsrs

    return fsrs


@cache
def scheduler() -> fsrs.Scheduler:
    """FSRS with its default parameters."""
    return fsrs_module().Scheduler()


class ReviewError(ValueError):
    """A grading or setting refused; the message says why."""


@dataclass(frozen=True)
class Scope:
    """Which cards to review: all, those of pages tagged *tag*, or of the page *under* and
    its sub-pages; only ever of the pages *visible* shows (the access rules)."""

    tag: str | None = None
    under: str | None = None
    visible: Visibility = EVERYTHING

    def narrow(self, query: Select) -> Select:
        if not self.visible.hides_nothing:
            query = query.where(self.visible.page_id_condition(Card.page_id))
        if self.tag:
            query = query.where(Card.page_id.in_(
                select(page_tags.c.page_id).join(Tag, Tag.id == page_tags.c.tag_id)
                .where(Tag.name == self.tag)))
        if self.under:
            # The page and the slugs between "flask/" and "flask0" ("0" follows "/").
            query = query.where(Card.page_id.in_(
                select(Page.id).where((Page.slug == self.under)
                                      | ((Page.slug > self.under + "/")
                                         & (Page.slug < self.under + "0")))))
        return query


@dataclass(frozen=True)
class NothingDue:
    next_due: datetime | None  # the next scheduled card's time, if any
    new_left_today: int  # new cards the user may still start today
    new_waiting: bool  # whether new cards wait for tomorrow's allowance


def start_of_day(now: datetime) -> datetime:
    return datetime.combine(now.date(), time(), tzinfo=now.tzinfo)


def active_cards() -> Select:
    return select(Card).where(Card.retired.is_(False))


def next_card(user: User, scope: Scope = Scope(), now: datetime | None = None) -> Card | None:
    """The card *user* should review now: the one due longest, else a new card if today's
    allowance of new cards is not used up (the oldest first), else None."""
    found = next_card_and_schedule(user, scope, now)
    return found[0] if found else None


def next_card_and_schedule(user: User, scope: Scope = Scope(), now: datetime | None = None
                           ) -> tuple[Card, CardSchedule | None] | None:
    """:func:`next_card` and *user*'s schedule of it (None: a new card), read together."""
    now = now or utcnow()
    due = db.session.execute(due_query(user, scope, now).add_columns(CardSchedule).limit(1))
    if row := due.first():
        return row.Card, row.CardSchedule
    if new_left_today(user, now) > 0:
        card = db.session.scalar(scope.narrow(new_cards(user)).order_by(Card.id).limit(1))
        if card is not None:
            return card, None
    return None


def due_query(user: User, scope: Scope, now: datetime) -> Select:
    """*user*'s cards due by *now*, the longest due first: a walk of the (user, due) index."""
    return scope.narrow(
        active_cards().join(CardSchedule, CardSchedule.card_id == Card.id)
        .where(CardSchedule.user_id == user.id, CardSchedule.due <= now)
        .order_by(CardSchedule.due))


def new_cards(user: User) -> Select:
    reviewed = exists().where(CardSchedule.user_id == user.id, CardSchedule.card_id == Card.id)
    return active_cards().where(~reviewed)


def new_today_query(user: User, now: datetime) -> Select:
    """How many new cards *user* started today (UTC): today's entries of their log."""
    return (select(func.count()).select_from(ReviewLog)
            .where(ReviewLog.user_id == user.id, ReviewLog.reviewed_at >= start_of_day(now),
                   ReviewLog.state == NEW))


def new_left_today(user: User, now: datetime) -> int:
    return max(0, user.new_cards_per_day - db.session.scalar(new_today_query(user, now)))


def nothing_due(user: User, scope: Scope = Scope(), now: datetime | None = None) -> NothingDue:
    """What to tell *user* when :func:`next_card` has nothing."""
    now = now or utcnow()
    next_due = db.session.scalar(scope.narrow(
        select(CardSchedule.due).join(Card, Card.id == CardSchedule.card_id)
        .where(Card.retired.is_(False), CardSchedule.user_id == user.id, CardSchedule.due > now)
        .order_by(CardSchedule.due).limit(1)))
    waiting = db.session.scalar(scope.narrow(new_cards(user)).limit(1)) is not None
    return NothingDue(as_utc(next_due) if next_due else None, new_left_today(user, now), waiting)


def get_card(card_id: int) -> Card | None:
    """The card, unless it is retired (its line is gone, or its page deleted), with its page
    (read in the same query: the access check asks for it)."""
    return db.session.scalar(active_cards().where(Card.id == card_id)
                             .options(joinedload(Card.page, innerjoin=True)))


def schedule_of(user: User, card: Card) -> CardSchedule | None:
    return db.session.get(CardSchedule, (user.id, card.id))


def grade(user: User, card_id: int, rating: int, now: datetime | None = None) -> datetime:
    """Record *user*'s *rating* (1 Again … 4 Easy) of the card and schedule it again;
    returns when it is due next.

    :raises ReviewError: the rating is not 1–4, or the card is retired or unknown.
    """
    if rating not in RATINGS:
        raise ReviewError("Grade the card 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy).")
    now = now or utcnow()
    user_id = user.id  # before the transaction: ending the read one expires *user*
    with write_transaction(seen_on_pages=False) as session:
        schedule = active_schedule(session, user_id, card_id)
        before = as_fsrs(card_id, schedule)
        after, _log = scheduler().review_card(before, fsrs_module().Rating(rating),
                                              review_datetime=now)
        elapsed = (now - as_utc(schedule.last_review)) if schedule and schedule.last_review \
            else timedelta()
        session.add(ReviewLog(card_id=card_id, user_id=user_id, rating=rating,
                              state=schedule.state if schedule else NEW,
                              elapsed_days=elapsed.total_seconds() / 86400, reviewed_at=now))
        if schedule is None:
            schedule = CardSchedule(user_id=user_id, card_id=card_id)
            session.add(schedule)
        schedule.state, schedule.step = int(after.state), after.step
        schedule.stability, schedule.difficulty = after.stability, after.difficulty
        schedule.due, schedule.last_review = after.due, after.last_review
        return after.due


def active_schedule(session: Session, user_id: int, card_id: int) -> CardSchedule | None:
    """The user's schedule of the card (None: new to them), read with the check that the
    card is still active, in one query.

    :raises ReviewError: the card is retired or unknown.
    """
    found = session.execute(
        select(Card.id, CardSchedule).outerjoin(CardSchedule, (CardSchedule.card_id == Card.id)
                                                & (CardSchedule.user_id == user_id))
        .where(Card.id == card_id, Card.retired.is_(False))).first()
    if found is None:
        raise ReviewError("This card is no longer on its page.")
    return found.CardSchedule


def as_fsrs(card_id: int, schedule: CardSchedule | None) -> fsrs.Card:
    fsrs = fsrs_module()
    if schedule is None:
        return fsrs.Card(card_id=card_id)
    return fsrs.Card(card_id=card_id, state=fsrs.State(schedule.state), step=schedule.step,
                     stability=schedule.stability, difficulty=schedule.difficulty,
                     due=as_utc(schedule.due),
                     last_review=as_utc(schedule.last_review) if schedule.last_review else None)


def set_new_cards_per_day(user_id: int, number: int) -> None:
    """:raises ReviewError: *number* is below 0 or above ``MAX_NEW_PER_DAY``."""
    if not 0 <= number <= MAX_NEW_PER_DAY:
        raise ReviewError(f"Choose between 0 and {MAX_NEW_PER_DAY} new cards a day.")
    with write_transaction(seen_on_pages=False) as session:
        session.get(User, user_id).new_cards_per_day = number


def count_on_page(page: Page) -> int:
    return db.session.scalar(count_on_page_query(page))


def count_on_page_query(page: Page) -> Select:
    return (select(func.count()).select_from(Card)
            .where(Card.page_id == page.id, Card.retired.is_(False)))


def pages_with_cards(limit: int = 100, visible: Visibility = EVERYTHING) -> list[tuple[Page, int]]:
    """Live pages (that *visible* shows) that have cards, A–Z, with how many."""
    count = func.count(Card.id)
    rows = db.session.execute(
        select(Page, count).join(Card, Card.page_id == Page.id)
        .where(Card.retired.is_(False), Page.deleted.is_(False), visible.slug_condition())
        .group_by(Page.id).order_by(Page.slug).limit(limit))
    return [(page, number) for page, number in rows]
