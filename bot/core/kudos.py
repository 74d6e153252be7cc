"""Kudos: one rule set for the four ways to give them (command, shortcut, reaction, message).

Rules: no kudos to yourself, to bots or to the app; a daily allowance per giver, counted on the
giver's own calendar day (`local_day`); the same giver, receiver and message count once (a
unique constraint); the giver may undo within 10 minutes. Receivers come from the member cache;
a cache miss is stored as pending and settled after the ack (`settle_pending`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core import members as member_cache
from bot.core import settings
from bot.core.members import MemberInfo
from bot.text import unescape
from bot.unit_of_work import UnitOfWork
from storage import communities as community_queries
from storage import kudos as queries
from storage.models import Community, Kudos, KudosSource, KudosStatus, Visibility
from storage.models.kudos import REASON_MAX

UNDO_WINDOW = timedelta(minutes=10)
TAG_MAX = 64
MAX_RECIPIENTS = 50  # one request; the allowance is lower anyway
KUDOS_TO_CHANNEL = "kudos_to_channel"  # a community setting (its settings modal has the toggle)

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_GROUP = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<[^>]*>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_TAG = re.compile(r"(?:(?<=\s)|^)#([\w][\w-]{0,63})", re.UNICODE)


class Skip(enum.StrEnum):
    """Why a receiver got no kudos (said to the giver)."""

    SELF = "that's you"
    BOT = "a bot or an app"
    DEACTIVATED = "deactivated"
    EXTERNAL = "a member of another organisation (Slack Connect)"
    UNKNOWN = "not a member of this workspace"
    ALREADY = "already given for this message"
    UNCHECKED = "Slack could not say who this is; try again later"


class Refusal(enum.StrEnum):
    NO_RECIPIENT = "no_recipient"
    NO_REASON = "no_reason"
    TOO_LONG = "too_long"
    ALLOWANCE = "allowance"
    TOO_MANY = "too_many"


@dataclass(frozen=True)
class Occasion:
    """Where and how kudos are given."""

    source: KudosSource
    channel_id: str | None = None
    message_ts: str | None = None
    permalink: str | None = None
    visibility: Visibility = Visibility.UNKNOWN


@dataclass(frozen=True)
class KudosAsk:
    """What a giver asked for: receivers (user ids) and user groups, why, tags, where."""

    giver_id: str
    receivers: tuple[str, ...]
    reason: str
    occasion: Occasion
    tags: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class KudosView:
    id: int
    giver_id: str
    receiver_id: str
    reason: str
    tags: tuple[str, ...]
    source: KudosSource
    status: KudosStatus
    channel_id: str | None
    permalink: str | None
    visibility: Visibility
    given_at: datetime


@dataclass(frozen=True)
class Announcement:
    """Kudos to tell about: a DM to the recipient, and a post in `post_to` when set."""

    kudos: KudosView
    post_to: str | None = None


@dataclass(frozen=True)
class Allowance:
    """What is left of a giver's day, and when it resets (their next local midnight)."""

    allowance: int
    left: int
    resets_at: datetime
    timezone: str


@dataclass(frozen=True)
class Outcome:
    """What happened: given, pending (checked after the ack), skipped, or refused whole."""

    given: tuple[KudosView, ...] = ()
    pending: tuple[KudosView, ...] = ()
    skipped: tuple[tuple[str, Skip], ...] = ()
    refusal: Refusal | None = None
    allowance: Allowance | None = None
    reason: str = ""
    groups_to_read: tuple[str, ...] = ()  # user groups not cached yet: read after the ack
    group_size: int = 0  # with Refusal.ALLOWANCE for a group: how many it has
    announcements: tuple[Announcement, ...] = ()

    @property
    def stored(self) -> tuple[KudosView, ...]:
        return self.given + self.pending


@dataclass(frozen=True)
class ParsedKudos:
    """`/kudos` text as Slack sends it (escaped; users, groups and channels as links)."""

    receivers: tuple[str, ...]
    groups: tuple[str, ...]
    reason: str
    tags: tuple[str, ...] = field(default_factory=tuple)


def normal_tags(tags: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.lower().lstrip("#")[:TAG_MAX] for t in tags if t.strip("#")))


def parse_command(text: str) -> ParsedKudos:
    """`<@U1|ana> <!subteam^S1|@sre> for the failover #reliability <#C1|ops>` → its parts."""
    receivers = tuple(dict.fromkeys(m.group(1) for m in _USER.finditer(text)))
    groups = tuple(dict.fromkeys(m.group(1) for m in _GROUP.finditer(text)))
    # A `#tag` naming a channel arrives as a channel link: read it back as the tag.
    tags = [name for _, name in _CHANNEL.findall(text) if name]
    rest = _LINK.sub(" ", text)
    plain = unescape(rest)
    tags += _TAG.findall(plain)
    reason = " ".join(_TAG.sub(" ", plain).split())
    return ParsedKudos(receivers, groups, reason, normal_tags(tags))


