"""The only code that writes pages. Each public function is one transaction.

Saving a page writes, together or not at all: the new revision, its rendered HTML, its
outgoing links, its tags, and the linking pages whose red links it turns blue.
"""

from wiki.services.pages.bulk import (
    NewPage,
    PreparedPages,
    create_pages,
    prepare_pages,
    write_prepared,
)
from wiki.services.pages.queries import (
    BY_ADDRESS,
    find_redirect,
    get_any_page,
    get_page,
    get_revision,
    live_page_query,
    page_list,
    page_list_query,
)
from wiki.services.pages.renaming import rename
from wiki.services.pages.rules import (
    MAX_SLUG_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TITLE_LENGTH,
    TITLE_MISSING,
    TITLE_TOO_LONG,
    PageDeleted,
    PageError,
    Part,
    UnknownBase,
    normalise_body,
    normalise_tags,
    title_from_slug,
)
from wiki.services.pages.saving import (
    EditConflict,
    Outcome,
    PageEdit,
    SaveResult,
    delete,
    revert,
    save,
)
from wiki.services.slugs import HOME

__all__ = [
    "BY_ADDRESS", "HOME", "MAX_SLUG_LENGTH", "MAX_TAG_LENGTH", "MAX_TAGS", "MAX_TITLE_LENGTH",
    "TITLE_MISSING", "TITLE_TOO_LONG", "EditConflict", "NewPage", "Outcome", "PageDeleted",
    "PageEdit", "PageError", "Part", "PreparedPages", "SaveResult", "UnknownBase",
    "create_pages", "delete",
    "find_redirect", "get_any_page", "get_page", "get_revision", "live_page_query",
    "normalise_body", "normalise_tags", "page_list", "page_list_query", "prepare_pages",
    "rename", "revert", "save", "title_from_slug", "write_prepared",
]
