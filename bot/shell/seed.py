"""The demo workspace: the same people and channels in the emulator and in the database.

Ids are fixed so that `doughnut demo-data` (database only) and `doughnut shell` (emulator and
database) agree about who is who.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.core.communities import SetupForm, apply_setup
from bot.emulator import TEAM_ID, Workspace
from storage.communities import community_in_channel
from storage.db import Database
from storage.workspaces import get_or_create_workspace


@dataclass(frozen=True)
class DemoMember:
    user_id: str
    name: str
    real_name: str
    tz: str


@dataclass(frozen=True)
class DemoChannel:
    channel_id: str
    name: str
    members: tuple[str, ...]
    private: bool = False
    with_bot: bool = True


@dataclass(frozen=True)
class DemoCommunity:
    channel_id: str
    form: SetupForm


ANA = DemoMember("U0DEMOANA", "ana", "Ana Silva", "Europe/Lisbon")
BEN = DemoMember("U0DEMOBEN", "ben", "Ben Carter", "America/New_York")
CHLOE = DemoMember("U0DEMOCHLOE", "chloe", "Chloé Martin", "Europe/Paris")
DEV = DemoMember("U0DEMODEV", "dev", "Dev Patel", "Asia/Kolkata")
EMMA = DemoMember("U0DEMOEMMA", "emma", "Emma Wilson", "Australia/Sydney")
MEMBERS = (ANA, BEN, CHLOE, DEV, EMMA)

GENERAL = DemoChannel("C0DEMOGENERAL", "general", tuple(m.user_id for m in MEMBERS))
COP_SALES = DemoChannel(
    "C0DEMOSALES", "cop-sales", (ANA.user_id, BEN.user_id, EMMA.user_id, CHLOE.user_id)
)
COP_SRE = DemoChannel("C0DEMOSRE", "cop-sre", (ANA.user_id, CHLOE.user_id, DEV.user_id))
# Not a community yet: the place to try `/doughnut setup`.
COP_DESIGN = DemoChannel(
    "C0DEMODESIGN", "cop-design", (ANA.user_id, BEN.user_id, CHLOE.user_id, EMMA.user_id)
)
LEADERSHIP = DemoChannel(
    "G0DEMOLEADERS", "leadership", (ANA.user_id, BEN.user_id, EMMA.user_id), private=True
)
CHANNELS = (GENERAL, COP_SALES, COP_SRE, COP_DESIGN, LEADERSHIP)

COMMUNITIES = (
    DemoCommunity(
        COP_SALES.channel_id,
        SetupForm(
            "Sales Engineering",
            "Winning technical sales: demos, proofs of concept, objections.",
            "America/New_York",
            coordinators=[BEN.user_id],
            reviewers=[EMMA.user_id],
            sponsors=[ANA.user_id],
        ),
    ),
    DemoCommunity(
        COP_SRE.channel_id,
        SetupForm(
            "Site Reliability",
            "Running production services reliably.",
            "Europe/Paris",
            coordinators=[CHLOE.user_id],
            reviewers=[DEV.user_id],
            sponsors=[ANA.user_id],
        ),
    ),
)


def _offset_seconds(tz: str, at: datetime) -> int:
    offset = at.astimezone(ZoneInfo(tz)).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def demo_workspace(now: datetime | None = None) -> Workspace:
    """The emulator's workspace: the demo members, the bot and the demo channels."""
    now = now or datetime.now(UTC)
    workspace = Workspace(team_id=TEAM_ID)
    for member in MEMBERS:
        workspace.add_user(
            member.name,
            real_name=member.real_name,
            tz=member.tz,
            tz_offset=_offset_seconds(member.tz, now),
            user_id=member.user_id,
        )
    for channel in CHANNELS:
        members = [*channel.members, *([workspace.bot_user_id] if channel.with_bot else [])]
        workspace.add_channel(
            channel.name, private=channel.private, members=members, channel_id=channel.channel_id
        )
    return workspace


async def seed_database(db: Database, now: datetime) -> list[str]:
    """Register the demo communities unless they exist; returns the names it created."""
    created: list[str] = []
    async with db.transaction() as session:
        workspace = await get_or_create_workspace(
            session,
            key=TEAM_ID,
            team_id=TEAM_ID,
            enterprise_id=None,
            is_enterprise_install=False,
            now=now,
        )
        by_id = {c.channel_id: c for c in CHANNELS}
        for demo in COMMUNITIES:
            if await community_in_channel(session, workspace.id, demo.channel_id) is not None:
                continue  # already there (perhaps edited since): leave it as it is
            apply_setup(
                session,
                None,
                workspace_id=workspace.id,
                channel_id=demo.channel_id,
                is_private=by_id[demo.channel_id].private,
                form=demo.form,
                by_user=demo.form.coordinators[0],
                now=now,
            )
            created.append(demo.form.name)
    return created
