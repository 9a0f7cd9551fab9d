"""Access rules: which roles may read and edit which pages. Administrators only."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from wiki.forms import AccessRuleForm, ConfirmForm, RuleRolesForm, checks_its_own_csrf_token
from wiki.services import access
from wiki.views import FORM_REFUSED, form_status
from wiki.web.access import require_fresh_admin
from wiki.web.arguments import DATABASE_INT_MAX

bp = Blueprint("access", __name__, url_prefix="/admin/access")

RULE = f"/<int(max={DATABASE_INT_MAX}):rule_id>"
LOG_SHOWN = 50
bp.before_request(require_fresh_admin)  # every page here: a fresh administrator


@bp.route("", methods=["GET", "POST"])
@checks_its_own_csrf_token
def rules():
    """The rules in the order they apply, the form that adds one, and the admin log."""
    form = AccessRuleForm()
    if form.validate_on_submit():
        try:
            rule = access.add_rule(form.pattern.data, form.read_role.data, form.edit_role.data,
                                   current_user)
        except access.AccessRuleError as error:
            form.pattern.errors.append(str(error))
        else:
            flash(f"Pages {rule.pattern} may now be read by {rule.read_role} and edited by "
                  f"{rule.edit_role}.", "success")
            return redirect(url_for("access.rules"), 303)
    return rules_page(form), form_status(form)


@bp.post(RULE)
@checks_its_own_csrf_token
def change(rule_id: int):
    form = RuleRolesForm()
    if not form.validate_on_submit():
        return rules_page(problem=refusal(form)), FORM_REFUSED
    try:
        rule = access.change_rule(rule_id, form.read_role.data, form.edit_role.data,
                                  current_user)
    except access.AccessRuleError as error:
        return rules_page(problem=str(error)), FORM_REFUSED
    flash(f"Pages {rule.pattern} may now be read by {rule.read_role} and edited by "
          f"{rule.edit_role}.", "success")
    return redirect(url_for("access.rules"), 303)


@bp.post(f"{RULE}/delete")
@checks_its_own_csrf_token
def delete(rule_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        return rules_page(problem=refusal(form)), FORM_REFUSED
    pattern = access.delete_rule(rule_id, current_user)
    if pattern is None:
        flash("That rule was deleted already.", "info")
    else:
        flash(f"The rule for {pattern} is deleted.", "success")
    return redirect(url_for("access.rules"), 303)


def refusal(form: FlaskForm) -> str:
    """Why a rule's small form (its roles, its delete button) was refused."""
    if form.csrf_token.errors:
        return ("Your session expired before this form was sent, so nothing was saved. "
                "Make the change again.")
    return " ".join(error for errors in form.errors.values() for error in errors)


def rules_page(form: AccessRuleForm | None = None, problem: str | None = None) -> str:
    rules = access.current_rules()
    return render_template(
        "access/rules.html", rules=rules.rules, form=form or AccessRuleForm(formdata=None),
        roles_forms={rule.id: RuleRolesForm(formdata=None, read_role=rule.read_role,
                                            edit_role=rule.edit_role) for rule in rules.rules},
        delete_form=ConfirmForm(formdata=None), log=access.admin_log(LOG_SHOWN), problem=problem)