def readable(text: str, names: dict[str, str]) -> str:
    """A message's text with mentions as `@name` (for a reason taken from the message)."""

    def user(match: re.Match[str]) -> str:
        return "@" + (match.group(2) or names.get(match.group(1)) or match.group(1))

    text = _USER.sub(user, text)
    text = _SPECIAL.sub(lambda m: "@" + m.group(1), text)  # shown as words: never a ping
    text = _GROUP.sub(lambda m: m.group(2) or "@group", text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or "channel"), text)
    return " ".join(unescape(_LINK.sub(lambda m: m.group(0)[1:-1].split("|")[-1], text)).split())


def posts_to_channel(community: Community | None) -> bool:
    """Whether a community wants its kudos posted in its channel (its settings' toggle)."""
    return bool(community is not None and (community.settings or {}).get(KUDOS_TO_CHANNEL))


def _view(kudos: Kudos) -> KudosView:
    return KudosView(
        id=kudos.id, giver_id=kudos.giver_id, receiver_id=kudos.receiver_id,
        reason=kudos.reason, tags=tuple(kudos.tags.split()), source=kudos.source,
        status=kudos.status, channel_id=kudos.channel_id, permalink=kudos.permalink,
        visibility=kudos.visibility, given_at=kudos.given_at,
    )  # fmt: skip


def local_day(now: datetime, timezone: str) -> tuple[str, datetime]:
    """The giver's calendar day at `now`, and when it ends (their next midnight, aware)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
    return local.date().isoformat(), midnight


async def allowance_of(uow: UnitOfWork, giver_id: str, timezone: str | None = None) -> Allowance:
    """A giver's allowance left today, on their own calendar."""
    rules = await settings.kudos_settings_in_transaction(uow)
    if timezone is None:
        timezone = await member_cache.timezone_of(uow, giver_id)
    day, resets_at = local_day(uow.deps.clock.now(), timezone)
    workspace = await uow.workspace()
    used = await queries.given_on(await uow.session(), workspace.id, giver_id, day)
    return Allowance(rules.allowance, max(0, rules.allowance - used), resets_at, timezone)


def _verdict(
    user_id: str, giver_id: str, app_user: str | None, found: MemberInfo | None
) -> Skip | None:
    if user_id == giver_id:
        return Skip.SELF
    if user_id == app_user or (found is not None and found.is_bot):
        return Skip.BOT
    if found is not None and found.deleted:
        return Skip.DEACTIVATED
    return None


