"""Page templates: pages tagged ``template`` are starting text for new pages."""

from dataclasses import dataclass

from wiki.extensions import db
from wiki.models import Page
from wiki.services.access import EVERYTHING, Visibility
from wiki.services.pages import get_page
from wiki.services.tags import tag_id, tagged_pages_query

TEMPLATE_TAG = "template"
TEMPLATES_OFFERED = 50  # a longer list stops being a choice; the tag's page lists them all


@dataclass(frozen=True)
class Template:
    page: Page
    body: str
    tags: list[str]  # the template's tags but "template": what the new page starts with


class NotATemplate(LookupError):
    """The slug names no page tagged ``template``."""


def templates(visible: Visibility = EVERYTHING, limit: int = TEMPLATES_OFFERED) -> list[Page]:
    """The live pages tagged ``template`` that *visible* shows, A–Z by address, at most
    *limit*."""
    return list(db.session.scalars(tagged_pages_query(tag_id(TEMPLATE_TAG), visible).limit(limit)))


def template(slug: str) -> Template:
    """The template at *slug*: its text and its tags, without ``template``.

    :raises NotATemplate: there is no live page at *slug*, or it is not tagged ``template``.
    """
    page = get_page(slug)
    names = [tag.name for tag in page.tags] if page else []
    if page is None or TEMPLATE_TAG not in names:
        raise NotATemplate(slug)
    return Template(page, page.current_revision.body,
                    [name for name in names if name != TEMPLATE_TAG])
