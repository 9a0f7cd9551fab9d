"""A user's review statistics, and the geometry of their reviews-per-day chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from wiki.extensions import db
from wiki.models import Card, CardSchedule, ReviewLog, User, utcnow
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


def stats(user: User, now: datetime | None = None) -> Stats:
    now = now or utcnow()
    today = start_of_day(now)
    dues = _due_by_day(user, today, today + timedelta(days=FORECAST_DAYS + 1))
    due_today = _count_due(user, today + timedelta(days=1))
    forecast = [(day, dues.get(day, 0)) for day in
                (today.date() + timedelta(days=n) for n in range(1, FORECAST_DAYS + 1))]
    retention, graded = _retention(user, now - timedelta(days=RETENTION_DAYS))
    states = _states(user)
    return Stats(due_today, forecast, retention, graded,
                 new=db.session.scalar(select(func.count()).select_from(
                     new_cards(user).subquery())),
                 learning=sum(states.get(state, 0) for state in LEARNING_STATES),
                 review=states.get(REVIEW_STATE, 0), chart=_chart(user, today))


def _count_due(user: User, before: datetime) -> int:
    return db.session.scalar(
        select(func.count()).select_from(CardSchedule).join(Card, Card.id == CardSchedule.card_id)
        .where(CardSchedule.user_id == user.id, CardSchedule.due < before,
               Card.retired.is_(False)))


def _by_day(query) -> dict[date, int]:
    """*query*'s rows of (a ``date()``, a count) as a dict: SQLite answers the date as text,
    PostgreSQL as a date."""
    rows = db.session.execute(query)
    return {day if isinstance(day, date) else date.fromisoformat(day): n for day, n in rows}


def _due_by_day(user: User, start: datetime, end: datetime) -> dict[date, int]:
    day = func.date(CardSchedule.due)
    return _by_day(
        select(day, func.count()).join(Card, Card.id == CardSchedule.card_id)
        .where(CardSchedule.user_id == user.id, Card.retired.is_(False),
               CardSchedule.due >= start, CardSchedule.due < end)
        .group_by(day))


def _retention(user: User, since: datetime) -> tuple[float | None, int]:
    """True retention: of the gradings of cards in review (not new or learning) since
    *since*, the share not answered Again."""
    graded, passed = db.session.execute(
        select(func.count(), func.count().filter(ReviewLog.rating > 1))
        .where(ReviewLog.user_id == user.id, ReviewLog.reviewed_at >= since,
               ReviewLog.state == REVIEW_STATE)).one()
    return (passed / graded if graded else None), graded


def _states(user: User) -> dict[int, int]:
    rows = db.session.execute(
        select(CardSchedule.state, func.count()).join(Card, Card.id == CardSchedule.card_id)
        .where(CardSchedule.user_id == user.id, Card.retired.is_(False))
        .group_by(CardSchedule.state))
    return {state: number for state, number in rows}


def _chart(user: User, today: datetime) -> Chart:
    first = today - timedelta(days=CHART_DAYS - 1)
    day = func.date(ReviewLog.reviewed_at)
    counts = _by_day(select(day, func.count())
                     .where(ReviewLog.user_id == user.id, ReviewLog.reviewed_at >= first)
                     .group_by(day))
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
