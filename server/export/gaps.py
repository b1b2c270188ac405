"""What an App Services export holds that Latchkey does not do, in one readable summary.

``find_gaps(layout)`` looks at the parts of the export that Latchkey never reads (Device Sync,
data sources with their rules and schemas, triggers, HTTP endpoints and legacy webhooks,
services, GraphQL, hosting, log forwarders, npm dependencies of functions) and returns one line
per feature, with counts and names. ``describe(gaps)`` makes the block ``serve.py`` prints at
start-up (and ``convert-config`` writes as comments). The app runs without them.

Reading only: nothing here touches the network or imports the HTTP layer, services or store.
"""

from __future__ import annotations

from pathlib import Path

from .layout import Layout, read_json

_SHOWN_NAMES = 8


def find_gaps(layout: Layout) -> list[str]:
    """One line per feature of the export that Latchkey does not serve."""
    root = layout.root
    gaps: list[str] = []
    sync = root / "sync" / "config.json"
    if sync.is_file() or layout.config.get("sync"):
        cfg = read_json(sync) if sync.is_file() else layout.config.get("sync")
        kind = cfg.get("type", "") if isinstance(cfg, dict) else ""
        gaps.append(f"Device Sync{f' ({kind})' if kind else ''}: not served; clients that "
                    "open synced realms need another backend")
    gaps.extend(_data_sources(root, layout))
    triggers = _names(root / "triggers")
    if triggers:
        gaps.append(f"triggers: {_listed(triggers)} never fire")
    endpoints = _endpoints(root)
    if endpoints:
        gaps.append(f"HTTP endpoints: {_listed(endpoints)} are not served")
    graphql = root / "graphql"
    if graphql.is_dir():
        resolvers = _names(graphql / "custom_resolvers", key="field_name")
        extra = f", with custom resolvers {_listed(resolvers)}" if resolvers else ""
        gaps.append(f"GraphQL API: not served{extra}")
    hosting = root / "hosting"
    files = [p for p in (hosting / "files").rglob("*") if p.is_file()] \
        if (hosting / "files").is_dir() else []
    if files or _enabled(hosting / "config.json"):
        gaps.append(f"static hosting: not served (hosting/files holds {len(files)} file(s); "
                    "any web server can serve them)")
    forwarders = _names(root / "log_forwarders")
    if forwarders:
        gaps.append(f"log forwarders: {_listed(forwarders)} (Latchkey logs to its console)")
    functions = root / "functions"
    if (functions / "package.json").is_file() or (functions / "node_modules").exists():
        gaps.append("npm dependencies of functions (functions/package.json): not installed; "
                    "functions that require() a package fail when they call it")
    if layout.environment_values:
        gaps.append(f"environment values of {layout.environment!r}: used in the config's "
                    "%(%%environment.values...) expansions only")
    return gaps


def describe(gaps: list[str], *, prefix: str = "") -> str:
    """The summary block: a title line, then one line per gap (empty when nothing is missing)."""
    if not gaps:
        return ""
    lines = [f"{prefix}This App Services export uses {len(gaps)} thing(s) Latchkey does not do; "
             "the app runs without them:"]
    lines.extend(f"{prefix}  - {gap}" for gap in gaps)
    return "\n".join(lines)


def _data_sources(root: Path, layout: Layout) -> list[str]:
    gaps = []
    services: list[tuple[str, str, int]] = []
    for folder in ("data_sources", "services"):
        base = root / folder
        for cfg_path in sorted(base.glob("*/config.json")) if base.is_dir() else []:
            cfg = read_json(cfg_path)
            name = str(cfg.get("name") or cfg_path.parent.name) if isinstance(cfg, dict) \
                else cfg_path.parent.name
            kind = str(cfg.get("type", "")) if isinstance(cfg, dict) else ""
            rules = sum(1 for p in cfg_path.parent.rglob("*.json")
                        if p.name in ("rules.json", "schema.json") or p.parent.name == "rules")
            services.append((name, kind, rules))
    custom = str(layout.custom_user_data.get("mongo_service_name") or "")
    for name, kind, rules in services:
        if kind in ("mongodb-atlas", "mongodb", "mongodb-datalake", "datalake") or \
                (not kind and name == custom):
            used = " (Latchkey keeps custom user data in its own store)" if name == custom \
                else ""
            what = f"; its {rules} rule and schema files are not applied" if rules else ""
            gaps.append(f"data source {name!r} ({kind or 'MongoDB'}): not connected{used}{what}")
        else:
            gaps.append(f"service {name!r}{f' ({kind})' if kind else ''}: not available to "
                        "functions (context.services.get fails for it)")
    return gaps


def _endpoints(root: Path) -> list[str]:
    found: list[str] = []
    cfg = root / "http_endpoints" / "config.json"
    if cfg.is_file():
        value = read_json(cfg)
        for item in value if isinstance(value, list) else []:
            if isinstance(item, dict):
                found.append(f"{item.get('http_method', '*')} {item.get('route', '?')}")
    for folder in ("http_endpoints", "services"):
        base = root / folder
        for hook in sorted(base.glob("*/incoming_webhooks/*")) if base.is_dir() else []:
            found.append(f"{hook.parent.parent.name}/{hook.name}")
    return found


def _names(folder: Path, key: str = "name") -> list[str]:
    names = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        value = read_json(path)
        names.append(str(value.get(key) or path.stem) if isinstance(value, dict) else path.stem)
    return names


def _enabled(path: Path) -> bool:
    if not path.is_file():
        return False
    value = read_json(path)
    return isinstance(value, dict) and bool(value.get("enabled", False))


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN_NAMES])
    more = f" and {len(names) - _SHOWN_NAMES} more" if len(names) > _SHOWN_NAMES else ""
    return f"{len(names)} ({shown}{more})"
