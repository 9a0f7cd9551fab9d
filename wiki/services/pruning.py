"""Removing stored contents that no attachment uses any more.

A content stays stored while any attachment row names it: a live file's version, or a
deleted file's, which an administrator can restore. Only the others go: left by a restore,
by an attachment gone with its page, or (in a folder store) by an upload whose transaction
rolled back after its file was written.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from wiki.database import one_writer_at_a_time, write_transaction
from wiki.extensions import db
from wiki.models import Attachment, Blob
from wiki.services import storage


@dataclass(frozen=True)
class Unused:
    sha256: str
    size: int


def unused_contents() -> list[Unused]:
    """What :func:`prune` would remove now, by digest."""
    unused = _unused(db.session, storage.configured())
    db.session.rollback()
    return unused


def prune() -> list[Unused]:
    """Remove every stored content no attachment row names, in one transaction that uploads
    wait for (they take the same lock before they store), so none is removed under an
    upload that is about to use it. Returns what was removed."""
    store = storage.configured()
    with write_transaction(seen_on_pages=False) as session:
        one_writer_at_a_time(session, "blobs")
        unused = _unused(session, store)
        for content in unused:
            store.delete(session, content.sha256)
    return unused


def _unused(session: Session, store: storage.BlobStore) -> list[Unused]:
    used = exists().where(Attachment.blob_sha256 == Blob.sha256)
    rows = session.execute(select(Blob.sha256, Blob.size).where(~used).order_by(Blob.sha256))
    unused = {sha256: Unused(sha256, size) for sha256, size in rows}
    if isinstance(store, storage.FolderStore):
        known = set(session.scalars(select(Blob.sha256)))
        unused |= {sha256: Unused(sha256, size) for sha256, size in store.files()
                   if sha256 not in known}
    return sorted(unused.values(), key=lambda content: content.sha256)
