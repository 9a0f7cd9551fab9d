"""Signing in and out, the first account, self-registration and one's own account."""

from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, fresh_login_required, login_fresh

from wiki import auth
from wiki.extensions import limiter
from wiki.forms import ChangePasswordForm, ConfirmForm, LoginForm, NewAccountForm
from wiki.models import Role
from wiki.services import accounts
from wiki.views import form_status

bp = Blueprint("account", __name__)


def safe_next(target: str | None) -> str:
    """*target* if it is a path on this site, else the home page.

    The path is checked as sent and once percent-decoded, so ``/%09/evil.example`` is
    refused like ``/\\t/evil.example``.
    """
    if target and is_local_path(target) and is_local_path(unquote(urlsplit(target).path)):
        return target
    return url_for("pages.home")


def is_local_path(target: str) -> bool:
    """Whether *target* is a path on this site: one leading slash, no scheme, no host.

    A backslash, whitespace or a control character anywhere refuses it: browsers read
    ``/\\evil.example`` and ``/\\t//evil.example`` as other sites.
    """
    if not target.startswith("/") or target.startswith("//"):
        return False
    if any(char == "\\" or char.isspace() or not char.isprintable() for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _login_failed(_response) -> bool:
    return g.get("login_failed", False)


def _username_key() -> str:
    return "login-user:" + accounts.username_key(request.form.get("username", ""))[:200]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_FAILURES_PER_IP"], methods=["POST"],
               deduct_when=_login_failed, scope="login-ip")
@limiter.limit(lambda: current_app.config["LOGIN_FAILURES_PER_USERNAME"], methods=["POST"],
               deduct_when=_login_failed, key_func=_username_key, scope="login-user")
def login():
    if accounts.count_users() == 0:
        return first_account()
    if current_user.is_authenticated and login_fresh() and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))  # a remembered session signs in again
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is not None:
            auth.sign_in(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")), 303)
        g.login_failed = True
        form.password.errors.append("Unknown username or wrong password.")
    return render_template("account/login.html", form=form), form_status(form)


def first_account():
    """While the wiki has no account, the login page creates the first: an administrator."""
    form = NewAccountForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                form.username.data, form.password.data, Role.ADMIN, only_if_first=True
            )
        except accounts.AccountError as error:
            form.username.errors.append(str(error))
        else:
            auth.sign_in(user)
            flash(f"Welcome, {user.username}. You are the administrator of this wiki.", "success")
            return redirect(url_for("pages.home"), 303)
    return render_template("account/first.html", form=form), form_status(form)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """Sign out by POST; a GET (or a stale form) shows the button to confirm it."""
    form = ConfirmForm()
    if not current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    if form.validate_on_submit():
        auth.sign_out(current_user)
        flash("You are signed out.", "info")
        return redirect(url_for("pages.home"), 303)
    return render_template("account/logout.html", form=form), form_status(form)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTRATIONS_PER_IP"], methods=["POST"],
               scope="register")
def register():
    if current_app.config["REGISTRATION"] != "open":
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    form = NewAccountForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                form.username.data, form.password.data, Role(current_app.config["DEFAULT_ROLE"])
            )
        except accounts.AccountError as error:
            form.username.errors.append(str(error))
        else:
            auth.sign_in(user)
            flash(f"Welcome, {user.username}.", "success")
            return redirect(url_for("pages.home"), 303)
    return render_template("account/register.html", form=form), form_status(form)


@bp.route("/account", methods=["GET", "POST"])
@fresh_login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if accounts.authenticate(current_user.username, form.current.data) is None:
            form.current.errors.append("That is not your current password.")
        else:
            accounts.set_password(current_user.id, form.password.data)
            auth.forget_this_browser()
            flash("Password changed. Sign in with your new password.", "success")
            return redirect(url_for("account.login"), 303)
    return render_template("account/account.html", form=form), form_status(form)
