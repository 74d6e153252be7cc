"""Installations: what ends when a workspace uninstalls the app (or revokes its bot token)."""

from __future__ import annotations

import logging

from bot.deps import Deps
from bot.installations import Installations
from bot.outbox import UNINSTALLED
from bot.tenancy import Installation
from bot.unit_of_work import UnitOfWork
from storage import deliveries, workspaces

log = logging.getLogger(__name__)


async def uninstall(uow: UnitOfWork, deps: Deps) -> None:
    """`app_uninstalled` (or the bot token revoked): the installation goes, and what it owed.

    The store's rows are deleted first, in their own transaction, before the unit of work
    begins its own (see the module's docstring); then the workspace is marked uninstalled (the
    housekeeping deletes its data after the grace period) and its pending deliveries are failed
    with the reason.
    """
    installation: Installation = uow.installation
    store: Installations | None = deps.installations
    if store is not None:
        await store.forget(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
    session = await uow.session()
    now = deps.clock.now()
    workspace = await workspaces.find_workspace(session, uow.install_key)
    if workspace is None:
        return
    workspace.uninstalled_at = now
    cancelled = await deliveries.cancel_pending(session, workspace.id, UNINSTALLED)
    log.info("uninstalled from %s; %d pending deliveries dropped", uow.install_key, cancelled)
