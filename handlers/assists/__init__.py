"""Peer assists: `/peer-assist`, the "Ask for a peer assist" message shortcut, matching by
evidence, volunteers and helpers, the group DM, closing the loop into lessons, the Home section,
`/doughnut assists` and the scheduled follow-ups."""

from __future__ import annotations

from typing import Any

from bot.registry import Capability, HelpEntry, HomeSection, Registry
from handlers.assists import ids, listeners, views
from scheduler.registry import Every, Job, Schedule


def register(app: Any, registry: Registry) -> None:
    registry.help += [
        HelpEntry(
            "`/peer-assist [topic]`",
            "ask those who have done it before, suggested by the evidence in the workspace",
        ),
        HelpEntry("*Ask for a peer assist*", "on a message's menu: a request from what was said"),
        HelpEntry("`/doughnut assists`", "the open peer-assist requests of this community"),
    ]
    registry.subcommands.add(ids.SUBCOMMAND, listeners.assists_command)
    registry.home_sections.append(HomeSection("peer_assists", views.HOME_INTRO,
                                              listeners.home_section))  # fmt: skip
    registry.jobs.add(
        Job(ids.NO_HELPER_JOB, "Peer assists without a helper", Schedule(hour=10),
            listeners.no_helper_job, every=Every.DAY, per_community=False)
    )  # fmt: skip
    registry.jobs.add(
        Job(ids.OVERDUE_JOB, "Peer assists past their date", Schedule(hour=10, minute=30),
            listeners.overdue_job, every=Every.DAY, per_community=False)
    )  # fmt: skip
    app.command(ids.PEER_ASSIST_COMMAND)(listeners.peer_assist_command)
    app.shortcut(ids.ASK_SHORTCUT)(listeners.ask_shortcut)
    app.action(ids.HOME_ASK_ACTION)(listeners.ask_from_home)
    app.view_submission(ids.REQUEST_VIEW)(listeners.submit_request)
    app.action(ids.HELP_ACTION)(listeners.help_clicked)
    app.action(ids.SHARE_ACTION)(listeners.share_clicked)
    app.action(ids.INVITE_ACTION)(listeners.invite_clicked)
    app.action(ids.INVITE_YES_ACTION)(listeners.invite_yes)
    app.action(ids.INVITE_NO_ACTION)(listeners.invite_no)
    app.action(ids.ACCEPT_ACTION)(listeners.accept_clicked)
    app.action(ids.WITHDRAW_ACTION)(listeners.withdraw_clicked)
    app.action(ids.DONE_ACTION)(listeners.done_clicked)
    app.action(ids.CANCEL_ACTION)(listeners.cancel_clicked)
    app.action(ids.CAPTURE_ACTION)(listeners.capture_clicked)
    app.action(ids.KUDOS_ACTION)(listeners.kudos_clicked)


CAPABILITY = Capability(
    name="peer_assists",
    register=register,
    scopes=(
        "commands",  # /peer-assist, the Ask for a peer assist shortcut
        "chat:write",  # the request in the community channel, DMs to requesters and helpers
        "mpim:write",  # the group DM of the requester and the accepted helpers
        "users:read",  # whether an accepted helper is external (Slack Connect)
        "channels:history",  # the thread's first message, for the shortcut (public channels)
        "groups:history",  # the same in private channels
    ),
)
