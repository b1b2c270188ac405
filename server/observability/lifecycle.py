"""What starts and stops with each server process for the audit log and the metrics.

``start`` times the store (``metrics.TimedStore``) and starts the audit writer's pruning;
``stop`` writes the audit events still queued. Called by the lifespan in ``server.create_app``.
"""

from __future__ import annotations

from typing import cast

from ..services import audit
from ..services.context import Services
from ..store.base import Store
from .metrics import TimedStore


async def start(services: Services) -> None:
    """Wrap the store in its timer and start the audit writer."""
    if not isinstance(services.store, TimedStore):
        services.store = cast(Store, TimedStore(services.store))
    audit.writer(services).start()


async def stop(services: Services) -> None:
    """Write what the audit writer holds and stop its pruning."""
    await audit.writer(services).close()
