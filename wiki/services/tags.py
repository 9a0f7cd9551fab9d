"""Tags: which tags are in use, and the pages that carry one."""

from sqlalchemy import func, select

from wiki.models import Page, Tag, page_tags


def tag_counts_query():
    pages_count = func.count(page_tags.c.page_id).label("pages")
    return (
        select(Tag.name, pages_count)
        .join(page_tags, page_tags.c.tag_id == Tag.id)
        .join(Page, Page.id == page_tags.c.page_id)
        .where(Page.deleted.is_(False))
        .group_by(Tag.name)
        .order_by(Tag.name)
    )


def tagged_pages_query(tag: str):
    """Live pages tagged *tag*, A–Z: from the tag to its pages, so the work grows with the
    tag, not with the wiki (an EXISTS per page would walk every page for a rare tag)."""
    return (
        select(Page)
        .join(page_tags, page_tags.c.page_id == Page.id)
        .join(Tag, Tag.id == page_tags.c.tag_id)
        .where(Tag.name == tag, Page.deleted.is_(False))
        .order_by(Page.slug)
    )
