"""Settings of running in production: the audit log, ``/metrics`` and log lines.

Three optional tables of the app config, each read into a dataclass here (their keys are the
fields, checked by ``server.config_check`` like ``[mail]`` and ``[security]``):

```toml
[audit]
enabled = true            # record security events in the store (server/services/audit.py)
retention_days = 90       # events older than this are pruned
prune_interval_minutes = 60

[metrics]
enabled = true            # serve /metrics (Prometheus text format)
token_env = ""            # name of an environment variable holding a bearer token for /metrics;
                          #   empty: /metrics answers loopback clients only

[logging]
json = false              # one JSON object per log line, for log shippers
```

It imports nothing of the HTTP layer, the services or the store.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """``[audit]``: whether security events are recorded, and for how long they are kept."""

    enabled: bool = True
    retention_days: float = 90.0
    prune_interval_minutes: float = 60.0


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """``[metrics]``: whether ``/metrics`` is served, and the variable holding its token."""

    enabled: bool = True
    token_env: str = ""


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    """``[logging]``: JSON log lines (one object per line) instead of uvicorn's text lines."""

    json: bool = False


#: The tables ``server.config_check`` checks against these dataclasses.
OPS_TABLES: dict[str, type] = {
    "audit": AuditSettings,
    "metrics": MetricsSettings,
    "logging": LoggingSettings,
}

_T = TypeVar("_T")


def read_table(raw: dict[str, Any], name: str, cls: type[_T]) -> _T:
    """The table ``name`` of a checked raw config read into ``cls`` (defaults when absent)."""
    table = raw.get(name)
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    values = {k: v for k, v in table.items() if k in known} if isinstance(table, dict) else {}
    return cls(**values)
