"""The wiki's data: accounts, pages with their full history, tags, links, redirects,
attached files, access rules and the log of admin actions, API tokens, and the review cards
found in pages with each user's schedule of them."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wiki.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """*moment* with its time zone: SQLite hands back naive datetimes, stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Role(enum.StrEnum):
    READER = "reader"
    EDITOR = "editor"
    ADMIN = "admin"


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40))
    # Usernames are unique whatever their case: "Ada" and "ada" are one account.
    username_key: Mapped[str] = mapped_column(String(40), unique=True)
    # What the name looks like (wiki.services.accounts.username_skeleton): a new name may not
    # look like an existing one. Not unique: accounts older than the rule may share one.
    username_skeleton: Mapped[str] = mapped_column(String(255), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.READER)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped to end every session of the user (logout, password change, deactivation).
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # How many cards never seen before /review shows the user in one (UTC) day.
    new_cards_per_day: Mapped[int] = mapped_column(default=20, server_default=text("20"))

    @property
    def is_active(self) -> bool:  # Flask-Login refuses to log in inactive users
        return self.active

    def get_id(self) -> str:
        """The id stored in the session and remember cookie, tied to the session version."""
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.username!r} {self.role}>"


class LoginFailure(db.Model):
    """A wrong password given for *username_key* from *client_address*, kept for the
    throttling window (wiki.services.throttling) and then deleted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    username_key: Mapped[str] = mapped_column(String(255))
    client_address: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (
        Index("ix_login_failure_username_key_client_address", "username_key", "client_address",
              "failed_at"),
        Index("ix_login_failure_client_address", "client_address", "failed_at"),
    )


page_tags = db.Table(
    "page_tag",
    db.Column("page_id", ForeignKey("page.id", ondelete="CASCADE"), primary_key=True),
    db.Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
    # The page's slug, copied here (wiki.services.tags keeps it right): a tag's pages A–Z
    # are then a walk along the index below, one window at a time, where sorting by the
    # page table's slug would join and sort every page the tag has first.
    db.Column("page_slug", String(255), nullable=False),
    Index("ix_page_tag_tag_id_page_slug", "tag_id", "page_slug"),
)


class Page(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    # Number of the newest revision: the version checked by conflict-safe saves.
    revision_number: Mapped[int] = mapped_column(default=0)
    current_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("revision.id", use_alter=True, ondelete="SET NULL")
    )
    deleted: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    current_revision: Mapped[Revision | None] = relationship(
        foreign_keys=[current_revision_id], post_update=True
    )
    # Read only: the rows are written by wiki.services.tags.set_tags, with the page's slug.
    tags: Mapped[list[Tag]] = relationship(
        secondary=page_tags, order_by="Tag.name", back_populates="pages", viewonly=True
    )

    __table_args__ = (
        # Live pages A–Z (the page list): a window deep in the list skips index entries
        # rather than rows. Partial, so no query is tempted to look pages up by `deleted`;
        # its condition is written as SQLAlchemy writes `Page.deleted.is_(False)`.
        Index("ix_page_live_slug", "slug", sqlite_where=text("deleted IS 0"),
              postgresql_where=text("deleted IS false")),
        # The few deleted pages, which recent changes leave out by id: found, not scanned for.
        Index("ix_page_deleted_id", "id", sqlite_where=text("deleted IS 1"),
              postgresql_where=text("deleted IS true")),
    )

    def __repr__(self) -> str:
        return f"<Page {self.slug!r}>"


class Revision(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("page.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)  # rendered once, when saved
    summary: Mapped[str] = mapped_column(String(255), default="")
    minor: Mapped[bool] = mapped_column(default=False)
    size: Mapped[int] = mapped_column(default=0)  # body length in characters
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    page: Mapped[Page] = relationship(foreign_keys=[page_id])
    author: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("page_id", "number", name="uq_revision_page_id_number"),
        Index("ix_revision_author_id_created_at", "author_id", "created_at"),
    )

    def __repr__(self) -> str:
        return f"<Revision {self.page_id}#{self.number}>"


class Tag(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)

    pages: Mapped[list[Page]] = relationship(secondary=page_tags, back_populates="tags",
                                             viewonly=True)


class Link(db.Model):
    """A ``[[wiki link]]`` from a page to a slug, which may not exist yet (a red link)."""

    from_page_id: Mapped[int] = mapped_column(
        ForeignKey("page.id", ondelete="CASCADE"), primary_key=True
    )
    target_slug: Mapped[str] = mapped_column(String(255), primary_key=True)
    # The title as the link wrote it (``[[Request Lifecycle]]``), for the wanted-pages list
    # and the page that creates it. None for links recorded before titles were kept.
    target_title: Mapped[str | None] = mapped_column(String(255))
    # The linking page's slug, copied (wiki.services.links keeps it right), for the same
    # reason as ``page_tag.page_slug``: a page's backlinks A–Z walk the index below.
    from_slug: Mapped[str] = mapped_column(String(255))

    __table_args__ = (Index("ix_link_target_slug_from_slug", "target_slug", "from_slug"),)


class Redirect(db.Model):
    """An old slug that answers with a redirect to the page after a rename."""

    old_slug: Mapped[str] = mapped_column(String(255), primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("page.id", ondelete="CASCADE"), index=True)


class WikiState(db.Model):
    """One row whose ``version`` every write transaction bumps (``wiki.database``), so a
    worker can tell with one lookup whether anything changed since it rendered a page."""

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


class Blob(db.Model):
    """The bytes of an attached file, kept once under their SHA-256 however many
    attachments (versions, pages) use them."""

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # bytea on PostgreSQL
    size: Mapped[int]


class Attachment(db.Model):
    """Version *version* of the file *name* attached to a page."""

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("page.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))  # normalised (wiki.services.attachments)
    version: Mapped[int]
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"), index=True)
    size: Mapped[int]
    media_type: Mapped[str] = mapped_column(String(100))  # from the content, never the client
    width: Mapped[int | None]  # images only
    height: Mapped[int | None]
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set on every version of a deleted file, with who deleted it and when.
    deleted: Mapped[bool] = mapped_column(default=False)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    deleted_at: Mapped[datetime | None]

    uploader: Mapped[User | None] = relationship(foreign_keys=[uploader_id])
    deleted_by: Mapped[User | None] = relationship(foreign_keys=[deleted_by_id])

    __table_args__ = (
        UniqueConstraint("page_id", "name", "version", name="uq_attachment_page_id_name_version"),
    )

    def __repr__(self) -> str:
        return f"<Attachment {self.page_id}/{self.name} v{self.version}>"


class ApiToken(db.Model):
    """A personal API token: *scope* ``read`` or ``write``, for its user's role at most.

    Only a keyed hash of the token is kept (``wiki.services.tokens``): the text itself is
    shown once, when it is made, and cannot be read back from the database.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.name!r} {self.scope}>"