async def give_kudos(uow: UnitOfWork, ask: KudosAsk) -> Outcome:
    """Apply the rules and store what passes; nothing is stored when the ask is refused."""
    rules = await settings.kudos_settings_in_transaction(uow)
    reason = ask.reason.strip()
    if not ask.receivers and not ask.groups:
        return Outcome(refusal=Refusal.NO_RECIPIENT)
    if len(reason) > REASON_MAX:
        return Outcome(refusal=Refusal.TOO_LONG)
    # A reaction or an inline emoji is for a message: the message is the reason.
    asked = ask.occasion.source in (KudosSource.COMMAND, KudosSource.SHORTCUT)
    if rules.reason_required and asked and not reason:
        return Outcome(refusal=Refusal.NO_REASON)
    workspace = await uow.workspace()
    # User groups: their members from the cache; a group not cached is read after the ack.
    from_groups: list[str] = []
    unread: list[str] = []
    for group_id in ask.groups:
        found = await member_cache.group_members(uow, group_id)
        if found:
            from_groups.extend(found)
        else:
            unread.append(group_id)
    wanted = list(dict.fromkeys([*ask.receivers, *from_groups]))
    if len(wanted) > MAX_RECIPIENTS:
        return Outcome(refusal=Refusal.TOO_MANY)
    known = await member_cache.members(uow, [ask.giver_id, *wanted])
    app_user = uow.installation.bot_user_id
    skipped: list[tuple[str, Skip]] = []
    to_give: list[str] = []
    for user_id in wanted:
        why = _verdict(user_id, ask.giver_id, app_user, known.get(user_id))
        if why is None:
            to_give.append(user_id)
        elif user_id in ask.receivers:  # a group's own bots and the giver go unmentioned
            skipped.append((user_id, why))
    session = await uow.session()
    occasion = ask.occasion
    existing: dict[str, Kudos] = {}
    if occasion.channel_id and occasion.message_ts:
        existing = await queries.for_message(
            session, workspace.id, ask.giver_id, to_give, occasion.channel_id, occasion.message_ts
        )
        again = [u for u in to_give if u in existing and existing[u].status in queries.COUNTED]
        skipped += [(u, Skip.ALREADY) for u in again]
        to_give = [u for u in to_give if u not in again]
    giver = known.get(ask.giver_id)
    timezone = member_cache.valid_zone(giver.timezone if giver else None)
    timezone = timezone or member_cache.valid_zone(uow.deps.settings.doughnut_timezone) or "UTC"
    allowance = await allowance_of(uow, ask.giver_id, timezone)
    if len(to_give) > allowance.left:
        group_size = len(from_groups) if ask.groups else 0
        return Outcome(
            refusal=Refusal.ALLOWANCE, allowance=allowance, skipped=tuple(skipped),
            group_size=group_size,
        )  # fmt: skip
    community = None
    if occasion.channel_id:
        community = await community_queries.community_in_channel(
            session, workspace.id, occasion.channel_id
        )
    visibility = occasion.visibility
    if visibility is Visibility.UNKNOWN and community is not None:
        visibility = Visibility.PRIVATE if community.is_private else Visibility.PUBLIC
    if visibility is Visibility.UNKNOWN and occasion.channel_id:
        # What Slack said about this channel for earlier kudos (asked after their ack).
        visibility = await queries.known_visibility(session, workspace.id, occasion.channel_id)
    now = uow.deps.clock.now()
    day, _ = local_day(now, allowance.timezone)
    given: list[KudosView] = []
    pending: list[KudosView] = []
    announcements: list[Announcement] = []
    for user_id in to_give:
        status = KudosStatus.GIVEN if user_id in known else KudosStatus.PENDING
        row = existing.get(user_id)
        if row is not None:  # undone before: given again (the unique key stays one row)
            row.status, row.reason, row.tags = status, reason, " ".join(ask.tags)
            row.given_at, row.local_day, row.undone_at, row.source = now, day, None, occasion.source
            await session.flush()
            view = _view(row)
        else:
            values = {
                "workspace_id": workspace.id, "community_id": community.id if community else None,
                "giver_id": ask.giver_id, "receiver_id": user_id, "reason": reason,
                "tags": " ".join(ask.tags), "source": occasion.source, "status": status,
                "channel_id": occasion.channel_id, "message_ts": occasion.message_ts,
                "permalink": occasion.permalink, "visibility": visibility, "given_at": now,
                "local_day": day,
            }  # fmt: skip
            kudos_id = await queries.add_kudos(session, values, ask.tags)
            view = KudosView(
                id=kudos_id, giver_id=ask.giver_id, receiver_id=user_id, reason=reason,
                tags=ask.tags, source=occasion.source, status=status,
                channel_id=occasion.channel_id, permalink=occasion.permalink,
                visibility=visibility, given_at=now,
            )  # fmt: skip
        (given if status is KudosStatus.GIVEN else pending).append(view)
        if status is KudosStatus.GIVEN:
            announcements.append(_announcement(view, community))
    left = Allowance(allowance.allowance, allowance.left - len(to_give), allowance.resets_at,
                     allowance.timezone)  # fmt: skip
    return Outcome(
        given=tuple(given), pending=tuple(pending), skipped=tuple(skipped), allowance=left,
        reason=reason, groups_to_read=tuple(unread), announcements=tuple(announcements),
    )  # fmt: skip


def _announcement(kudos: KudosView, community: Community | None) -> Announcement:
    """The recipient's DM; the community's channel too when it wants it and may see it."""
    public = kudos.visibility is Visibility.PUBLIC
    post_to = community.channel_id if community and posts_to_channel(community) and public else None
    return Announcement(kudos, post_to)


# ---- Undo, and a reaction taken back -------------------------------------------------------


class UndoVerdict(enum.Enum):
    DONE = "done"
    NOT_FOUND = "not_found"
    NOT_GIVER = "not_giver"
    TOO_LATE = "too_late"


async def undo_kudos(uow: UnitOfWork, kudos_ids: list[int], user_id: str) -> UndoVerdict:
    """The giver takes kudos back within UNDO_WINDOW of giving them."""
    workspace = await uow.workspace()
    found = [
        k
        for k in await queries.kudos_by_ids(await uow.session(), workspace.id, kudos_ids)
        if k.status in queries.COUNTED
    ]
    if not found:
        return UndoVerdict.NOT_FOUND
    if any(k.giver_id != user_id for k in found):
        return UndoVerdict.NOT_GIVER
    now = uow.deps.clock.now()
    if any(now - k.given_at > UNDO_WINDOW for k in found):
        return UndoVerdict.TOO_LATE
    for kudos in found:
        queries.mark_undone(kudos, now)
    return UndoVerdict.DONE


