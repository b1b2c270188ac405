"""Importing custom user data documents from ``mongoexport`` (canonical EJSON, one per line).

Each document is stored under the value of the app's ``user_id_field`` (a user id string, or an
ObjectId, taken as its hex string), in the configured collection, as the server's own writes
store it; the document keeps its ``_id`` and BSON types. Writing the same document again
changes nothing, so an import can run again. A line that is not a document, has no user id or
nests too deep is reported by its number and skipped.

HTTP-free: it uses the services and the store, like the other admin commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bson import ObjectId

from .. import ejson
from ..errors import ApiError
from ..services import users
from ..services.context import Services


@dataclass(slots=True)
class DataReport:
    """What a custom data import did."""

    written: int = 0
    problems: list[str] = field(default_factory=list)


async def import_custom_data(services: Services, text: str) -> DataReport:
    """Write every document of ``text`` as its user's custom data."""
    report = DataReport()
    id_field = str(services.settings.custom_user_data.get("user_id_field", "user_id"))
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = ejson.to_python(ejson.loads(line))
        except ValueError as exc:
            report.problems.append(f"line {number}: skipped, not canonical EJSON ({exc})")
            continue
        if not isinstance(doc, dict):
            report.problems.append(f"line {number}: skipped, not a document")
            continue
        user_id = doc.get(id_field)
        if isinstance(user_id, ObjectId):
            user_id = str(user_id)
        if not isinstance(user_id, str) or not user_id or len(user_id) > 512:
            report.problems.append(f"line {number}: skipped, it has no {id_field} string")
            continue
        try:
            await users.write_custom_data(services, user_id, doc)
        except ValueError as exc:
            report.problems.append(f"line {number}: skipped, {exc}")
            continue
        except ApiError as exc:  # Over [custom_user_data] max_bytes.
            report.problems.append(f"line {number}: skipped, {exc.message}")
            continue
        report.written += 1
    return report
