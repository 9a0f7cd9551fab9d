"""Every form of the wiki. Each validates its own CSRF token (Flask-WTF)."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileRequired, MultipleFileField
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from wiki.extensions import csrf
from wiki.models import Role
from wiki.services import access, accounts, tokens
from wiki.services.cards.reviewing import MAX_NEW_PER_DAY
from wiki.services.pages import MAX_TITLE_LENGTH, TITLE_MISSING, TITLE_TOO_LONG

ROLE_CHOICES = [SelectChoice(role.value, role.value.capitalize()) for role in Role]
SCOPE_CHOICES = [SelectChoice(tokens.Scope.READ.value, "Read"),
                 SelectChoice(tokens.Scope.WRITE.value, "Read and write")]
EXPIRY_CHOICES = [SelectChoice(str(days), "1 year" if days == 365 else f"{days} days")
                  for days in tokens.EXPIRY_DAYS]
# Roles in an access rule: "anyone" includes visitors who are not signed in.
RULE_ROLE_CHOICES = [SelectChoice(role, role.capitalize()) for role in access.ROLES]
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


class RestoreFileForm(FlaskForm):
    name = HiddenField(validators=[InputRequired("Say which file to restore.")])
    submit = SubmitField("Restore")


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



class TokenForm(FlaskForm):
    """A new personal API token."""

    name = StringField(
        "Name", validators=[InputRequired("Name the token."), Length(max=tokens.NAME_MAX)],
        description="What uses it, so you know which to revoke (say “backup script”).",
    )
    scope = SelectField("Access", choices=SCOPE_CHOICES, default=tokens.Scope.READ.value,
                        description="A token never allows more than your own role does.")
    expires = SelectField("Expires after", choices=EXPIRY_CHOICES, default="90")
    submit = SubmitField("Create token")


class AccessRuleForm(FlaskForm):
    pattern = StringField(
        "Pages", validators=[InputRequired("Give a page address or a pattern, such as "
                                           "private/**.")],
        description="An address (private), or a pattern: * is any one part of the address, "
                    "** any parts (private/** is every page under private/).",
    )
    read_role = SelectField("May be read by", choices=RULE_ROLE_CHOICES, default="reader")
    edit_role = SelectField("May be edited by", choices=RULE_ROLE_CHOICES, default="editor")
    submit = SubmitField("Add rule")


class RuleRolesForm(FlaskForm):
    read_role = SelectField("Read", choices=RULE_ROLE_CHOICES)
    edit_role = SelectField("Edit", choices=RULE_ROLE_CHOICES)
    submit = SubmitField("Change")


class GradeForm(FlaskForm):
    """The four grade buttons of a card, each sending ``rating`` (1–4); the service refuses
    any other value."""

    rating = StringField()


NEW_CARDS_RULE = f"Choose a whole number from 0 to {MAX_NEW_PER_DAY}."


class ReviewSettingsForm(FlaskForm):
    new_cards_per_day = IntegerField(
        "New cards per day",
        validators=[InputRequired(NEW_CARDS_RULE),
                    NumberRange(0, MAX_NEW_PER_DAY, message=NEW_CARDS_RULE)],
        description="How many cards you have never seen /review shows you each day.",
    )
    save_review_settings = SubmitField("Save review settings")  # not "submit": see /account
