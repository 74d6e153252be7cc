"""Communities: `/doughnut setup` makes a channel a community of practice; the Home tab lists them.

The worked example of a capability: listeners (`listeners.py`), pure views (`views.py`), ids
(`ids.py`), the service (`bot/core/communities.py`), models and queries
(`storage/models/communities.py`, `storage/communities.py`), and this registration.
"""

from __future__ import annotations

from typing import Any

from bot.registry import Capability, HelpEntry, HomeSection, QuickAction, Registry
from handlers.communities import ids, listeners, views


def register(app: Any, registry: Registry) -> None:
    registry.subcommands.add("setup", listeners.setup_command)
    registry.help += [
        HelpEntry("`/doughnut setup`", "make this channel a community of practice, or edit it"),
        HelpEntry("the *Home* tab", "your communities and your roles in them"),
    ]
    registry.quick_actions.append(
        QuickAction("Set up a community", ids.HOME_SETUP_ACTION, style="primary")
    )
    registry.home_sections.append(
        HomeSection("communities", views.HOME_INTRO, listeners.home_section)
    )
    app.action(ids.HOME_SETUP_ACTION)(listeners.setup_from_home)
    app.action({"block_id": ids.SETUP_CHANNEL_BLOCK, "action_id": ids.SETUP_CHANNEL_ACTION})(
        listeners.channel_picked
    )
    app.view_submission(ids.COMMUNITY_PICK_VIEW)(listeners.submit_pick)
    app.view_submission(ids.COMMUNITY_SETUP_VIEW)(listeners.submit_setup)
    app.view_closed(ids.COMMUNITY_SETUP_VIEW)(listeners.setup_closed)
    app.event("member_joined_channel")(listeners.member_joined)  # and the bot, invited back
    # A community whose channel is archived, or which removed the bot, is paused.
    app.event("channel_archive")(listeners.channel_archived)
    app.event("channel_unarchive")(listeners.channel_unarchived)
    app.event("group_archive")(listeners.channel_archived)  # a private channel
    app.event("group_unarchive")(listeners.channel_unarchived)
    app.event("member_left_channel")(listeners.member_left)
    # Or a post bounced off an archived channel (the event may never have come).
    registry.jobs.every_tick("Paused communities", listeners.ArchiveWatch())


CAPABILITY = Capability(
    name="communities",
    register=register,
    scopes=(
        "chat:write.public",  # the welcome, in a public channel the bot has not joined
        "users:read",  # the timezone of whoever sets a community up (users.info)
        "channels:read",  # conversations.info on a public channel; a member's channels for Home
        "groups:read",  # the same for private channels the bot was invited to
    ),
    events=(
        "member_joined_channel",
        "member_left_channel",  # the bot removed: the community pauses
        "channel_archive",  # the community pauses
        "channel_unarchive",  # and resumes
        "group_archive",  # the same for a private channel
        "group_unarchive",
    ),
)
