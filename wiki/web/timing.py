"""``Server-Timing``: where each request spent its time, shown in the browser's developer tools.

    Server-Timing: db;dur=1.84;desc="4 queries", tpl;dur=2.31;desc="templates", total;dur=6.02

What each figure covers (and misses): docs/architecture.md ("Request timing").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from time import perf_counter

from flask import Flask, Response, g, has_app_context, request_started
from flask.signals import before_render_template, template_rendered
from sqlalchemy import event

from wiki.extensions import db

_START_STACK = "wiki_timing_started"  # in the connection's info: start times of running queries


@dataclass
class RequestTiming:
    started: float = field(default_factory=perf_counter)
    queries: int = 0
    db_seconds: float = 0.0
    template_seconds: float = 0.0
    _rendering: list[float] = field(default_factory=list)  # start times of open renders

    def header(self) -> str:
        total = perf_counter() - self.started
        return (f'db;dur={_ms(self.db_seconds)};desc="{self.queries} '
                f'{"query" if self.queries == 1 else "queries"}", '
                f'tpl;dur={_ms(self.template_seconds)};desc="templates", '
                f"total;dur={_ms(total)}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _before_query)
    event.listen(engine, "after_cursor_execute", _after_query)
    event.listen(engine, "handle_error", _failed_query)
    request_started.connect(_start_request, app)
    before_render_template.connect(_start_template, app)
    template_rendered.connect(_end_template, app)
    app.after_request(_add_header)


def current() -> RequestTiming | None:
    """This request's timing, or None outside a request."""
    return g.get("timing") if has_app_context() else None


def _start_request(_app: Flask, **_extra) -> None:
    g.timing = RequestTiming()


def _before_query(conn, _cursor, _statement, _parameters, _context, _executemany) -> None:
    if current() is not None:
        conn.info.setdefault(_START_STACK, []).append(perf_counter())


def _after_query(conn, _cursor, _statement, _parameters, _context, _executemany) -> None:
    timing, started = current(), conn.info.get(_START_STACK)
    if timing is not None and started:
        timing.db_seconds += perf_counter() - started.pop()
        timing.queries += 1


def _failed_query(context) -> None:
    started = context.connection.info.get(_START_STACK) if context.connection else None
    if started:
        started.pop()


def _start_template(_app: Flask, **_extra) -> None:
    if (timing := current()) is not None:
        timing._rendering.append(perf_counter())


def _end_template(_app: Flask, **_extra) -> None:
    timing = current()
    if timing is not None and timing._rendering:
        started = timing._rendering.pop()
        if not timing._rendering:  # a template rendered inside another counts once
            timing.template_seconds += perf_counter() - started


def _add_header(response: Response) -> Response:
    if (timing := current()) is not None:
        response.headers["Server-Timing"] = timing.header()
    return response
