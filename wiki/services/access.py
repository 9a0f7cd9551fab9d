"""Access rules: which roles may read and edit the pages whose address matches a pattern.

    private/**     the pages under private/ (not private itself: add a rule for it)
    private        exactly that page
    */drafts/**    the pages under any top-level page's drafts/

The most specific rule matching a page decides (an exact address, then the pattern with the
most literal characters); rules only narrow what a role may do. Lists and search turn the
rules into SQL conditions on the slug (:meth:`Visibility.slug_condition`), so they count and
page through what the reader may see, in the query. Why, and how it is cached:
docs/architecture.md, "Access rules".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import and_, delete, not_, or_, select, true
from sqlalchemy.orm import Session

from wiki.database import write_transaction
from wiki.extensions import db
from wiki.models import AccessRule, AdminAction, Page, User

# A role means that role and every role above it; "anyone" includes visitors not signed in.
ROLE_RANKS = {"anyone": 0, "reader": 1, "editor": 2, "admin": 3}
ROLES = tuple(ROLE_RANKS)
ADMIN_RANK = ROLE_RANKS["admin"]
MAX_PATTERN_LENGTH = 255
_SESSION_KEY = "wiki.access_rules"  # the rules, loaded once per request (session)
_LITERAL = re.compile(r"[^\W_]|-")  # what a page address is made of, besides "/"


class AccessRuleError(ValueError):
    """A rule that cannot be stored; the message says why, for the person who typed it."""


@dataclass(frozen=True)
class Rule:
    pattern: str
    read_role: str
    edit_role: str
    id: int | None = None

    @property
    def exact(self) -> bool:
        return "*" not in self.pattern

    @property
    def read_rank(self) -> int:
        return ROLE_RANKS[self.read_role]

    @property
    def edit_rank(self) -> int:
        # Editing a page needs reading it: a rule never lets anyone edit what they cannot see.
        return max(ROLE_RANKS[self.edit_role], self.read_rank)

    def specificity(self) -> tuple:
        """Sorts the rule that applies first first: an exact address, then more literal
        characters; between equals, the stricter rule (so a tie never opens a page)."""
        literal = len(self.pattern.replace("*", ""))
        return (not self.exact, -literal, -self.read_rank, -self.edit_rank, self.pattern)

    @cached_property
    def _regex(self) -> str:
        parts = []
        for piece in re.split(r"(\*\*|\*)", self.pattern):
            parts.append(".+" if piece == "**" else "[^/]+" if piece == "*" else re.escape(piece))
        return "^" + "".join(parts) + "$"

    def matches(self, slug: str) -> bool:
        return re.match(self._regex, slug) is not None

    def sql_match(self, column):
        """The SQL condition "*column* (a slug) matches this rule": equality for an exact
        address; else the range of addresses starting with its literal prefix (which the
        slug index answers), a LIKE, and the regular expression when a ``*`` must not reach
        past a ``/``."""
        if self.exact:
            return column == self.pattern
        like = re.sub(r"\*\*?", lambda star: "_%" if star[0] == "**" else "%",
                      self.pattern.replace("\\", "\\\\").replace("%", "\\%")
                      .replace("_", "\\_"))
        conditions = [column.like(like, escape="\\")]
        if prefix := self.pattern.split("*", 1)[0]:
            conditions[:0] = [column >= prefix, column < prefix[:-1] + chr(ord(prefix[-1]) + 1)]
        if re.search(r"(?<!\*)\*(?!\*)", self.pattern):
            conditions.append(column.regexp_match(self._regex))
        return and_(*conditions)


@dataclass(frozen=True)
class Rules:
    """Every rule, in the order they apply (most specific first)."""

    rules: tuple[Rule, ...] = ()

    @classmethod
    def of(cls, rules) -> Rules:
        return cls(tuple(sorted(rules, key=Rule.specificity)))

    def rule_for(self, slug: str) -> Rule | None:
        """The rule that decides about the page at *slug*, or None (no rule: the roles decide)."""
        return next((rule for rule in self.rules if rule.matches(slug)), None)

    def fingerprint(self) -> tuple:
        return tuple((rule.pattern, rule.read_role, rule.edit_role) for rule in self.rules)


@dataclass(frozen=True)
class Visibility:
    """What one reader, of role rank *rank*, may see: the question every list, count and
    search asks through :meth:`slug_condition`, and page views through :meth:`shows`."""

    rules: Rules = field(default_factory=Rules)
    rank: int = ADMIN_RANK

    def shows(self, slug: str) -> bool:
        rule = self.rules.rule_for(slug)
        return rule is None or self.rank >= rule.read_rank

    def may_edit(self, slug: str) -> bool:
        rule = self.rules.rule_for(slug)
        return rule is None or self.rank >= rule.edit_rank

    @cached_property
    def hides_nothing(self) -> bool:
        return all(self.rank >= rule.read_rank for rule in self.rules.rules)

    def hidden_condition(self, column):
        """SQL: the slug in *column* is one this reader may not see; None if there is none.

        A page is hidden when the first rule (in order) matching it reads above this rank; so
        it is hidden by rule *i* when *i* matches and no earlier rule that lets the reader in
        does. Rules the reader passes need no condition of their own.
        """
        if self.hides_nothing:
            return None
        hidden, opened = [], []
        for rule in self.rules.rules:
            if self.rank >= rule.read_rank:
                opened.append(rule.sql_match(column))
            else:
                hidden.append(and_(rule.sql_match(column), *(not_(o) for o in opened)))
        return or_(*hidden)

    def slug_condition(self, column=Page.slug):
        """SQL: the slug in *column* is one this reader may see (always true for most)."""
        hidden = self.hidden_condition(column)
        return true() if hidden is None else not_(hidden)

    def page_id_condition(self, column):
        """SQL: the page id in *column* (of a table without slugs: the search index,
        revisions) is not a hidden page's. The hidden pages are found by their slugs, each
        rule's literal prefix a range of the slug index."""
        hidden = self.hidden_condition(Page.slug)
        if hidden is None:
            return true()
        return column.not_in(select(Page.id).where(hidden))