async def reaction_removed(
    uow: UnitOfWork, giver_id: str, receiver_id: str, channel_id: str, message_ts: str
) -> bool:
    """The kudos emoji taken off a message within UNDO_WINDOW takes the kudos back."""
    workspace = await uow.workspace()
    found = await queries.for_message(
        await uow.session(), workspace.id, giver_id, [receiver_id], channel_id, message_ts
    )
    kudos = found.get(receiver_id)
    now = uow.deps.clock.now()
    if kudos is None or kudos.source is not KudosSource.REACTION:
        return False
    if kudos.status not in queries.COUNTED or now - kudos.given_at > UNDO_WINDOW:
        return False
    queries.mark_undone(kudos, now)
    return True


# ---- After the ack: pending receivers, what Slack says about the source ----------------------


@dataclass(frozen=True)
class Settled:
    announcements: tuple[Announcement, ...]
    refused: tuple[tuple[KudosView, Skip], ...]


async def settle_pending(
    uow: UnitOfWork, looked_up: dict[str, dict[str, Any] | None | Skip], kudos_ids: list[int]
) -> Settled:
    """Pending kudos once Slack said who their receivers are (a user object, None: unknown)."""
    workspace = await uow.workspace()
    session = await uow.session()
    given: list[Announcement] = []
    refused: list[tuple[KudosView, Skip]] = []
    for kudos in await queries.kudos_by_ids(session, workspace.id, kudos_ids):
        if kudos.status is not KudosStatus.PENDING:
            continue  # undone meanwhile
        user = looked_up.get(kudos.receiver_id)
        why: Skip | None
        if isinstance(user, Skip):
            why = user
        elif user is None:
            why = Skip.UNKNOWN
        elif member_cache.is_external(user, uow.installation):
            why = Skip.EXTERNAL
        else:
            await member_cache.remember_user(uow, user)
            row = member_cache.member_row(user, uow.installation) or {}
            found = MemberInfo(
                user_id=kudos.receiver_id, name=row.get("name", ""), timezone=None,
                is_bot=bool(row.get("is_bot")), deleted=bool(row.get("deleted")),
                is_admin=False, is_owner=False, is_restricted=False,
            )  # fmt: skip
            why = _verdict(kudos.receiver_id, kudos.giver_id, uow.installation.bot_user_id, found)
        if why is None:
            kudos.status = KudosStatus.GIVEN
            await session.flush()
            view = _view(kudos)
            community = None
            if kudos.channel_id:
                community = await community_queries.community_in_channel(
                    session, workspace.id, kudos.channel_id
                )
            given.append(_announcement(view, community))
        else:
            kudos.status = KudosStatus.REFUSED
            kudos.refusal = str(why)[:200]
            await session.flush()
            view = _view(kudos)
            refused.append((view, why))
    return Settled(tuple(given), tuple(refused))


async def pending_receivers(uow: UnitOfWork, kudos_ids: list[int]) -> list[str]:
    """Who the still-pending kudos among `kudos_ids` are for (a read)."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return []
        found = await queries.kudos_by_ids(session, workspace.id, kudos_ids)
        return [k.receiver_id for k in found if k.status is KudosStatus.PENDING]


async def receivers_of(uow: UnitOfWork, kudos_ids: list[int]) -> list[str]:
    workspace = await uow.workspace()
    found = await queries.kudos_by_ids(await uow.session(), workspace.id, kudos_ids)
    return list(dict.fromkeys(k.receiver_id for k in found))


async def source_known(
    uow: UnitOfWork,
    channel_id: str,
    visibility: Visibility | None,
    message_ts: str | None = None,
    permalink: str | None = None,
) -> None:
    """Keep what Slack said after the ack: the channel's kind, the message's permalink."""
    workspace = await uow.workspace()
    session = await uow.session()
    if visibility is not None:
        await queries.resolve_visibility(session, workspace.id, channel_id, visibility)
    if message_ts and permalink:
        await queries.set_permalink(session, workspace.id, channel_id, message_ts, permalink)


# ---- The Home tab ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeKudos:
    received: tuple[KudosView, ...]
    total: int
    allowance: Allowance


async def home_kudos(uow: UnitOfWork, user_id: str, limit: int = 5) -> HomeKudos:
    """A member's recent kudos received (their own Home: private reasons shown) and allowance."""
    workspace = await uow.workspace()
    session = await uow.session()
    recent = await queries.received(session, workspace.id, user_id, limit)
    total = await queries.received_count(session, workspace.id, user_id)
    return HomeKudos(tuple(_view(k) for k in recent), total, await allowance_of(uow, user_id))


async def names_of(uow: UnitOfWork, user_ids: list[str]) -> dict[str, str]:
    """Display names from the cache (for a reason taken from a message)."""
    return {u: m.name for u, m in (await member_cache.members(uow, user_ids)).items() if m.name}
