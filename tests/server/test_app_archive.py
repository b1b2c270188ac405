"""The page's Python as one archive (``server/app_archive.py``)."""

from __future__ import annotations

import io
import zipfile

from server import app_archive
from server.settings import REPO_ROOT


def test_the_archive_holds_app_as_on_disk_and_is_revalidated(client) -> None:
    response = client.get(app_archive.URL)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = archive.namelist()
        assert names == app_archive.archive_files()
        assert "app/sdk/app.py" in names and "app/ui.py" in names
        assert "app/sdk/adapters/native.py" not in names
        assert archive.read("app/sdk/app.py") == (REPO_ROOT / "app/sdk/app.py").read_bytes()
    assert response.content == app_archive.build_archive()  # Deterministic.
    again = client.get(app_archive.URL, headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304
