"""``render(document)``: the OpenAPI document as one plain HTML page, made on the server.

Rule 1: the page needs nothing but itself: no script, no font, no stylesheet or image from
anywhere, so it works offline and under ``CSP_HEADER`` (``default-src 'none'``, the one inline
style allowed by its hash).
Rule 2: every text of the document is HTML-escaped before any markup is added; the only markup
in texts is Markdown's inline code (`` `x` ``) and the "- " lists of the description.
Rule 3: accessible by structure: one ``h1``, headings in order, a skip link, a table of
contents, tables with header cells, anchors on every operation (its ``operationId``) and schema.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Sequence
from typing import Any

_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:72rem;margin:0 auto;padding:0 1rem;color:#111}
a{color:#0645ad}code{font:0.92em ui-monospace,monospace;background:#f3f3f3;padding:0 .2em}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eee}article{border-top:2px solid #ccc;margin-top:1.5rem}
.method{display:inline-block;min-width:4.5em;font-weight:700;text-transform:uppercase}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
CSP_HEADER = (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'")

_CODE = re.compile(r"`([^`]+)`")
_METHODS = ("get", "put", "post", "delete", "patch")


def _text(value: str) -> str:
    """Escaped text with Markdown inline code as ``<code>``."""
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(value, quote=False))


def _blocks(value: str) -> str:
    """Paragraphs and "- " lists of a description."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", value.strip()):
        items = re.split(r"(?m)^- ", block)
        if block.startswith("- "):
            lis = "".join(f"<li>{_text(' '.join(item.split()))}</li>" for item in items if item)
            out.append(f"<ul>{lis}</ul>")
        else:
            out.append(f"<p>{_text(' '.join(block.split()))}</p>")
    return "\n".join(out)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _schema_link(ref: str) -> str:
    name = html.escape(_ref_name(ref))
    return f'<a href="#schema-{name}">{name}</a>'


def type_html(schema: dict[str, Any]) -> str:
    """A short readable type: ``string (6 to 128 characters)``, ``array of Provider``."""
    if "$ref" in schema:
        return _schema_link(schema["$ref"])
    if "const" in schema:
        return f"<code>{html.escape(json.dumps(schema['const']))}</code>"
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items")
        return "array" + (f" of {type_html(items)}" if isinstance(items, dict) else "")
    if kind is None:
        return "any JSON value"
    text = html.escape(str(kind))
    notes = []
    if "enum" in schema:
        notes.append("one of " + ", ".join(f"<code>{html.escape(json.dumps(v))}</code>"
                                           for v in schema["enum"]))
    low, high = schema.get("minLength"), schema.get("maxLength")
    if low is not None and high is not None:
        notes.append(f"{low} to {high} characters")
    elif low is not None or high is not None:
        notes.append(f"at least {low} characters" if low is not None
                     else f"at most {high} characters")
    if "format" in schema:
        notes.append(f"format {html.escape(str(schema['format']))}")
    if "pattern" in schema:
        notes.append(f"matches <code>{html.escape(schema['pattern'])}</code>")
    return text + (f" ({'; '.join(notes)})" if notes else "")


