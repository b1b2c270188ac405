"""The users table's state: filters, search, and paging by cursor through any number of users.

The server pages by id (``after`` = the last id of the previous page), so a page costs the same
on page 1 and page 2,000 and the console never holds more than one page. ``Listing`` asks for
one row more than it shows, to know whether a next page exists, and keeps the ``after`` of
each page it went through, so "Previous" is one request too.

Three sources fill the table: users (status and provider filters on the server), a search (by
id or email start, one page; the filters apply to what it found), and pending registrations
(their own list, paged the same way). Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

PAGE_SIZES = (10, 25, 50, 100)


class UsersSource(Protocol):
    """What ``Listing.load`` needs of ``AdminClient``."""

    async def users(self, *, status: str = "", provider_types: str = "", after: str = "",
                    limit: int = 50) -> list[dict[str, Any]]: ...

    async def search(self, text: str, limit: int = 50) -> list[dict[str, Any]]: ...

    async def pending(self, *, after: str = "", limit: int = 50) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Filters:
    """What the table shows: ``status`` ``enabled``/``disabled``/``pending`` (or all), one
    provider type (or all), and a search text (an id or the start of an email)."""

    status: str = ""
    provider: str = ""
    search: str = ""

    @property
    def kind(self) -> str:
        """``pending``, ``search`` or ``users``."""
        if self.status == "pending":
            return "pending"
        return "search" if self.search else "users"


def user_email(user: dict[str, Any]) -> str:
    """The user's email address, from its profile data or an email/password identity."""
    data = user.get("data") or {}
    if isinstance(data.get("email"), str):
        return str(data["email"])
    for identity in user.get("identities") or []:
        email = (identity.get("provider_data") or {}).get("email")
        if isinstance(email, str):
            return email
    return ""


def providers_of(user: dict[str, Any]) -> list[str]:
    """The provider types of the user's identities, in order, once each."""
    return list(dict.fromkeys(str(i.get("provider_type", "")) for i in
                              user.get("identities") or []))


def pending_email(row: dict[str, Any]) -> str:
    """The address of a pending registration."""
    for login in row.get("login_ids") or []:
        if login.get("id_type") == "email":
            return str(login.get("id", ""))
    return ""


def _matches(user: dict[str, Any], filters: Filters) -> bool:
    if filters.status and bool(user.get("disabled")) != (filters.status == "disabled"):
        return False
    return not filters.provider or filters.provider in providers_of(user)


@dataclass
class Listing:
    """One page of the table and how to move from it."""

    filters: Filters = Filters()
    page_size: int = 50
    rows: list[dict[str, Any]] = field(default_factory=list)
    has_next: bool = False
    #: The ``after`` of each page from the first to the one shown (``""`` for the first).
    cursors: list[str] = field(default_factory=lambda: [""])

    @property
    def page_number(self) -> int:
        """1 for the first page."""
        return len(self.cursors)

    @property
    def first_row_number(self) -> int:
        """The position of the first row shown, counting from 1."""
        return (self.page_number - 1) * self.page_size + 1

    def restart(self, filters: Filters | None = None, page_size: int | None = None) -> None:
        """Back to the first page, with new filters or page size."""
        if filters is not None:
            self.filters = filters
        if page_size is not None:
            self.page_size = page_size
        self.cursors = [""]

    def forward(self) -> bool:
        """Move to the next page (then ``load``); ``False`` when there is none."""
        if not self.has_next or not self.rows:
            return False
        self.cursors.append(str(self.rows[-1]["_id"]))
        return True

    def back(self) -> bool:
        """Move to the previous page (then ``load``); ``False`` on the first."""
        if len(self.cursors) < 2:
            return False
        self.cursors.pop()
        return True

    async def load(self, source: UsersSource) -> None:
        """Fetch the current page: ``page_size`` rows, and whether more follow."""
        filters, after, ask = self.filters, self.cursors[-1], self.page_size + 1
        if filters.kind == "pending":
            rows = await source.pending(after=after, limit=ask)
        elif filters.kind == "search":
            found = await source.search(filters.search, limit=100)
            rows = [u for u in found if _matches(u, filters)][:ask]
            self.cursors = [""]
        else:
            status = filters.status if filters.status in ("enabled", "disabled") else ""
            rows = await source.users(status=status, provider_types=filters.provider,
                                      after=after, limit=ask)
        self.has_next = len(rows) > self.page_size and filters.kind != "search"
        self.rows = rows[:self.page_size]
