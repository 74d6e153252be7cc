"""What the lesson surfaces call once a lesson is captured or validated: offer it as the
answer to the open gaps it matches, or link it to the gap it was written for ("I can answer").

Kept apart from the gaps' listeners (no import of `handlers.lessons` or `handlers.book`), so
those can import it without a cycle.
"""

from __future__ import annotations

from bot.core import gaps
from bot.core.gaps import Linked, Verdict
from bot.core.lessons import LessonView
from bot.unit_of_work import UnitOfWork
from handlers.gaps import views


async def tell_answered(uow: UnitOfWork, linked: Linked) -> None:
    """The raiser and each voter, once per (gap, lesson), by DM through the outbox."""
    if linked.verdict is not Verdict.DONE or linked.gap is None or linked.lesson is None:
        return
    message = views.answered_dm(linked.gap, linked.lesson)
    for user_id in linked.told:
        await uow.deliver("chat.postMessage", {"channel": user_id, **message}, channel=user_id)


async def lesson_saved(uow: UnitOfWork, lesson: LessonView, *, gap_id: int | None = None) -> None:
    """A lesson was captured (for a gap, maybe) or validated: link it, offer it."""
    if gap_id is not None:
        await tell_answered(uow, await gaps.link_answer(uow, gap_id, lesson.id, lesson.author_id))
    for offer in await gaps.offer_answers(uow, lesson.id):
        dm = views.offer_dm(offer)
        author = offer.lesson.author_id
        await uow.deliver("chat.postMessage", {"channel": author, **dm}, channel=author)
