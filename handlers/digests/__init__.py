"""Digests: the scheduled recognition digest, snapshot prompts, review nudges, the monthly
"where do we go now?", sponsor and coordinator digests; `/doughnut digest` previews the week.
The community's settings modal (`/doughnut settings` in its channel) is reached through the
settings capability's router."""

from __future__ import annotations

from typing import Any

from bot.registry import Capability, HelpEntry, Registry
from handlers.digests import ids, jobs, listeners


def register(app: Any, registry: Registry) -> None:
    registry.subcommands.add("digest", listeners.digest_command)
    registry.help.append(
        HelpEntry(
            "`/doughnut digest`",
            "previews this week's recognition digest of the channel's community (only you see it)",
        )
    )
    app.view_submission(ids.COMMUNITY_SETTINGS_VIEW)(listeners.submit_settings)
    for job in jobs.digest_jobs():
        registry.jobs.add(job)


CAPABILITY = Capability(
    name="digests",
    register=register,
    # chat.postMessage to community channels it may not have joined, and DMs to reviewers,
    # sponsors and coordinators (the outbox's chat:write and im:write).
    scopes=("chat:write", "chat:write.public", "im:write"),
)
