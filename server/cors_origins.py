"""``[cors] allowed_origins`` as browsers send ``Origin``: checked and written one way at start.

The CORS middleware compares a request's ``Origin`` with the list exactly. Browsers send the
scheme and host in lower case and leave out the default port, and never a path; an entry written
otherwise (``https://Shop.Example.com``, ``https://shop.example.com:443``,
``https://shop.example.com/app``, ``shop.example.com``) never matched, and the shop's page was
refused with ``DomainNotAllowed`` although its origin was "in the config" (found in review). Such
an entry is now written the browsers' way, or refused at start with a message naming it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def browser_origin(entry: str) -> str:
    """``entry`` as a browser's ``Origin`` header would say it; ``ValueError`` if it is none."""
    if entry == "*":
        return entry
    example = 'e.g. "https://shop.example.com" or "http://localhost:5173"'
    try:
        parts = urlsplit(entry.strip().rstrip("/"))
        port = parts.port
    except ValueError:
        raise ValueError(f"[cors] allowed_origins: {entry!r} is not an origin ({example})") \
            from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.path or parts.query \
            or parts.fragment or parts.username is not None or parts.password is not None:
        raise ValueError(f"[cors] allowed_origins: {entry!r} is not an origin: write "
                         f"scheme://host[:port] and nothing more ({example})")
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    shown_port = f":{port}" if port is not None and port != DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{host}{shown_port}"
