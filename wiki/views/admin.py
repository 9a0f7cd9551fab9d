"""User administration: accounts, roles, deactivation and new passwords. Administrators only."""

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm

from wiki.forms import (
    ConfirmForm,
    CreateAccountForm,
    RoleForm,
    SetPasswordForm,
    checks_its_own_csrf_token,
)
from wiki.models import Role, User
from wiki.services import accounts
from wiki.views import FORM_REFUSED, form_status
from wiki.web.access import require_fresh_admin
from wiki.web.arguments import DATABASE_INT_MAX
from wiki.web.loaders import get_user_or_404

# An account's address; a larger id than the database holds is simply not found.
USER = f"/users/<int(max={DATABASE_INT_MAX}):user_id>"

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_fresh_admin)  # every page here: a fresh administrator


@bp.route("/users", methods=["GET", "POST"])
@checks_its_own_csrf_token
def users():
    """Every account, and the form that creates one."""
    form = CreateAccountForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.username.data, form.password.data,
                                        Role(form.role.data))
        except accounts.AccountError as error:
            form.username.errors.append(str(error))
        else:
            flash(f"Account {user.username} created as {user.role}.", "success")
            return redirect(url_for("admin.user", user_id=user.id), 303)
    return render_template("admin/users.html", users=accounts.list_users(), form=form), \
        form_status(form)


@bp.get(USER)
def user(user_id: int):
    return render_user_page(get_user_or_404(user_id))


@bp.post(f"{USER}/role")
@checks_its_own_csrf_token
def change_role(user_id: int):
    user = get_user_or_404(user_id)
    form = RoleForm()
    return apply_change(
        user, form, "role_form", lambda: accounts.set_role(user.id, form.role.data),
        f"{user.username} is now {form.role.data}.",
    )


@bp.post(f"{USER}/password")
@checks_its_own_csrf_token
def set_password(user_id: int):
    user = get_user_or_404(user_id)
    form = SetPasswordForm()
    return apply_change(
        user, form, "password_form", lambda: accounts.set_password(user.id, form.password.data),
        f"New password set for {user.username}; they are signed out everywhere.",
    )


@bp.post(f"{USER}/deactivate")
@checks_its_own_csrf_token
def deactivate(user_id: int):
    user = get_user_or_404(user_id)
    return apply_change(
        user, ConfirmForm(), "status_form", lambda: accounts.set_active(user.id, False),
        f"{user.username} is deactivated and signed out everywhere.",
    )


@bp.post(f"{USER}/reactivate")
@checks_its_own_csrf_token
def reactivate(user_id: int):
    user = get_user_or_404(user_id)
    return apply_change(
        user, ConfirmForm(), "status_form", lambda: accounts.set_active(user.id, True),
        f"{user.username} can sign in again.",
    )


def apply_change(user: User, form: FlaskForm, form_name: str, change: Callable[[], User],
                 done_message: str):
    """Validate *form* and make *change*; say so and go back to the account's page.

    An invalid form (a stale CSRF token included) or a change the account rules refuse
    shows the account's page again, with the form as it was sent and the reason.
    """
    if not form.validate_on_submit():
        return render_user_page(user, **{form_name: form}), FORM_REFUSED
    try:
        change()
    except accounts.AccountError as error:
        return render_user_page(user, problem=str(error)), FORM_REFUSED
    flash(done_message, "success")
    return redirect(url_for("admin.user", user_id=user.id), 303)


def render_user_page(user: User, **context):
    """The account's page with its three forms; *context* replaces a form that was sent."""
    forms = {
        "role_form": RoleForm(formdata=None, role=user.role),
        "password_form": SetPasswordForm(formdata=None),
        "status_form": ConfirmForm(formdata=None),
    }
    return render_template("admin/user.html", user=user, **(forms | context))
