"""Personal API tokens: make one (shown once), see them, revoke them. Administrators see and
revoke everyone's."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, fresh_login_required

from wiki.forms import ConfirmForm, TokenForm, checks_its_own_csrf_token
from wiki.permissions import Action, can
from wiki.services import tokens
from wiki.views import FORM_REFUSED, form_status
from wiki.web.arguments import DATABASE_INT_MAX

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")

# The page that shows a new token must not be kept by the browser or anything between.
NOT_KEPT = {"Cache-Control": "no-store"}


@bp.route("", methods=["GET", "POST"])
@checks_its_own_csrf_token
@fresh_login_required
def tokens_page():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            made = tokens.create_token(current_user, form.name.data, form.scope.data,
                                       int(form.expires.data))
        except tokens.TokenError as error:
            form.name.errors.append(str(error))
        else:
            return render_tokens(TokenForm(formdata=None), new_token=made), 200, NOT_KEPT
    return render_tokens(form), form_status(form)


@bp.post(f"/<int(max={DATABASE_INT_MAX}):token_id>/revoke")
@checks_its_own_csrf_token
@fresh_login_required
def revoke(token_id: int):
    """Revoke one of one's own tokens (an administrator: anyone's).

    :raises NotFound: no such token, or it is someone else's and the user is no administrator.
    """
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_tokens(TokenForm(formdata=None), revoke_form=form), FORM_REFUSED
    token = tokens.get_token(token_id)
    if token is None or (token.user_id != current_user.id
                         and not can(current_user, Action.MANAGE_USERS)):
        abort(404)
    tokens.revoke(token.id)
    flash(f"The token “{token.name}” is revoked: it no longer works.", "success")
    return redirect(url_for("tokens.tokens_page"), 303)


def render_tokens(form: TokenForm, **context):
    """The tokens page: the user's own tokens, everyone's for an administrator, the form."""
    everyone = tokens.list_tokens() if can(current_user, Action.MANAGE_USERS) else None
    return render_template("tokens/tokens.html", form=form, own=tokens.list_tokens(current_user.id),
                           everyone=everyone, revoke_form=context.pop("revoke_form", None)
                           or ConfirmForm(formdata=None), **context)
