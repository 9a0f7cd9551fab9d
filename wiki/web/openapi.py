"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json`` and shown
to people at ``/help/api``.

Written by hand, next to the routes it describes, and checked against them:
``tests/test_api.py`` fails when a method and path of the app under ``/api/v1`` is missing
here, or described here and missing from the app.
"""

from __future__ import annotations

from typing import Any

API = "/api/v1"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": ref("Problem")}}}


SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "The page's address, e.g. `flask/routing` (sub-pages keep their `/`)."}
PAGE_NUMBER = {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1},
               "description": "Which page of the list (from 1)."}
PER_PAGE = {"name": "per_page", "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
            "description": "How many items a page of the list holds."}
# What every call may answer.
COMMON_ERRORS = {
    "401": problem("A bad, revoked or expired token; or no token where the call needs an "
                   "account (`WWW-Authenticate: Bearer`)."),
    "403": problem("The user's role, an access rule, or a read-only token, does not allow "
                   "this (history needs the role WIKI_HISTORY_VISIBLE_TO names)."),
    "429": problem("Too many calls with this token lately (`Retry-After` says when to try "
                   "again)."),
}


def operation(summary: str, description: str, responses: dict[str, Any], *,
              parameters: list | None = None, body: dict | None = None,
              public: bool = False, session_only: bool = False) -> dict[str, Any]:
    described: dict[str, Any] = {"summary": summary, "description": description,
                                 "parameters": parameters or [],
                                 "responses": responses | ({} if public else COMMON_ERRORS)}
    if body is not None:
        described["requestBody"] = body
    if public:
        described["security"] = []
    elif session_only:  # the browser's own helpers, which read no token
        described["security"] = [{"browserSession": []}]
    return described


def schemas() -> dict[str, Any]:
    string, integer = {"type": "string"}, {"type": "integer"}
    when = {"type": ["string", "null"], "format": "date-time"}
    tags = {"type": "array", "items": string}
    return {
        "Problem": {
            "type": "object", "description": "RFC 9457 problem details.",
            "required": ["type", "title", "status", "detail"],
            "properties": {"type": string, "title": string, "status": integer, "detail": string,
                           "field": {"type": ["string", "null"],
                                     "description": "The field of the document refused."}},
        },
        "PageSummary": {
            "type": "object",
            "properties": {"slug": string, "title": string, "revision": integer, "tags": tags,
                           "updated": when},
        },
        "Page": {
            "type": "object",
            "properties": {"slug": string, "title": string,
                           "body": {"type": "string", "description": "Markdown."},
                           "html": {"type": "string", "description": "The rendered page, "
                                    "sanitised, as readers see it."},
                           "tags": tags, "revision": integer,
                           "current_revision": integer, "created": when, "updated": when},
        },
        "SavedPage": {
            "allOf": [ref("Page"), {"type": "object", "properties": {
                "outcome": {"enum": ["created", "saved", "merged", "retagged", "unchanged"]},
                "merged_with": {"type": ["integer", "null"], "description":
                                "The revision your edit was merged with, when it was."}}}],
        },
        "PageWrite": {
            "type": "object", "required": ["body"],
            "properties": {
                "title": {"type": "string", "description": "Left out: the page keeps its "
                          "title (a new page's comes from its address). Its address must "
                          "stay the same: renaming is not part of the API."},
                "body": {"type": "string", "description": "Markdown."},
                "summary": {"type": "string", "description": "What you changed."},
                "tags": {**tags, "description": "Left out: the page keeps its tags."},
                "base_revision": {"type": "integer", "minimum": 0, "description":
                                  "The revision your text started from; required to update "
                                  "a page. A change saved since is merged with yours."},
            },
        },
        "Conflict": {
            "allOf": [ref("Problem"), {"type": "object", "properties": {
                "current_revision": integer,
                "merged": {"type": "string", "description": "The merge attempt, the clashing "
                           "lines between <<<<<<< yours, ======= and >>>>>>> theirs."},
                "theirs": {"type": "string", "description": "The page's current text."},
                "yours": {"type": "string", "description": "The text you sent."}}}],
        },
        "Revision": {
            "type": "object",
            "properties": {"revision": integer, "title": string, "summary": string,
                           "minor": {"type": "boolean"}, "size": integer,
                           "author": {"type": ["string", "null"]}, "created": when},
        },
        "Diff": {
            "type": "object",
            "properties": {"from": integer, "to": integer,
                           "unified": {"type": "string", "description": "A unified diff."}},
        },
        "SearchResults": {
            "type": "object",
            "properties": {"query": string, "total": integer,
                           "more": {"type": "boolean", "description":
                                    "More pages than `total` match (counting stops at "
                                    "1,000); the hits are then ranked among candidates."},
                           "page": integer, "has_next": {"type": "boolean"},
                           "results": {"type": "array", "items": {"type": "object", "properties": {
                               "slug": string, "title": string, "tags": tags,
                               "snippet": {"type": "string", "description":
                                           "Safe HTML, matches in <mark>."}}}}},
        },
    }


def listing_of(key: str, item: str) -> dict[str, Any]:
    return {"type": "object", "properties": {
        key: {"type": "array", "items": ref(item)}, "page": {"type": "integer"},
        "next": {"type": ["string", "null"], "description": "The next page's address."}}}


def paths() -> dict[str, Any]:
    missing = problem("No such page (or revision), or one the access rules hide from the "
                      "token's user: the two answers are the same.")
    return {
        f"{API}/pages": {"get": operation(
            "List pages", "Live pages A–Z by address (those the token's user may read).",
            {"200": json_body(listing_of("pages", "PageSummary"), "A page of the list.")},
            parameters=[
                {"name": "tag", "in": "query", "schema": {"type": "string"},
                 "description": "Only pages with this tag."},
                {"name": "prefix", "in": "query", "schema": {"type": "string"},
                 "description": "Only pages whose address starts so (`flask/` for sub-pages)."},
                PAGE_NUMBER, PER_PAGE])},
        f"{API}/pages/{{slug}}": {
            "get": operation("Read a page", "Its current title, Markdown, HTML and tags.",
                             {"200": json_body(ref("Page"), "The page."), "404": missing},
                             parameters=[SLUG]),
            "put": operation(
                "Create or update a page",
                "Creates the page (its title must lead to this address) or updates it from "
                "`base_revision`, as the editor does: a change saved since is merged with "
                "yours when the two touch different lines.",
                {"200": json_body(ref("SavedPage"), "Updated (perhaps merged), or unchanged."),
                 "201": json_body(ref("SavedPage"), "Created."),
                 "400": problem("The body is not JSON."),
                 "409": {"description": "The edit overlaps a change saved since "
                                        "`base_revision` (nothing saved), or the page is "
                                        "deleted.",
                         "content": {"application/problem+json": {"schema": ref("Conflict")}}},
                 "413": problem("The request is too large."),
                 "415": problem("The body is not `application/json`."),
                 "422": problem("A field is missing or refused; `field` says which.")},
                parameters=[SLUG],
                body={"required": True,
                      "content": {"application/json": {"schema": ref("PageWrite")}}}),
            "delete": operation("Delete a page", "Its history is kept; an administrator can "
                                "restore it.", {"204": {"description": "Deleted."},
                                                "404": missing}, parameters=[SLUG]),
        },
        f"{API}/pages/{{slug}}/history": {"get": operation(
            "A page's revisions", "Newest first, without their texts.",
            {"200": json_body(listing_of("revisions", "Revision"), "A page of revisions."),
             "404": missing}, parameters=[SLUG, PAGE_NUMBER, PER_PAGE])},
        f"{API}/pages/{{slug}}/revisions/{{number}}": {"get": operation(
            "One revision", "The page as it was at revision `number`.",
            {"200": json_body(ref("Page"), "The revision."), "404": missing},
            parameters=[SLUG, {"name": "number", "in": "path", "required": True,
                               "schema": {"type": "integer", "minimum": 1}}])},
        f"{API}/pages/{{slug}}/diff": {"get": operation(
            "What changed between two revisions", "`to` defaults to the current revision, "
            "`from` to the one before it (0: the empty page).",
            {"200": json_body(ref("Diff"), "The change."), "400": problem("Not numbers."),
             "404": missing},
            parameters=[SLUG, {"name": "from", "in": "query", "schema": {"type": "integer"}},
                        {"name": "to", "in": "query", "schema": {"type": "integer"}}])},
        f"{API}/pages/{{slug}}/backlinks": {"get": operation(
            "Pages linking here", "Live pages whose text links to this address, A–Z.",
            {"200": json_body(listing_of("pages", "PageSummary"), "A page of the list.")},
            parameters=[SLUG, PAGE_NUMBER, PER_PAGE])},
        f"{API}/search": {"get": operation(
            "Search", "Ranked full-text search, with the query language of the search page "
            "(`\"phrase\"`, `prefix*`, `-word`, `tag:name`, `title:word`).",
            {"200": json_body(ref("SearchResults"), "A page of hits."),
             "400": problem("No query.")},
            parameters=[{"name": "q", "in": "query", "required": True,
                         "schema": {"type": "string"}}, PAGE_NUMBER, PER_PAGE])},
        f"{API}/titles": {"get": operation(
            "Quick-jump titles", "At most 10 titles starting with, then containing, `q`. "
            "For the browser session: it reads no token.",
            {"200": json_body({"type": "array", "items": {"type": "object", "properties": {
                "title": {"type": "string"}, "slug": {"type": "string"},
                "url": {"type": "string"}}}}, "Matching pages.")},
            parameters=[{"name": "q", "in": "query", "schema": {"type": "string"}}],
            session_only=True)},
        f"{API}/preview": {"post": operation(
            "Preview Markdown", "The editor's live preview: the form field `body` rendered "
            "as readers would see it. For the browser session (with `X-CSRFToken`).",
            {"200": json_body({"type": "object", "properties": {"html": {"type": "string"}}},
                              "The rendered HTML."),
             "400": problem("The CSRF token is missing or expired."),
             "413": problem("The text is too long to preview.")},
            parameters=[{"name": "page", "in": "query", "schema": {"type": "string"},
                         "description": "The page whose files bare file names show."}],
            body={"required": True, "content": {"application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": {"body": {"type": "string"}}}}}},
            session_only=True)},
        f"{API}/openapi.json": {"get": operation(
            "This document", "The OpenAPI 3.1 description of the API.",
            {"200": {"description": "The document.", "content": {"application/json": {}}}},
            public=True)},
    }


def document(script_root: str = "") -> dict[str, Any]:
    """The OpenAPI document, its server the path the app is served from."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Notebook wiki API", "version": "1",
            "description": (
                "Read and write the wiki's pages from scripts. Send a personal token, made "
                "at /account/tokens, as `Authorization: Bearer <token>`. A token does what "
                "its user's role allows, and only reads when its scope is `read`. Without a "
                "token a call is the browser session's (anonymous without one), and its "
                "writes need the `X-CSRFToken` header. Errors are RFC 9457 problem details. "
                "Each token may make a limited number of calls a minute."),
        },
        "servers": [{"url": script_root or "/"}],
        "security": [{"bearerToken": []}, {"browserSession": []}],
        "paths": paths(),
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer",
                                "description": "A personal token from /account/tokens."},
                "browserSession": {"type": "apiKey", "in": "cookie", "name": "session",
                                   "description": "The signed-in browser's session; writes "
                                                  "need the X-CSRFToken header too."},
            },
        },
    }
