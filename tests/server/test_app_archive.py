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
        # The sources, each followed by its .pyc when setup made one (server/app_bytecode.py).
        assert [n for n in names if not n.endswith(".pyc")] == app_archive.archive_files()
        assert all(n.rsplit("/", 2)[-2] == "__pycache__" for n in names if n.endswith(".pyc"))
        # Stored, not deflated: the whole archive goes out compressed (rule 4).
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
        assert "app/sdk/app.py" in names and "app/ui.py" in names
        assert "app/sdk/adapters/native.py" not in names
        assert archive.read("app/sdk/app.py") == (REPO_ROOT / "app/sdk/app.py").read_bytes()
    assert response.content == app_archive.build_archive()  # Deterministic.
    again = client.get(app_archive.URL, headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304


def test_the_archive_goes_out_compressed_when_accepted(client) -> None:
    plain = client.get(app_archive.URL, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    for coding in ("br", "gzip"):
        packed = client.get(app_archive.URL, headers={"accept-encoding": coding})
        assert packed.headers["content-encoding"] == coding
        assert packed.headers["vary"] == "Accept-Encoding"
        assert packed.content == plain.content  # The client decodes it.
        assert packed.headers["etag"] != plain.headers["etag"]
        again = client.get(app_archive.URL, headers={"accept-encoding": coding,
                                                     "if-none-match": packed.headers["etag"]})
        assert again.status_code == 304
