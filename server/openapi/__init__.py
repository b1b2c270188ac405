"""The OpenAPI 3.1 document of Latchkey's HTTP API, and the page that shows it.

- ``operations``: the table of every operation (path, method, parameters, body, answers);
- ``schemas``: the JSON shapes, the one shared error response and the token schemes;
- ``document.build(app_id, base_url)``: the document as a dict;
- ``page.render(document)``: the document as one plain HTML page (no script, nothing fetched);
- ``routes.ROUTES``: ``GET /openapi.json`` and ``GET /docs``.

The table is kept true by ``tests/server/test_openapi.py`` (every route and method of the app is
documented and every documented one exists) and by the fuzz in ``tests/server/test_fuzz.py``
(every answer matches what the document says). Only ``routes`` deals with HTTP; the rest
is data and pure functions.
"""

from __future__ import annotations

from .document import build
from .page import render

__all__ = ["build", "render"]