class AccessRule(db.Model):
    """Pages whose slug matches *pattern* may be read by *read_role* and edited by
    *edit_role* (``anyone``, ``reader``, ``editor``, ``admin``: that role and those above
    it). Which rule applies to a page, and how: wiki.services.access."""

    id: Mapped[int] = mapped_column(primary_key=True)
    pattern: Mapped[str] = mapped_column(String(255), unique=True)
    read_role: Mapped[str] = mapped_column(String(16))
    edit_role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<AccessRule {self.pattern!r} read {self.read_role} edit {self.edit_role}>"


class AdminAction(db.Model):
    """What an administrator changed, and when: the log of admin actions."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Kept as written, so the log still says who after the account is gone.
    username: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    user: Mapped[User | None] = relationship()


class Card(db.Model):
    """A question and answer found in a page's text (wiki.services.cards). A card is never
    deleted while its page lives: when its line goes it is *retired*, and it comes back, with
    everyone's schedule of it, when the line does."""

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("page.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]  # its order among the page's cards
    kind: Mapped[str] = mapped_column(String(8))  # "basic" (Q :: A) or "cloze" (==words== #card)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    retired: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    page: Mapped[Page] = relationship()

    def __repr__(self) -> str:
        return f"<Card {self.id} of page {self.page_id}>"


class CardSchedule(db.Model):
    """When *user* sees *card* next, and what FSRS knows of their memory of it. No row: the
    card is new to the user."""

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    state: Mapped[int]  # fsrs.State: 1 learning, 2 review, 3 relearning
    step: Mapped[int | None]
    stability: Mapped[float | None]
    difficulty: Mapped[float | None]
    due: Mapped[datetime]
    last_review: Mapped[datetime | None]

    __table_args__ = (
        # The next due card of a user is the first entry of this index.
        Index("ix_card_schedule_user_id_due", "user_id", "due"),
    )


class ReviewLog(db.Model):
    """One grading: enough to recompute a schedule or fit FSRS parameters later."""

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    rating: Mapped[int]  # 1 Again, 2 Hard, 3 Good, 4 Easy
    # The card's state before this grading: 0 new, then as CardSchedule.state.
    state: Mapped[int]
    elapsed_days: Mapped[float]  # since the previous grading of this card by this user
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_review_log_user_id_reviewed_at", "user_id", "reviewed_at"),
    )
