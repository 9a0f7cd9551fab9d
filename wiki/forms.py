"""Every form of the wiki. Each validates its own CSRF token (Flask-WTF)."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileRequired, MultipleFileField
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import EqualTo, InputRequired, Length, Optional, ValidationError

from wiki.extensions import csrf
from wiki.models import Role
from wiki.services import accounts
from wiki.services.pages import MAX_TITLE_LENGTH, TITLE_MISSING, TITLE_TOO_LONG

ROLE_CHOICES = [SelectChoice(role.value, role.value.capitalize()) for role in Role]
# One wording per rule, wherever it is checked (the services say the same).
PASSWORDS_DIFFER = "The passwords differ."
TITLE_RULES = [InputRequired(TITLE_MISSING), Length(max=MAX_TITLE_LENGTH, message=TITLE_TOO_LONG)]
USERNAME_RULES = [InputRequired(accounts.USERNAME_LENGTH),
                  Length(max=accounts.USERNAME_MAX, message=accounts.USERNAME_LENGTH)]


def checks_its_own_csrf_token(view):
    """Exempt *view* from the CSRF check made before every POST, because it checks the token
    itself: with its FlaskForm, so a missing or expired token shows the form again with what
    the user typed, or with ``csrf.protect()`` after its permission check. Every other POST
    view is checked before it runs."""
    return csrf.exempt(view)


def acceptable_password(form, field) -> None:
    if problem := accounts.password_problem(field.data or ""):
        raise ValidationError(problem)


def unused_username(form, field) -> None:
    if accounts.find_user(field.data or ""):
        raise ValidationError("That username is taken.")


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired(), Length(max=200)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=4096)])
    remember = BooleanField("Keep me signed in on this device")
    submit = SubmitField("Sign in")


class NewAccountForm(FlaskForm):
    """The first account, and self-registration when it is open."""

    username = StringField(
        "Username",
        validators=[*USERNAME_RULES, unused_username],
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired(), acceptable_password],
        description=f"At least {accounts.PASSWORD_MIN} characters. "
        "A few words you'll remember work well.",
    )
    confirm = PasswordField(
        "Repeat password",
        validators=[InputRequired(), EqualTo("password", PASSWORDS_DIFFER)],
    )
    submit = SubmitField("Create account")


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[InputRequired()])
    password = PasswordField("New password", validators=[InputRequired(), acceptable_password])
    confirm = PasswordField(
        "Repeat new password",
        validators=[InputRequired(), EqualTo("password", PASSWORDS_DIFFER)],
    )
    submit = SubmitField("Change password")


class PageForm(FlaskForm):
    title = StringField("Title", validators=TITLE_RULES)
    body = TextAreaField("Text (Markdown)")
    summary = StringField(
        "Edit summary", validators=[Optional(), Length(max=255)],
        description="Briefly, what did you change?",
    )
    tags = StringField(
        "Tags", validators=[Optional(), Length(max=1000)], description="Separated by commas."
    )
    minor = BooleanField("Minor edit")
    base_revision = HiddenField()
    preview = SubmitField("Preview")
    submit = SubmitField("Save")


class SectionForm(FlaskForm):
    """One section of a page: its text only; the page keeps its title and tags."""

    body = TextAreaField("Text of this section (Markdown)")
    summary = StringField(
        "Edit summary", validators=[Optional(), Length(max=255)],
        description="Briefly, what did you change?",
    )
    minor = BooleanField("Minor edit")
    base_revision = HiddenField()
    preview = SubmitField("Preview")
    submit = SubmitField("Save")


class ConfirmForm(FlaskForm):
    """A button that does one thing, with its CSRF token (delete, revert, logout...)."""

    submit = SubmitField("Confirm")


class UploadForm(FlaskForm):
    file = MultipleFileField("Files", validators=[FileRequired("Choose at least one file.")],
                             description="Several at once if you like.")
    submit = SubmitField("Upload")


class DeleteFileForm(FlaskForm):
    name = HiddenField(validators=[InputRequired("Say which file to delete.")])
    submit = SubmitField("Delete")


class RenameForm(FlaskForm):
    title = StringField("New title", validators=TITLE_RULES)
    rewrite_links = BooleanField("Update links to this page in other pages", default=True)
    submit = SubmitField("Rename")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    submit = SubmitField("Change role")


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password", validators=[InputRequired(), acceptable_password],
        description="Tell the person their new password; it signs them out everywhere.",
    )
    submit = SubmitField("Set password")


class CreateAccountForm(FlaskForm):
    """An administrator creates an account for someone (registration is usually closed)."""

    username = StringField(
        "Username",
        validators=[*USERNAME_RULES, unused_username],
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.EDITOR.value)
    password = PasswordField(
        "Password", validators=[InputRequired(), acceptable_password],
        description=f"At least {accounts.PASSWORD_MIN} characters.",
    )
    submit = SubmitField("Create account")

