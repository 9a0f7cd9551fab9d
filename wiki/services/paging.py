"""Numbered pages of results, as the pager macro (``templates/_macros/pagination.html``)
shows them: services return them, views pass them on."""


class PageNumbers:
    """The previous/next arithmetic of a numbered page of results, as the pager macro
    (``templates/_macros/pagination.html``) uses it. Subclasses provide ``page`` and
    ``has_next``."""

    page: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1
