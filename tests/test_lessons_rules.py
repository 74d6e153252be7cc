"""Lesson rules through the service, without Slack: a valid lesson, its lifecycle, who decides
(and that it is recorded), "I used this", publishing, and the similar-lesson notice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from bot.core import lessons
from bot.core.communities import SetupForm, save_setup
from bot.core.lessons import LessonForm, LessonSource, Verdict, Viewer
from bot.tenancy import Installation
from bot.unit_of_work import UnitOfWork
from storage.models import DecisionKind, LessonStatus, Visibility
from tests.conftest import START, TEAM

ANA, BEN, CAL, DAN = "U0ANA", "U0BEN", "U0CAL", "U0DAN"  # author, reviewer, coordinator, member
SRE, OPS, SECRET = "C0SRE", "C0OPS", "G0SECRET"
OTHER_TEAM = replace(TEAM, team_id="T0OTHER")


async def community(open_uow: Callable[..., UnitOfWork]) -> int:
    work = open_uow()
    form = SetupForm(name="SRE", description="", timezone="UTC", coordinators=[CAL],
                     reviewers=[BEN])  # fmt: skip
    saved = await save_setup(work, CAL, SRE, form, editing=False, is_private=False)
    await work.finish(ok=True)
    return saved.community.id


async def capture(
    open_uow: Callable[..., UnitOfWork],
    title: str = "Confirm the rollback plan before a Friday deploy",
    next_time: str = "Rehearse the rollback steps before every deploy.",
    *,
    community_id: int | None = None,
    channel: str = SRE,
    visibility: Visibility = Visibility.PUBLIC,
    tags: tuple[str, ...] = ("deploys",),
    installation: Installation = TEAM,
) -> lessons.Captured:
    work = open_uow(installation)
    captured = await lessons.capture_lesson(
        work,
        LessonForm(title=title, next_time=next_time, tags=tags, community_id=community_id),
        LessonSource(author_id=ANA, channel_id=channel, visibility=visibility),
    )
    await work.finish(ok=True)
    return captured


async def run(open_uow: Callable[..., UnitOfWork], action: Callable[..., object], *args: object):  # type: ignore[no-untyped-def]
    """One request: the action, then commit."""
    work = open_uow()
    outcome = await action(work, *args)  # type: ignore[misc]
    await work.finish(ok=True)
    return outcome


# ---- A valid lesson ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (LessonForm(title="  ", next_time="Do it."), "title"),
        (LessonForm(title="x" * 151, next_time="Do it."), "title"),
        (LessonForm(title="Fine", next_time=" "), "next_time"),
        (LessonForm(title="Fine", next_time="x" * 3001), "next_time"),
        (LessonForm(title="Fine", next_time="Do it.", why="x" * 3001), "why"),
        (LessonForm(title="Fine", next_time="Do it.", tags=("x" * 65,)), "tags"),
    ],
)
def test_a_lesson_needs_a_title_and_a_recommendation_within_limits(
    form: LessonForm, field: str
) -> None:
    assert list(lessons.validate_lesson(form)) == [field]


def test_limits_are_inclusive() -> None:
    form = LessonForm(title="x" * 150, next_time="y" * 3000, expected="z" * 3000)
    assert lessons.validate_lesson(form) == {}


async def test_an_invalid_lesson_stores_nothing(open_uow: Callable[..., UnitOfWork]) -> None:
    refused = await capture(open_uow, title="")
    assert not refused.saved and "title" in refused.errors

    page = await run(open_uow, lessons.find_lessons, "status:captured", Viewer(ANA, SRE))
    assert page.lessons == ()


# ---- Lifecycle and accountability --------------------------------------------------------------


async def test_a_reviewer_validates_with_a_note_and_it_is_recorded(
    open_uow: Callable[..., UnitOfWork],
) -> None:
    sre = await community(open_uow)
    lesson = (await capture(open_uow, community_id=sre)).lesson
    assert lesson is not None and lesson.status is LessonStatus.CAPTURED

    no_note = await run(open_uow, lessons.validate, lesson.id, Viewer(BEN, SRE), "  ")
    member = await run(open_uow, lessons.validate, lesson.id, Viewer(DAN, SRE), "Looks good")
    author = await run(open_uow, lessons.validate, lesson.id, Viewer(ANA, SRE), "Mine is good")
    assert (no_note.verdict, member.verdict, author.verdict) == (
        Verdict.NOTE_REQUIRED, Verdict.NOT_ALLOWED, Verdict.NOT_ALLOWED,
    )  # fmt: skip
    assert (await run(open_uow, lessons.get_lesson, lesson.id, Viewer(DAN))).status == "captured"

    done = await run(
        open_uow, lessons.validate, lesson.id, Viewer(BEN, SRE), "Any team deploying on Fridays"
    )
    assert done.done and done.lesson.status is LessonStatus.VALIDATED
    again = await run(open_uow, lessons.validate, lesson.id, Viewer(CAL, SRE), "Again")
    assert again.verdict is Verdict.ALREADY

    history = await run(open_uow, lessons.decisions, lesson.id)
    assert [(d.kind, d.by_user, d.note, d.decided_at) for d in history] == [
        (DecisionKind.VALIDATE, BEN, "Any team deploying on Fridays", START)
    ]


async def test_needs_work_goes_back_to_captured_and_retire_hides_it(
    open_uow: Callable[..., UnitOfWork],
) -> None:
    sre = await community(open_uow)
    lesson = (await capture(open_uow, community_id=sre)).lesson
    assert lesson is not None
    await run(open_uow, lessons.validate, lesson.id, Viewer(BEN, SRE), "All teams")

    back = await run(
        open_uow, lessons.needs_work, lesson.id, Viewer(CAL, SRE), "Say which tool you used"
    )
    assert back.done and back.lesson.status is LessonStatus.CAPTURED

    no_reason = await run(open_uow, lessons.retire, lesson.id, Viewer(BEN, SRE), "")
    assert no_reason.verdict is Verdict.NOTE_REQUIRED
    retired = await run(open_uow, lessons.retire, lesson.id, Viewer(BEN, SRE), "We use Argo now")
    assert retired.done and retired.lesson.status is LessonStatus.RETIRED
    revived = await run(open_uow, lessons.validate, lesson.id, Viewer(BEN, SRE), "Back")
    assert revived.verdict is Verdict.ALREADY

    viewer = Viewer(DAN, OPS)
    assert (await run(open_uow, lessons.find_lessons, "rollback", viewer)).lessons == ()
    found = await run(open_uow, lessons.find_lessons, "rollback status:retired", viewer)
    assert [hit.id for hit in found.lessons] == [lesson.id]

    history = await run(open_uow, lessons.decisions, lesson.id)
    assert [(d.kind, d.by_user) for d in history] == [
        (DecisionKind.VALIDATE, BEN), (DecisionKind.NEEDS_WORK, CAL), (DecisionKind.RETIRE, BEN),
    ]  # fmt: skip


async def test_nobody_reviews_a_lesson_outside_a_community(
    open_uow: Callable[..., UnitOfWork],
) -> None:
    await community(open_uow)
    lesson = (await capture(open_uow)).lesson
    assert lesson is not None

    outcome = await run(open_uow, lessons.validate, lesson.id, Viewer(BEN, SRE), "Fine")

    assert outcome.verdict is Verdict.NO_COMMUNITY


async def test_another_workspace_cannot_touch_a_lesson(
    open_uow: Callable[..., UnitOfWork],
) -> None:
    sre = await community(open_uow)
    lesson = (await capture(open_uow, community_id=sre)).lesson
    assert lesson is not None

    work = open_uow(OTHER_TEAM)
    outcome = await lessons.validate(work, lesson.id, Viewer(BEN, SRE), "Fine")
    used = await lessons.mark_used(work, lesson.id, Viewer(BEN, SRE))
    await work.finish(ok=True)

    assert (outcome.verdict, used.verdict) == (Verdict.NOT_FOUND, Verdict.NOT_FOUND)
    assert (await run(open_uow, lessons.get_lesson, lesson.id, Viewer(BEN))).used_by == 0


# ---- "I used this" -----------------------------------------------------------------------------


async def test_i_used_this_counts_distinct_people_and_channels(
    open_uow: Callable[..., UnitOfWork],
) -> None:
    lesson = (await capture(open_uow)).lesson
    assert lesson is not None

    first = await run(open_uow, lessons.mark_used, lesson.id, Viewer(BEN, SRE), "our deploys")
    twice = await run(open_uow, lessons.mark_used, lesson.id, Viewer(BEN, OPS), "again")
    await run(open_uow, lessons.mark_used, lesson.id, Viewer(CAL, OPS))
    await run(open_uow, lessons.mark_used, lesson.id, Viewer(DAN, OPS))
    too_long = await run(open_uow, lessons.mark_used, lesson.id, Viewer(ANA, SRE), "x" * 301)

    assert first.done and twice.verdict is Verdict.ALREADY
    assert too_long.verdict is Verdict.NOTE_TOO_LONG
    shown = await run(open_uow, lessons.get_lesson, lesson.id, Viewer(DAN))
    assert (shown.used_by, shown.used_in) == (3, 2)

    taken_back = await run(open_uow, lessons.unmark_used, lesson.id, Viewer(CAL, OPS))
    not_there = await run(open_uow, lessons.unmark_used, lesson.id, Viewer(CAL, OPS))
    assert taken_back.done and not_there.verdict is Verdict.ALREADY
    shown = await run(open_uow, lessons.get_lesson, lesson.id, Viewer(DAN))
    assert (shown.used_by, shown.used_in) == (2, 2)


async def test_a_private_lesson_cannot_be_used_or_seen_elsewhere(
    open_uow: Callable[..., UnitOfWork],
) -> None:
    lesson = (await capture(open_uow, channel=SECRET, visibility=Visibility.PRIVATE)).lesson
    assert lesson is not None

    elsewhere = await run(open_uow, lessons.mark_used, lesson.id, Viewer(BEN, OPS))
    there = await run(open_uow, lessons.mark_used, lesson.id, Viewer(BEN, SECRET))

    assert elsewhere.verdict is Verdict.NOT_FOUND and there.done
    assert await run(open_uow, lessons.get_lesson, lesson.id, Viewer(BEN, OPS)) is None
    assert await run(open_uow, lessons.get_lesson, lesson.id, Viewer(ANA)) is not None


# ---- Similar lessons ---------------------------------------------------------------------------


async def test_capture_names_a_close_lesson_and_not_an_unrelated_one(
    open_uow: Callable[..., UnitOfWork],
) -> None:
    first = (await capture(open_uow)).lesson
    await capture(open_uow, "Use scorecards in interviews", "Same questions for everyone.",
                  tags=("hiring",))  # fmt: skip

    near = await capture(
        open_uow, "Rehearse rollbacks before deploying on Friday",
        "Always confirm the rollback plan before a deploy.",
    )  # fmt: skip
    other = await capture(open_uow, "Book rooms early", "Book the offsite rooms in January.",
                          tags=("events",))  # fmt: skip

    assert first is not None
    assert [s.id for s in near.similar] == [first.id]
    assert other.similar == ()


async def test_a_private_lesson_is_not_named_as_similar_elsewhere(
    open_uow: Callable[..., UnitOfWork],
) -> None:
    await capture(open_uow, channel=SECRET, visibility=Visibility.PRIVATE)
    work = open_uow()
    draft = LessonForm(title="Confirm the rollback plan before deploying on Friday",
                       next_time="Rehearse rollback steps before each deploy.")  # fmt: skip

    elsewhere = await lessons.similar_lessons(work, draft, Viewer(BEN, OPS))
    there = await lessons.similar_lessons(work, draft, Viewer(BEN, SECRET))

    assert elsewhere == () and len(there) == 1