def _table(head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    ths = "".join(f'<th scope="col">{h}</th>' for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{trs}</tbody></table>"


class _Renderer:
    def __init__(self, document: dict[str, Any]) -> None:
        self.doc = document
        self.components = document.get("components", {})

    def resolve(self, item: dict[str, Any]) -> dict[str, Any]:
        """A parameter or response with its ``$ref`` resolved (siblings of ``$ref`` win)."""
        if "$ref" not in item:
            return item
        kind, name = item["$ref"].split("/")[-2:]
        target = dict(self.components.get(kind, {}).get(name, {}))
        target.update({k: v for k, v in item.items() if k != "$ref"})
        return target

    def operations(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [(path, method, item[method]) for path, item in self.doc.get("paths", {}).items()
                for method in _METHODS if method in item]

    def security(self, op: dict[str, Any]) -> str:
        requirements = op.get("security", [])
        if not requirements:
            return "<p>No token.</p>"
        names = [next(iter(r), None) for r in requirements]
        shown = [f"bearer <code>{html.escape(n)}</code>" for n in names if n]
        optional = " (optional)" if None in names else ""
        return f"<p>Authorization: {' or '.join(shown)}{optional}.</p>"

    def parameters(self, op: dict[str, Any]) -> str:
        params = [self.resolve(p) for p in op.get("parameters", [])]
        if not params:
            return ""
        rows = [(f"<code>{html.escape(p['name'])}</code>", html.escape(p["in"]),
                 "yes" if p.get("required") else "no", type_html(p.get("schema", {})),
                 _text(p.get("description", ""))) for p in params]
        return "<h4>Parameters</h4>" + _table(
            ("Name", "In", "Required", "Type", "Description"), rows)

    def body(self, op: dict[str, Any]) -> str:
        body = op.get("requestBody")
        if not body:
            return ""
        rows = [(f"<code>{html.escape(media)}</code>", type_html(spec.get("schema", {})))
                for media, spec in body.get("content", {}).items()]
        needed = "required" if body.get("required") else "optional"
        examples = [
            f"<p>Example <code>{html.escape(name)}</code>:</p>"
            f"<pre>{html.escape(_json(example.get('value')))}</pre>"
            for spec in body.get("content", {}).values()
            for name, example in spec.get("examples", {}).items()]
        return (f"<h4>Request body ({needed})</h4>" + _table(("Media type", "Schema"), rows)
                + "".join(examples))

    def responses(self, op: dict[str, Any]) -> str:
        rows = []
        for status, raw in op.get("responses", {}).items():
            response = self.resolve(raw)
            content = response.get("content", {})
            kinds = ", ".join(f"<code>{html.escape(m)}</code>: {type_html(s.get('schema', {}))}"
                              for m, s in content.items()) or "no body"
            headers = ", ".join(f"<code>{html.escape(h)}</code>"
                                for h in response.get("headers", {}))
            rows.append((f"<code>{html.escape(status)}</code>",
                         _text(response.get("description", "")),
                         kinds + (f"; headers {headers}" if headers else "")))
        return "<h4>Responses</h4>" + _table(("Status", "Meaning", "Body"), rows)

    def operation(self, path: str, method: str, op: dict[str, Any]) -> str:
        anchor = html.escape(op["operationId"])
        parts = [
            f'<article id="{anchor}" aria-labelledby="{anchor}-h">',
            f'<h3 id="{anchor}-h"><span class="method">{method}</span> '
            f"<code>{html.escape(path)}</code></h3>",
            f"<p><strong>{_text(op.get('summary', ''))}</strong></p>",
            _blocks(op.get("description", "")) if op.get("description") else "",
            self.security(op), self.parameters(op), self.body(op), self.responses(op),
            "</article>",
        ]
        return "\n".join(p for p in parts if p)

    def schema(self, name: str, schema: dict[str, Any]) -> str:
        anchor = html.escape(name)
        parts = [f'<section aria-labelledby="schema-{anchor}"><h3 id="schema-{anchor}">'
                 f"{anchor}</h3>"]
        if schema.get("description"):
            parts.append(_blocks(schema["description"]))
        props = schema.get("properties", {})
        if props:
            required = set(schema.get("required", []))
            rows = [(f"<code>{html.escape(key)}</code>", type_html(value),
                     "yes" if key in required else "no", _text(value.get("description", "")))
                    for key, value in props.items()]
            parts.append(_table(("Member", "Type", "Required", "Description"), rows))
            if schema.get("additionalProperties") is False:
                parts.append("<p>No other members.</p>")
        elif "type" in schema or "$ref" in schema:
            parts.append(f"<p>Type: {type_html(schema)}</p>")
        parts.append("</section>")
        return "\n".join(parts)

    def page(self) -> str:
        info = self.doc.get("info", {})
        title = html.escape(info.get("title", "API"))
        by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        for path, method, op in self.operations():
            by_tag.setdefault((op.get("tags") or ["other"])[0], []).append((path, method, op))
        tags = {t["name"]: t.get("description", "") for t in self.doc.get("tags", [])}
        # Sections in the order of the document's tags, then any others as they come.
        order = list(tags)
        by_tag = dict(sorted(by_tag.items(), key=lambda kv: order.index(kv[0])
                             if kv[0] in order else len(order)))
        toc, sections = [], []
        for number, (tag, ops) in enumerate(by_tag.items()):
            items = "".join(
                f'<li><span class="method">{method}</span> <a href="#'
                f'{html.escape(op["operationId"])}"><code>{html.escape(path)}</code></a></li>'
                for path, method, op in ops)
            toc.append(f"<li>{html.escape(tag)}<ul>{items}</ul></li>")
            body = "\n".join(self.operation(path, method, op) for path, method, op in ops)
            sections.append(f'<section aria-labelledby="tag-{number}"><h2 id="tag-{number}">'
                            f"{html.escape(tag)}</h2>{_blocks(tags.get(tag, ''))}\n{body}"
                            "</section>")
        schemas = "\n".join(self.schema(name, schema) for name, schema
                            in self.components.get("schemas", {}).items())
        servers = ", ".join(f"<code>{html.escape(s.get('url', ''))}</code>"
                            for s in self.doc.get("servers", []))
        return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{_STYLE}</style>
</head>
<body>
<a class="skip" href="#main">Skip to the operations</a>
<header>
<h1>{title}</h1>
<p>Version {html.escape(str(info.get("version", "")))}, OpenAPI \
{html.escape(str(self.doc.get("openapi", "")))}; server {servers}. The same document as JSON:
<a href="/openapi.json"><code>/openapi.json</code></a>.</p>
</header>
<nav aria-label="Contents">
<h2>Contents</h2>
<ul>{"".join(toc)}<li><a href="#schemas">Schemas</a></li></ul>
</nav>
<main id="main">
<section aria-labelledby="about"><h2 id="about">About</h2>
{_blocks(info.get("description", ""))}</section>
{"".join(sections)}
<section aria-labelledby="schemas"><h2 id="schemas">Schemas</h2>
{schemas}
</section>
</main>
</body>
</html>
"""


def render(document: dict[str, Any]) -> str:
    """The page for an OpenAPI document."""
    return _Renderer(document).page()
