"""Roles over the wire: `/doughnut roles [all]` with since-when and who granted each role,
several sponsors and reviewers, one member in several communities; the support team granted
and revoked with `/doughnut roles grant-support` and on the command line (both databases)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.emulator import Message
from storage.models import Role, SupportGrant
from tests.conftest import (
    START,
    Bot,
    community_with,
    open_setup,
    run_cli,
    seed_member,
    setup_values,
    workspace_id,
)

HOSTILE = "<!channel> & <@U0HOSTILE>"


async def doughnut(bot: Bot, user: str, channel: str, text: str) -> Message:
    reply = await bot.driver.command(user, channel, "/doughnut", text)
    assert reply.status == 200
    await bot.settle()  # `stats all` answers after the ack, through the outbox
    return bot.state.ephemerals_for(user, channel)[-1]


async def grants(bot: Bot) -> list[tuple[str, str]]:
    async with bot.db.reading() as session:
        rows = await session.scalars(select(SupportGrant).order_by(SupportGrant.user_id))
        return [(g.user_id, g.granted_by) for g in rows]


async def test_roles_lists_each_holder_since_when_and_by_whom(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    dave = bot.state.add_user("dave").id
    general = bot.channel("general")
    modal = await open_setup(bot, alice, general)
    values = setup_values(coordinators=[alice], reviewers=[bob, carol], sponsors=[carol])
    assert (await bot.driver.view_submission(alice, modal, values)).status == 200
    # Three days later alice edits it: carol stops reviewing, dave sponsors too. Who stays
    # keeps their since-when.
    bot.clock.advance(timedelta(days=3))
    modal = await open_setup(bot, alice, general)
    values = setup_values(coordinators=[alice], reviewers=[bob], sponsors=[carol, dave])
    assert (await bot.driver.view_submission(alice, modal, values)).status == 200

    answer = await doughnut(bot, carol, general, "roles")

    first, later = "since 2026-12-01", "since 2026-12-04"
    assert answer.text == (
        f"*Site Reliability* (<#{general}>)\n"
        f"Coordinators: <@{alice}> ({first}, by <@{alice}>)\n"
        f"Reviewers: <@{bob}> ({first}, by <@{alice}>)\n"
        f"Sponsors: <@{carol}> ({first}, by <@{alice}>), <@{dave}> ({later}, by <@{alice}>)"
    )
    async with bot.db.reading() as session:
        rows = list(await session.scalars(select(Role).order_by(Role.role, Role.user_id)))
    assert {(r.user_id, r.role.value, r.since, r.granted_by) for r in rows} == {
        (alice, "coordinator", START, alice),
        (bob, "reviewer", START, alice),
        (carol, "sponsor", START, alice),
        (dave, "sponsor", START + timedelta(days=3), alice),
    }


async def test_a_member_holds_roles_in_several_communities_and_all_lists_them(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general, random = bot.channel("general"), bot.channel("random")
    secret = bot.state.add_channel("secret", private=True, members=[carol]).id
    await community_with(bot, general, "SRE", coordinators=[alice], reviewers=[bob, carol],
                         sponsors=[bob, carol])  # fmt: skip
    await community_with(bot, random, HOSTILE, coordinators=[bob], sponsors=[alice])
    await community_with(bot, secret, "Hidden", coordinators=[carol], is_private=True)

    answer = await doughnut(bot, alice, general, "roles all")

    text = answer.text
    assert f"Reviewers: <@{bob}> (since 2026-12-01, by <@{alice}>), <@{carol}>" in text
    assert f"Sponsors: <@{bob}> (since 2026-12-01, by <@{alice}>), <@{carol}>" in text
    assert f"*&lt;!channel&gt; &amp; &lt;@U0HOSTILE&gt;* (<#{random}>)\nCoordinators: <@{bob}>" in (
        text
    )
    assert f"Sponsors: <@{alice}> (since 2026-12-01, by <@{bob}>)" in text
    assert "<!channel>" not in text and "<!channel>" not in str(answer.blocks)
    assert "Hidden" not in text  # private, and alice holds no role in it
    support = "*Support team*\nWorkspace admins and owners: none known yet\nGranted: nobody yet"
    assert support in text
    assert "Hidden" in (await doughnut(bot, carol, general, "roles all")).text
    elsewhere = bot.state.add_channel("elsewhere", members=[alice]).id
    not_one = await doughnut(bot, alice, elsewhere, "roles")
    assert "This channel is not a community" in not_one.text
    assert "`/doughnut roles all`" in (await doughnut(bot, alice, general, "roles everyone")).text


async def test_the_support_team_grants_and_revokes_it_with_the_command(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    await community_with(bot, general, "SRE", coordinators=[alice])
    await seed_member(bot, carol, is_admin=True, name="carol")  # admin: on the team anyway

    refused = await doughnut(bot, alice, general, f"roles grant-support <@{bob}|bob>")
    assert "Only the support team" in refused.text and await grants(bot) == []
    usage = await doughnut(bot, carol, general, "roles grant-support bob please")
    assert "Name one person: `/doughnut roles grant-support @person`" in usage.text

    granted = await doughnut(bot, carol, general, f"roles grant-support <@{bob}|bob>")
    await bot.settle()

    assert granted.text.startswith(f"<@{bob}> is now on the support team")
    assert await grants(bot) == [(bob, carol)]
    [told] = [m for m in bot.state.messages[bot.state.dm_channel(bob).id] if m.user != bob]
    assert told.text.startswith(f"<@{carol}> added you to Doughnut's support team")
    assert "1 community," in (await doughnut(bot, bob, general, "stats all")).text
    again = await doughnut(bot, bob, general, f"roles grant-support <@{bob}>")
    assert "already on the support team: nothing changed" in again.text
    listed = await doughnut(bot, alice, general, "roles all")
    assert f"Granted: <@{bob}> (since 2026-12-01, by <@{carol}>)" in listed.text
    assert f"Workspace admins and owners: <@{carol}>" in listed.text

    revoked = await doughnut(bot, carol, general, f"roles revoke-support <@{bob}>")
    assert f"<@{bob}> is no longer on the support team" in revoked.text
    assert await grants(bot) == []
    assert "Only the support team" in (await doughnut(bot, bob, general, "stats all")).text
    admin = await doughnut(bot, carol, general, f"roles revoke-support <@{carol}>")
    assert "is a workspace admin or owner, so stays on the support team" in admin.text
    assert "1 community," in (await doughnut(bot, carol, general, "stats all")).text


async def test_the_support_team_is_granted_on_the_command_line(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    await community_with(bot, general, "SRE", coordinators=[alice])
    await seed_member(bot, bob, name="bob")
    url = bot.db.url.render_as_string(hide_password=False)
    team = bot.state.team_id

    code, out, _ = await run_cli("roles", "grant-support", "@bob", "--db", url)
    assert code == 0 and out.strip() == f"{bob} is now on the support team."
    assert await grants(bot) == [(bob, "cli")]
    listed = await doughnut(bot, alice, general, "roles all")
    assert f"Granted: <@{bob}> (since " in listed.text and "from the command line" in listed.text
    assert "SRE" in (await doughnut(bot, bob, general, "stats all")).text

    await workspace_id(bot.db, bot.clock, "T0OTHER")  # now two workspaces: which one?
    code, _, err = await run_cli("roles", "revoke-support", bob, "--db", url)
    assert code == 2 and "pick one with --workspace" in err and team in err
    assert await grants(bot) == [(bob, "cli")]
    code, out, _ = await run_cli(
        "roles", "revoke-support", f"<@{bob}>", "--workspace", team, "--db", url
    )
    assert code == 0 and out.strip() == f"{bob} is no longer on the support team."
    assert await grants(bot) == []
    code, _, err = await run_cli("roles", "grant-support", "@nobody", "--workspace", team,
                                 "--db", url)  # fmt: skip
    assert code == 2 and "No one person named @nobody" in err
