"""What starts and stops with each server process for the audit log and the metrics.

``start`` times the store (``metrics.TimedStore``) and starts the audit writer's pruning;
``stop`` writes the audit events still queued. Called by the lifespan in ``server.create_app``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import cast

from ..services import audit
from ..services.context import Services
from ..store.base import Store
from . import metrics
from .metrics import TimedStore


async def start(services: Services) -> None:
    """Wrap the store in its timer, start flushing metrics and the audit writer."""
    if not isinstance(services.store, TimedStore):
        services.store = cast(Store, TimedStore(services.store))
    if "metrics_flusher" not in services.extras:
        services.extras["metrics_flusher"] = asyncio.get_running_loop().create_task(
            metrics.flush_forever())
    audit.writer(services).start()


async def stop(services: Services) -> None:
    """Write what the audit writer holds and stop its pruning and the metrics' flushing."""
    flusher = services.extras.pop("metrics_flusher", None)
    if isinstance(flusher, asyncio.Task):
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
    await audit.writer(services).close()