EVERYTHING = Visibility()  # the operator's view (the CLI, exports): every page


def rank_of(role: str | None) -> int:
    """The rank of an account's *role*; None for a visitor who is not signed in."""
    return ROLE_RANKS["anyone"] if role is None else ROLE_RANKS[role]


# --- reading the rules --------------------------------------------------------------------


STORED_RULES = select(AccessRule.pattern, AccessRule.read_role, AccessRule.edit_role,
                      AccessRule.id)


def load_rules(session: Session) -> Rules:
    # As Core on the session's connection: every request asks, and the ORM's handling of a
    # statement that loads no objects costs more than the query.
    return Rules.of(Rule(*row) for row in session.connection().execute(STORED_RULES))


def current_rules() -> Rules:
    """The rules, read once per request: kept on the request's database session, which
    Flask-SQLAlchemy ends with the request, so every request of every worker and host reads
    the rules as they are (one query on a table of a few rows); see docs/architecture.md."""
    info = db.session.info
    if _SESSION_KEY not in info:
        keep_rules_read(load_rules(db.session))
    return info[_SESSION_KEY]


_rules_last_read = Rules()  # by this worker, in any request


def rules_to_check() -> Rules:
    """The rules for a statement that reads the rules as well (a page view's, see
    ``reading.page_view``): those this request read already, else those this worker read
    last, which the statement's answer then confirms (or not: it is run again)."""
    return db.session.info.get(_SESSION_KEY, _rules_last_read)


def keep_rules_read(rules: Rules) -> Rules:
    """Keep *rules*, read from the database in this request, as its rules (unless it had
    read them already: a request holds to the rules it first read)."""
    global _rules_last_read
    _rules_last_read = rules
    return db.session.info.setdefault(_SESSION_KEY, rules)


def visibility(rank: int) -> Visibility:
    return Visibility(current_rules(), rank)


def _forget_loaded_rules() -> None:
    db.session.info.pop(_SESSION_KEY, None)


# --- changing the rules (administrators) --------------------------------------------------


