"""The member cache over the wire: filled from users.list, kept by user and user group events."""

from __future__ import annotations

from sqlalchemy import select

from bot.core import members
from storage.models import Member, UserGroupMember
from tests.conftest import Bot, fill_member_cache, unit_of_work


async def cached(bot: Bot) -> dict[str, Member]:
    async with bot.db.reading() as session:
        found = list(await session.scalars(select(Member)))
        for member in found:
            session.expunge(member)
        return {m.user_id: m for m in found}


async def group_rows(bot: Bot, group_id: str) -> set[str]:
    async with bot.db.reading() as session:
        rows = await session.scalars(
            select(UserGroupMember.user_id).where(UserGroupMember.group_id == group_id)
        )
        return set(rows)


async def test_the_cache_is_filled_from_every_page_of_users_list_without_strangers(
    bot: Bot,
) -> None:
    for n in range(230):  # more than one page of 200
        bot.state.add_user(f"member{n:03d}", tz="America/Chicago")
    admin = bot.state.add_user("olga", tz="Asia/Tokyo")
    admin.is_owner = True
    guest = bot.state.add_user("gus")
    guest.is_restricted = True
    stranger = bot.state.add_user("xavier")
    stranger.external_team_id = "T0OTHERORG"

    await fill_member_cache(bot)

    found = await cached(bot)
    pages = bot.emu.calls_to("users.list")
    assert len(pages) == 2 and all(c.args.get("limit") in ("200", 200) for c in pages)
    assert len(found) == len(bot.state.users) - 1  # everyone but the stranger
    assert stranger.id not in found
    alice = found[bot.user("alice")]
    assert (alice.name, alice.timezone, alice.is_bot) == ("alice", "Europe/Paris", False)
    assert found[bot.state.bot_user_id].is_bot
    assert found[admin.id].is_owner and found[guest.id].is_restricted


async def test_user_change_and_team_join_keep_the_cache(bot: Bot) -> None:
    await fill_member_cache(bot)
    bob = bot.user("bob")

    await bot.driver.event(bot.emu.rename(bob, "bobby", tz="Asia/Tokyo"))
    await bot.driver.event(bot.emu.new_member("nina", tz="America/Lima"))
    await bot.driver.event(bot.emu.deactivate(bot.user("carol")))
    outsider = bot.state.add_user("xena")
    outsider.external_team_id = "T0OTHERORG"
    await bot.driver.event(bot.emu.rename(outsider.id, "xena"))

    found = await cached(bot)
    assert (found[bob].name, found[bob].timezone) == ("bobby", "Asia/Tokyo")
    nina = bot.user("nina")
    assert found[nina].timezone == "America/Lima"
    assert found[bot.user("carol")].deleted
    assert outsider.id not in found  # Slack Connect members are never stored

    uow = unit_of_work(bot)
    assert await members.timezone_of(uow, nina) == "America/Lima"
    # Not cached: the workspace default (DOUGHNUT_TIMEZONE, Europe/Paris in the tests).
    assert await members.timezone_of(uow, "U0NOBODY01") == "Europe/Paris"
    await uow.finish(ok=True)


async def test_a_user_group_is_read_after_the_ack_then_kept_by_its_events(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    group = bot.state.add_user_group("sre", [alice, bob])

    # Not cached yet: Slack says who changed, the whole group is read after the ack.
    reply = await bot.driver.event(bot.emu.change_group(group, added=[carol]))
    assert reply.status == 200
    await bot.settle()
    assert await group_rows(bot, group) == {alice, bob, carol}
    assert len(bot.emu.calls_to("usergroups.users.list")) == 1

    # Cached: the event alone keeps it.
    await bot.driver.event(bot.emu.change_group(group, removed=[alice]))
    await bot.settle()
    assert await group_rows(bot, group) == {bob, carol}
    assert len(bot.emu.calls_to("usergroups.users.list")) == 1
    uow = unit_of_work(bot)
    assert await members.group_members(uow, group) == sorted([bob, carol])
    await uow.finish(ok=True)

    # Edited whole (subteam_updated carries its members): replaced as Slack says.
    await bot.driver.event(bot.emu.update_group(group, [alice]))
    await bot.settle()
    assert await group_rows(bot, group) == {alice}
    assert len(bot.emu.calls_to("usergroups.users.list")) == 1


async def test_a_retried_user_event_is_applied_once_and_members_are_per_workspace(
    bot: Bot,
) -> None:
    await fill_member_cache(bot)
    event = bot.emu.rename(bot.user("bob"), "robert")
    first = await bot.driver.event(event, event_id="Ev0USER01")
    again = await bot.driver.event(event, event_id="Ev0USER01", retry_num=1)
    assert first.status == again.status == 200

    async with bot.db.reading() as session:
        workspaces = set(await session.scalars(select(Member.workspace_id)))
    assert len(workspaces) == 1
    assert (await cached(bot))[bot.user("bob")].name == "robert"
