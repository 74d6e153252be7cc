"""`doughnut export lessons`: the book of knowledge as Markdown (an index by tag) or JSON lines,
run as the real command in a subprocess against the bot's database (both databases)."""

from __future__ import annotations

import json
from pathlib import Path

from bot.core import lessons
from storage.models import Visibility
from storage.workspaces import get_or_create_workspace
from tests.conftest import (
    Bot,
    capture,
    clean_env,
    doughnut,
    lesson_community,
    run_cli,
    unit_of_work,
)


async def export(bot: Bot, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """`doughnut export lessons` on the bot's database, in this process."""
    url = bot.db.engine.url.render_as_string(hide_password=False)
    return await run_cli("export", "lessons", "--db", url, *args)


async def export_subprocess(bot: Bot, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """The same, as the real command in its own process."""
    url = bot.db.engine.url.render_as_string(hide_password=False)
    return await doughnut("export", "lessons", "--db", url, *args,
                          env=clean_env(tmp_path), cwd=tmp_path)  # fmt: skip


async def book(bot: Bot) -> dict[str, int]:
    """Alice's SRE community: a validated practice, a captured lesson, a private one, a retired
    one, and a lesson outside any community."""
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    secret = bot.state.add_channel("secret", private=True, members=[alice]).id
    sre = await lesson_community(bot, general, alice, bob)
    made = {
        "practice": await capture(bot, alice, general, "Rehearse [the] rollback", community_id=sre,
                                  tags=("deploys", "on-call"), why="Friday *deploys* hurt"),
        "captured": await capture(bot, alice, general, "Page the on-call twice", community_id=sre,
                                  tags=("on-call",)),
        "private": await capture(bot, alice, secret, "Secret outage", community_id=sre,
                                 visibility=Visibility.PRIVATE),
        "retired": await capture(bot, alice, general, "Old runbook", community_id=sre),
        "loose": await capture(bot, bob, general, "Write the agenda first", tags=()),
    }  # fmt: skip
    uow = unit_of_work(bot)
    viewer = lessons.Viewer(bob, general)
    await lessons.validate(uow, made["practice"].id, viewer, "Every team that deploys")
    await lessons.retire(uow, made["retired"].id, viewer, "Superseded")
    await uow.finish(ok=True)
    return {name: lesson.id for name, lesson in made.items()}


async def test_markdown_has_an_index_by_tag_and_leaves_private_lessons_out(
    bot: Bot, tmp_path: Path
) -> None:
    ids = await book(bot)
    code, out, err = await export_subprocess(bot, tmp_path)

    assert code == 0, err
    index = out.split("## Index by tag", 1)[1].split("## Lessons", 1)[0]
    practice, captured = f"(#lesson-{ids['practice']})", f"(#lesson-{ids['captured']})"
    deploys = next(line for line in index.splitlines() if "`#deploys`" in line)
    on_call = next(line for line in index.splitlines() if "`#on-call`" in line)
    assert practice in deploys and captured not in deploys
    assert practice in on_call and captured in on_call
    assert "Rehearse \\[the\\] rollback" in deploys  # link text stays a link
    assert f"(#lesson-{ids['loose']})" in next(x for x in index.splitlines() if "untagged" in x)
    assert f'<a id="lesson-{ids["practice"]}"></a>' in out
    assert "### Rehearse [the] rollback" in out and "Friday *deploys* hurt" in out
    assert "applies to: Every team that deploys" in out
    assert "Secret outage" not in out  # private, never published
    assert "Old runbook" not in out  # retired: only with --status retired


async def test_json_lines_parse_and_filter_by_status_community_and_private(
    bot: Bot, tmp_path: Path
) -> None:
    ids = await book(bot)

    code, out, err = await export(bot, tmp_path, "--format", "json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["id"] for r in rows} == {ids["practice"], ids["captured"], ids["loose"]}
    practice = next(r for r in rows if r["id"] == ids["practice"])
    assert practice["title"] == "Rehearse [the] rollback"
    assert practice["tags"] == ["deploys", "on-call"] and practice["community"] == "SRE"
    assert practice["status"] == "validated" and practice["applies_to"] == "Every team that deploys"

    code, out, _ = await export(bot, tmp_path, "--format", "json", "--status", "validated")
    assert code == 0 and [json.loads(x)["id"] for x in out.splitlines()] == [ids["practice"]]

    code, out, _ = await export(bot, tmp_path, "--format", "json", "--community", "sre",
                                "--include-private")  # fmt: skip
    found = {json.loads(x)["id"] for x in out.splitlines()}
    assert found == {ids["practice"], ids["captured"], ids["private"]}

    code, out, _ = await export(bot, tmp_path, "--format", "json", "--status", "retired")
    assert code == 0 and [json.loads(x)["title"] for x in out.splitlines()] == ["Old runbook"]

    code, out, err = await export(bot, tmp_path, "--community", "Nope")
    assert code == 2 and out == "" and "SRE" in err and len(err.strip().splitlines()) == 1


async def test_output_file_and_the_team_rule_with_several_workspaces(
    bot: Bot, tmp_path: Path
) -> None:
    ids = await book(bot)
    target = tmp_path / "book.md"
    code, out, err = await export(bot, tmp_path, "--output", str(target))
    assert code == 0 and out == "", err
    assert f"lesson-{ids['practice']}" in target.read_text()

    async with bot.db.transaction() as session:
        await get_or_create_workspace(
            session, key="T0OTHER", team_id="T0OTHER", enterprise_id=None,
            is_enterprise_install=False, now=bot.clock.now(),
        )  # fmt: skip
    code, out, err = await export(bot, tmp_path)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "--team" in err and "T0OTHER" in err and bot.state.team_id in err

    code, out, err = await export(bot, tmp_path, "--team", bot.state.team_id)
    assert code == 0 and "Rehearse [the] rollback" in out, err
    code, out, _ = await export(bot, tmp_path, "--team", "T0OTHER")
    assert code == 0 and "0 lessons" in out and "Rehearse" not in out


async def test_a_database_without_a_workspace_says_so_in_one_line(bot: Bot, tmp_path: Path) -> None:
    code, out, err = await export(bot, tmp_path, "--format", "json")

    assert code == 1 and out == ""
    assert err.strip() == "No workspace in this database yet: nothing to export."