def normalise_pattern(text: str) -> str:
    """*text* as a pattern (lower case, no ``/`` around it).

    :raises AccessRuleError: saying what is wrong with it.
    """
    pattern = (text or "").strip().lower().strip("/")
    if not pattern:
        raise AccessRuleError("Give a page address or a pattern, such as private/**.")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise AccessRuleError(f"A pattern has at most {MAX_PATTERN_LENGTH} characters.")
    for segment in pattern.split("/"):
        if not segment:
            raise AccessRuleError("A pattern has no empty part between two “/”.")
        if segment == "**":
            continue
        if "**" in segment:
            raise AccessRuleError("“**” stands for a whole part of the address, between “/”: "
                                  "write private/** rather than private**.")
        if not all(_LITERAL.match(char) or char == "*" for char in segment):
            raise AccessRuleError(
                f"“{segment}” cannot be part of a page address: use lower-case letters, digits "
                "and “-”, as addresses do, with * for any one part and ** for any parts.")
    return pattern


def _checked_roles(read_role: str, edit_role: str) -> None:
    if read_role not in ROLE_RANKS or edit_role not in ROLE_RANKS:
        raise AccessRuleError(f"A role is one of: {', '.join(ROLES)}.")
    if ROLE_RANKS[edit_role] < ROLE_RANKS[read_role]:
        raise AccessRuleError(f"Who may edit must be able to read: choose {read_role} or a "
                              "role above it.")


def _log(session: Session, admin: User, action: str) -> None:
    session.add(AdminAction(user_id=admin.id, username=admin.username, action=action[:500]))


def add_rule(pattern: str, read_role: str, edit_role: str, admin: User) -> Rule:
    """Store a new rule, and log who added it, in one transaction.

    :raises AccessRuleError: the pattern or roles are not valid, or the pattern has a rule.
    """
    pattern = normalise_pattern(pattern)
    _checked_roles(read_role, edit_role)
    with write_transaction() as session:
        if session.scalar(select(AccessRule.id).where(AccessRule.pattern == pattern)):
            raise AccessRuleError(f"{pattern} has a rule already: change that one.")
        row = AccessRule(pattern=pattern, read_role=read_role, edit_role=edit_role)
        session.add(row)
        _log(session, admin, f"added the rule {pattern}: read {read_role}, edit {edit_role}")
        session.flush()
        rule = Rule(pattern, read_role, edit_role, row.id)
    _forget_loaded_rules()
    return rule


def change_rule(rule_id: int, read_role: str, edit_role: str, admin: User) -> Rule:
    """Give the rule *rule_id* new roles, and log it, in one transaction.

    :raises AccessRuleError: the roles are not valid, or the rule is gone.
    """
    _checked_roles(read_role, edit_role)
    with write_transaction() as session:
        row = session.get(AccessRule, rule_id)
        if row is None:
            raise AccessRuleError("That rule was deleted meanwhile.")
        _log(session, admin, f"changed the rule {row.pattern}: read {row.read_role} → "
                             f"{read_role}, edit {row.edit_role} → {edit_role}")
        row.read_role, row.edit_role = read_role, edit_role
        rule = Rule(row.pattern, read_role, edit_role, row.id)
    _forget_loaded_rules()
    return rule


def delete_rule(rule_id: int, admin: User) -> str | None:
    """Delete the rule *rule_id*, and log it, in one transaction; its pattern, or None if
    it was gone already."""
    with write_transaction() as session:
        row = session.get(AccessRule, rule_id)
        if row is None:
            return None
        pattern = row.pattern
        session.execute(delete(AccessRule).where(AccessRule.id == rule_id))
        _log(session, admin, f"deleted the rule {pattern} (was: read {row.read_role}, "
                             f"edit {row.edit_role})")
    _forget_loaded_rules()
    return pattern


def admin_log(limit: int = 50) -> list[AdminAction]:
    """The *limit* latest admin actions, newest first."""
    return list(db.session.scalars(
        select(AdminAction).order_by(AdminAction.at.desc(), AdminAction.id.desc()).limit(limit)))
