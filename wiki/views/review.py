"""Reviewing the cards written in the pages, each user on their own FSRS schedule."""

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from wiki.forms import GradeForm, checks_its_own_csrf_token
from wiki.models import Card, CardSchedule
from wiki.permissions import Action
from wiki.services import cards
from wiki.views import FORM_REFUSED
from wiki.web.access import require, visible
from wiki.web.loaders import get_card_or_404

bp = Blueprint("review", __name__)


def requested_scope() -> cards.Scope:
    """``?tag=`` and ``?under=`` as given (blank means not narrowed)."""
    return cards.Scope(tag=request.args.get("tag", "").strip() or None,
                       under=request.args.get("under", "").strip().strip("/") or None,
                       visible=visible())


def scope_arguments(scope: cards.Scope) -> dict[str, str]:
    return {name: value for name, value in (("tag", scope.tag), ("under", scope.under)) if value}


def wants_json_answer() -> bool:
    """Whether the review script asked for JSON rather than a page (plain forms ask HTML)."""
    accepted = request.accept_mimetypes
    return accepted.best == "application/json"


@bp.get("/review")
def next_due():
    """The signed-in user's next due card, question side; or when the next one is due."""
    require(Action.REVIEW)
    scope = requested_scope()
    found = cards.next_card_and_schedule(current_user, scope)
    if found is None:
        return render_template("review/nothing_due.html", scope=scope,
                               arguments=scope_arguments(scope),
                               nothing=cards.nothing_due(current_user, scope),
                               pages_with_cards=cards.pages_with_cards(visible=visible()))
    card, schedule = found
    return show(card, schedule, scope, answer_shown=False)


@bp.get("/review/<int:card_id>")
def card(card_id: int):
    """One card: its question, and with ``?show=1`` its answer and the grade buttons."""
    require(Action.REVIEW)
    card = get_card_or_404(card_id)
    return show(card, cards.schedule_of(current_user, card), requested_scope(),
                answer_shown=request.args.get("show") == "1")


@bp.post("/review/<int:card_id>")
@checks_its_own_csrf_token
def grade(card_id: int):
    """Grade a card (``rating`` 1–4), then on to the next one (303 to ``/review``)."""
    require(Action.REVIEW)
    card = get_card_or_404(card_id)
    scope = requested_scope()
    form = GradeForm()
    if not form.validate_on_submit():  # the CSRF token is the form's only check
        return show(card, cards.schedule_of(current_user, card), scope, answer_shown=True,
                    form=form, status=FORM_REFUSED)
    rating = (form.rating.data or "").strip()
    try:
        due = cards.grade(current_user, card.id, int(rating) if rating.isdigit() else 0)
    except cards.ReviewError as error:
        abort(400, str(error))
    following = url_for("review.next_due", **scope_arguments(scope))
    if wants_json_answer():
        return jsonify(next=following, due=due.isoformat())
    return redirect(following, 303)


@bp.get("/review/stats")
def stats():
    require(Action.REVIEW)
    return render_template("review/stats.html", stats=cards.stats(current_user, visible=visible()))


def show(card: Card, schedule: CardSchedule | None, scope: cards.Scope, *, answer_shown: bool,
         form: GradeForm | None = None, status: int = 200):
    """The card page; *schedule* is the user's schedule of the card (None: new to them)."""
    return render_template(
        "review/card.html", card=card, answer_shown=answer_shown, form=form or GradeForm(),
        arguments=scope_arguments(scope), scope=scope, ratings=cards.RATINGS,
        schedule=schedule, blank=cards.BLANK,
    ), status
