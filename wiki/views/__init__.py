"""The blueprints, one per module; what their views share about answering forms."""

from flask_wtf import FlaskForm

FORM_REFUSED = 422  # Unprocessable Content: the form comes back with what was wrong


def form_status(form: FlaskForm) -> int:
    """The status of a page showing *form*: 200 when it is just shown, 422 when it was sent
    and comes back with its errors (a stale CSRF token included). Edit conflicts answer
    409 and throttled sign-ins 429; neither goes through here."""
    return FORM_REFUSED if form.is_submitted() else 200
