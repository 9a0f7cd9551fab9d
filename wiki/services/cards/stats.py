"""A user's review statistics, and the geometry of their reviews-per-day chart.

Only cards of the pages the user may see count: a page the access rules hide from them is
not told of by a number either (not even their own past reviews of its cards)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, select

from wiki.extensions import db
from wiki.models import Card, CardSchedule, ReviewLog, User, utcnow
from wiki.services.access import EVERYTHING, Visibility
from wiki.services.cards.reviewing import new_cards, start_of_day

CHART_DAYS = 91  # thirteen weeks
RETENTION_DAYS = 30
FORECAST_DAYS = 7
LEARNING_STATES = (1, 3)  # fsrs.State.Learning, fsrs.State.Relearning
REVIEW_STATE = 2


@dataclass(frozen=True)
class Bar:
    day: date
    reviews: int
    x: float
    y: float
    height: float


@dataclass(frozen=True)
class Chart:
    """Bars in a ``0 0 WIDTH HEIGHT`` box, drawn by the template in ``currentColor``."""

    WIDTH = 728
    HEIGHT = 160
    bars: list[Bar]
    bar_width: float
    most: int
    total: int


@dataclass(frozen=True)
class Stats:
    due_today: int
    forecast: list[tuple[date, int]]  # cards falling due on each of the next days
    retention: float | None  # share of mature reviews passed lately; None without any
    retention_reviews: int
    new: int
    learning: int
    review: int
    chart: Chart


def stats(user: User, now: datetime | None = None,
          visible: Visibility = EVERYTHING) -> Stats:
    """*user*'s statistics, of the cards on pages *visible* shows."""
    now = now or utcnow()
    today = start_of_day(now)
    dues = _due_by_day(user, today, today + timedelta(days=FORECAST_DAYS + 1), visible)
    due_today = _count_due(user, today + timedelta(days=1), visible)
    forecast = [(day, dues.get(day, 0)) for day in
                (today.date() + timedelta(days=n) for n in range(1, FORECAST_DAYS + 1))]
    retention, graded = _retention(user, now - timedelta(days=RETENTION_DAYS), visible)
    states = _states(user, visible)
    return Stats(due_today, forecast, retention, graded,
                 new=db.session.scalar(select(func.count()).select_from(
                     _seen(new_cards(user), visible).subquery())),
                 learning=sum(states.get(state, 0) for state in LEARNING_STATES),
                 review=states.get(REVIEW_STATE, 0), chart=_chart(user, today, visible))


def _seen(query: Select, visible: Visibility) -> Select:
    """*query* (which has ``Card`` among its tables) without the cards of hidden pages."""
    if visible.hides_nothing:
        return query
    return query.where(visible.page_id_condition(Card.page_id))


def _logs_seen(query: Select, visible: Visibility) -> Select:
    """*query* of review logs without those of cards on hidden pages."""
    if visible.hides_nothing:
        return query
    return _seen(query.join(Card, Card.id == ReviewLog.card_id), visible)


def _count_due(user: User, before: datetime, visible: Visibility) -> int:
    return db.session.scalar(_seen(
        select(func.count()).select_from(CardSchedule).join(Card, Card.id == CardSchedule.card_id)
        .where(CardSchedule.user_id == user.id, CardSchedule.due < before,
               Card.retired.is_(False)), visible))


def _by_day(query) -> dict[date, int]:
    """*query*'s rows of (a ``date()``, a count) as a dict: SQLite answers the date as text,
    PostgreSQL as a date."""
    rows = db.session.execute(query)
    return {day if isinstance(day, date) else date.fromisoformat(day): n for day, n in rows}


def _due_by_day(user: User, start: datetime, end: datetime,
                visible: Visibility) -> dict[date, int]:
    day = func.date(CardSchedule.due)
    return _by_day(_seen(
        select(day, func.count()).join(Card, Card.id == CardSchedule.card_id)
        .where(CardSchedule.user_id == user.id, Card.retired.is_(False),
               CardSchedule.due >= start, CardSchedule.due < end)
        .group_by(day), visible))


def _retention(user: User, since: datetime, visible: Visibility) -> tuple[float | None, int]:
    """True retention: of the gradings of cards in review (not new or learning) since
    *since*, the share not answered Again."""
    graded, passed = db.session.execute(_logs_seen(
        select(func.count(), func.count().filter(ReviewLog.rating > 1)).select_from(ReviewLog)
        .where(ReviewLog.user_id == user.id, ReviewLog.reviewed_at >= since,
               ReviewLog.state == REVIEW_STATE), visible)).one()
    return (passed / graded if graded else None), graded


def _states(user: User, visible: Visibility) -> dict[int, int]:
    rows = db.session.execute(_seen(
        select(CardSchedule.state, func.count()).join(Card, Card.id == CardSchedule.card_id)
        .where(CardSchedule.user_id == user.id, Card.retired.is_(False))
        .group_by(CardSchedule.state), visible))
    return {state: number for state, number in rows}


def _chart(user: User, today: datetime, visible: Visibility) -> Chart:
    first = today - timedelta(days=CHART_DAYS - 1)
    day = func.date(ReviewLog.reviewed_at)
    counts = _by_day(_logs_seen(select(day, func.count()).select_from(ReviewLog)
                                .where(ReviewLog.user_id == user.id,
                                       ReviewLog.reviewed_at >= first)
                                .group_by(day), visible))
    most = max(counts.values(), default=0)
    width = Chart.WIDTH / CHART_DAYS
    bars = []
    for n in range(CHART_DAYS):
        day = first.date() + timedelta(days=n)
        reviews = counts.get(day, 0)
        height = (Chart.HEIGHT * reviews / most) if most else 0
        bars.append(Bar(day, reviews, round(n * width, 2), round(Chart.HEIGHT - height, 2),
                        round(height, 2)))
    return Chart(bars, round(width * 0.8, 2), most, sum(counts.values()))
