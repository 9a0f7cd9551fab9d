"""Signing in and out, the first account, self-registration and one's own account."""

from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, fresh_login_required, login_fresh
from werkzeug.exceptions import TooManyRequests

from wiki.extensions import limiter
from wiki.forms import (
    ChangePasswordForm,
    ConfirmForm,
    LoginForm,
    NewAccountForm,
    ReviewSettingsForm,
    checks_its_own_csrf_token,
)
from wiki.models import Role, User
from wiki.services import accounts, cards, throttling
from wiki.views import form_status
from wiki.web import auth

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


def check_password_or_count_failure(username: str, password: str) -> User | None:
    """The account if *password* is *username*'s; a wrong one counts against this address.

    :raises TooManyRequests: this address failed too often lately, for this account or in
        all; the password is not even checked.
    """
    address = request.remote_addr or ""
    if wait := throttling.seconds_to_wait(username, address):
        raise TooManyRequests("Too many wrong passwords were tried from your address lately. "
                              "Signing in from elsewhere is not affected.", retry_after=wait)
    user = accounts.authenticate(username, password)
    if user is None:
        throttling.record_failure(username, address)
    return user


@bp.route("/login", methods=["GET", "POST"])
@checks_its_own_csrf_token
def login():
    if accounts.count_users() == 0:
        return render_template("account/no_account.html")
    if current_user.is_authenticated and login_fresh() and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))  # a remembered session signs in again
    form = LoginForm()
    if form.validate_on_submit():
        user = check_password_or_count_failure(form.username.data, form.password.data)
        if user is not None:
            auth.sign_in(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")), 303)
        form.password.errors.append("Unknown username or wrong password.")
    return render_template("account/login.html", form=form), form_status(form)


@bp.route("/setup/<token>", methods=["GET", "POST"])
@checks_its_own_csrf_token
def first_account(token: str):
    """The first account, an administrator, made from the link ``flask init`` prints.

    :raises NotFound: the token is not the link's, or the wiki already has an account.
    """
    if not accounts.is_first_account_token(token) or accounts.count_users():
        abort(404)
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
@checks_its_own_csrf_token
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
@checks_its_own_csrf_token
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
@checks_its_own_csrf_token
@fresh_login_required
def account():
    form = ChangePasswordForm()
    settings = ReviewSettingsForm(new_cards_per_day=current_user.new_cards_per_day)
    if settings.save_review_settings.data:  # this form was sent, not the password form
        if settings.validate_on_submit():
            cards.set_new_cards_per_day(current_user.id, settings.new_cards_per_day.data)
            flash("Review settings saved.", "success")
            return redirect(url_for("account.account"), 303)
        return render_template("account/account.html", form=form, settings=settings), \
            form_status(settings)
    if form.validate_on_submit():
        if check_password_or_count_failure(current_user.username, form.current.data) is None:
            form.current.errors.append("That is not your current password.")
        else:
            accounts.set_password(current_user.id, form.password.data)
            auth.forget_this_browser()
            flash("Password changed. Sign in with your new password.", "success")
            return redirect(url_for("account.login"), 303)
    return render_template("account/account.html", form=form, settings=settings), \
        form_status(form)
