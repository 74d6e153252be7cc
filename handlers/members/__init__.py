"""The member cache: who is who, kept from users.list, user events and user group events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.registry import Capability, Registry
from handlers.members import ids, listeners
from scheduler.registry import Job, Schedule


def register(app: Any, registry: Registry) -> None:
    app.event("user_change")(listeners.user_changed)
    app.event("team_join")(listeners.user_changed)
    app.event("subteam_members_changed")(listeners.group_members_changed)
    app.event("subteam_updated")(listeners.group_updated)
    deps = getattr(app, "deps", None)
    if deps is not None:
        # Daily, and at once for a workspace new to the scheduler: today's run is still due
        # (a day's grace), so a fresh install has its cache within a tick of its first request.
        registry.jobs.add(
            Job(
                ids.SYNC_JOB,
                "Member cache",
                Schedule(hour=0, minute=0),
                listeners.sync_job(deps),
                per_community=False,
                grace=timedelta(days=1),
            )
        )


CAPABILITY = Capability(
    name="members",
    register=register,
    scopes=(
        "users:read",  # users.list and users.info fill the cache; user_change and team_join
        "usergroups:read",  # usergroups.users.list and the subteam events keep user groups
    ),
    events=("user_change", "team_join", "subteam_members_changed", "subteam_updated"),
)
