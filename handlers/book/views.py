"""The book of knowledge's Block Kit: pure builders, frozen dataclasses in, dicts out."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks import (
    Block,
    actions,
    button,
    context,
    divider,
    ephemeral,
    lead_message,
    notice_modal,
    plain,
    section,
    text_input,
)
from bot.core.lessons import (
    NOTE_MAX,
    Answer,
    HomeLessons,
    LessonView,
    Review,
    SearchPage,
    Verdict,
)
from bot.text import channel_link, escape, mention
from handlers.book import ids
from storage.models import DecisionKind, LessonStatus, Visibility
from storage.models.lessons import USE_NOTE_MAX

# A button's value holds at most 2,000 characters: the query travels cut to this.
QUERY_KEPT = 1500
RECOMMENDATION_SHOWN = 600
STATUS_LABEL = {
    LessonStatus.CAPTURED: ":seedling: captured",
    LessonStatus.VALIDATED: ":white_check_mark: validated",
    LessonStatus.RETIRED: ":file_cabinet: retired",
}
NOTHING_FOUND = (
    "Nothing in the book of knowledge matches {what}. Try fewer words or remove a filter "
    "(`#tag`, `status:`, `by:`, `in:`), or capture what you know with `/lesson`."
)
EMPTY_BOOK = (
    "No validated practices yet. Capture what your team learned with `/lesson`, and your "
    "community's reviewers can validate it."
)
REVIEW = {
    ids.VALIDATE_ACTION: DecisionKind.VALIDATE,
    ids.NEEDS_WORK_ACTION: DecisionKind.NEEDS_WORK,
    ids.RETIRE_ACTION: DecisionKind.RETIRE,
}
REVIEW_FORM = {
    DecisionKind.VALIDATE: ("Validate", "Where does it apply?", "Validate",
                            "e.g. “Any team deploying on Fridays”. The author is told."),
    DecisionKind.NEEDS_WORK: ("Needs work", "What should the author change?", "Send",
                              "The author gets this note."),
    DecisionKind.RETIRE: ("Retire", "Why retire it?", "Retire",
                          "e.g. “Superseded by the new deploy pipeline”."),
}  # fmt: skip
DECIDED = {
    DecisionKind.VALIDATE: "validated",
    DecisionKind.NEEDS_WORK: "sent back to its author",
    DecisionKind.RETIRE: "retired",
}
REFUSED = {
    Verdict.NOT_FOUND: "I can't find that lesson (it may be private to another channel).",
    Verdict.NOT_ALLOWED: (
        "Only the reviewers and coordinators of the lesson's community can do this. "
        "Ask one of them (see the community's settings with `/doughnut setup` in its channel)."
    ),
    Verdict.NO_COMMUNITY: (
        "This lesson belongs to no community, so nobody can review it yet. Its author can "
        "capture it again in a community's channel."
    ),
    Verdict.NOTE_REQUIRED: "Add a short note: it is stored with your decision.",
    Verdict.NOTE_TOO_LONG: f"Keep the note under {NOTE_MAX} characters.",
    Verdict.ALREADY: "Nothing to change: the lesson is already in that state.",
}
PUBLISH_REFUSED = {
    Verdict.NOT_ALLOWED: "Only the lesson's author can publish it.",
    Verdict.ALREADY: "This lesson is already visible everywhere.",
    Verdict.NOT_FOUND: REFUSED[Verdict.NOT_FOUND],
}


def _cut(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def query_label(page: SearchPage) -> str:
    """What was searched for, escaped, for the lead and the fallback."""
    query = page.query
    parts = [f"“{escape(_cut(query.words, 100))}”"] if query.words else []
    parts += [f"#{escape(tag)}" for tag in query.tags]
    parts += [f"status:{status.value}" for status in query.statuses]
    parts += [f"by:{mention(user)}" for user in query.authors]
    parts += [f"in:{channel_link(channel)}" for channel in query.channels]
    return " ".join(parts) or "your search"


def used_line(lesson: LessonView) -> str:
    if not lesson.used_by:
        return "not reused yet"
    people = "1 person" if lesson.used_by == 1 else f"{lesson.used_by} people"
    channels = "1 channel" if lesson.used_in == 1 else f"{lesson.used_in} channels"
    return f"used by {people} in {channels}"


def source_link(lesson: LessonView) -> str | None:
    if lesson.permalink and lesson.permalink.startswith("https://"):
        return f"<{escape(lesson.permalink)}|source conversation>"
    if lesson.source_channel_id:
        return f"from {channel_link(lesson.source_channel_id)}"
    return None


def is_private(lesson: LessonView) -> bool:
    return lesson.visibility is not Visibility.PUBLIC and not lesson.published


def lesson_blocks(
    lesson: LessonView, viewer_id: str, *, reviews: frozenset[int] = frozenset()
) -> list[Block]:
    """One lesson: title, recommendation, where it stands, and the buttons the viewer may use."""
    text = f"*{escape(lesson.title)}*\n{escape(_cut(lesson.recommendation, RECOMMENDATION_SHOWN))}"
    facts = [STATUS_LABEL[lesson.status], f"by {mention(lesson.author_id)}"]
    if lesson.tags:
        facts.append(" ".join(f"`#{escape(tag)}`" for tag in lesson.tags))
    facts.append(used_line(lesson))
    link = source_link(lesson)
    if link:
        facts.append(link)
    if is_private(lesson):
        facts.append(":lock: seen only where it was captured")
    blocks = [section(text), context(" · ".join(facts))]
    if lesson.review is not None:
        blocks.append(context(review_line(lesson.review)))
    value = str(lesson.id)
    buttons = [button("I used this", ids.USED_ACTION, value=value)]
    if is_private(lesson) and lesson.author_id == viewer_id:
        buttons.append(button("Publish", ids.PUBLISH_ACTION, value=value))
    if lesson.community_id in reviews and lesson.status is not LessonStatus.RETIRED:
        if lesson.status is LessonStatus.CAPTURED:
            buttons.append(button("Validate", ids.VALIDATE_ACTION, value=value, style="primary"))
        buttons.append(button("Needs work", ids.NEEDS_WORK_ACTION, value=value))
        buttons.append(button("Retire", ids.RETIRE_ACTION, value=value, style="danger"))
    return [*blocks, actions(*buttons)]


REVIEWED = {
    DecisionKind.VALIDATE: "Validated by {who} on {day}: applies to {note}",
    DecisionKind.NEEDS_WORK: "Sent back by {who} on {day}: {note}",
    DecisionKind.RETIRE: "Retired by {who} on {day}: {note}",
}


def review_line(review: Review) -> str:
    """Who decided, when and why: the accountability a practice carries."""
    template = REVIEWED.get(review.kind, "Reviewed by {who} on {day}: {note}")
    note = escape(_cut(review.note, RECOMMENDATION_SHOWN)) or "no note"
    return template.format(who=mention(review.by_user), day=f"{review.at:%Y-%m-%d}", note=note)


def more_value(text: str, offset: int) -> str:
    return json.dumps({"q": text[:QUERY_KEPT], "o": offset})


def read_more_value(value: str) -> tuple[str, int]:
    """The query and offset a More button carries (nothing usable: the first page of nothing)."""
    try:
        data = json.loads(value)
        return str(data["q"]), max(0, int(data["o"]))
    except (ValueError, KeyError, TypeError):
        return "", 0


def results(
    page: SearchPage, text: str, viewer_id: str, reviews: frozenset[int] = frozenset()
) -> dict[str, Any]:
    """A page of `/lessons` answers (an ephemeral body: `text` plus blocks)."""
    blocks: list[Block] = []
    problem = [context(f":warning: {escape(page.query.problem)}")] if page.query.problem else []
    if page.query.is_empty:
        lead = "*Recent validated practices*" if page.lessons else EMPTY_BOOK
        if page.offset:
            lead = f"*Recent validated practices* (from {page.offset + 1})"
    elif page.lessons:
        first = page.offset + 1
        lead = f"*Lessons for {query_label(page)}* ({first}–{page.offset + len(page.lessons)})"
    else:
        lead = NOTHING_FOUND.format(what=query_label(page))
    for lesson in page.lessons:
        blocks += [*lesson_blocks(lesson, viewer_id, reviews=reviews), divider()]
    if page.most_reused:
        blocks.append(section("*Most reused*"))
        for lesson in page.most_reused:
            blocks += lesson_blocks(lesson, viewer_id, reviews=reviews)
    if page.next_offset is not None:
        more = button("More", ids.MORE_ACTION, value=more_value(text, page.next_offset))
        blocks.append(actions(more))
    # The fallback names what was found too, from the same escaped titles.
    titles = "; ".join(f"“{escape(lesson.title)}”" for lesson in page.lessons)
    fallback = f"{lead} {titles}".strip()
    return ephemeral(fallback, [section(lead), *problem, *blocks][:48])


# ---- Modals -----------------------------------------------------------------------------------


def _metadata(lesson_id: int, channel_id: str | None, kind: str = "", home: bool = False) -> str:
    data: dict[str, Any] = {"lesson": lesson_id, "channel": channel_id, "kind": kind}
    if home:
        data["home"] = True
    return json.dumps(data)


def opened_from_home(view: dict[str, Any]) -> bool:
    """Whether a modal was opened from the Home tab (which then wants refreshing)."""
    try:
        return json.loads(view.get("private_metadata") or "{}").get("home") is True
    except (ValueError, AttributeError):
        return False


def read_metadata(view: dict[str, Any]) -> tuple[int | None, str | None, str]:
    """The lesson, the channel the button was in and the decision a modal is about."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
        channel = data.get("channel")
        return int(data["lesson"]), channel if isinstance(channel, str) else None, data["kind"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, None, ""


def review_modal(
    kind: DecisionKind, lesson_id: int, channel_id: str | None, home: bool = False
) -> dict[str, Any]:
    title, label, submit, hint = REVIEW_FORM[kind]
    return {
        "type": "modal",
        "callback_id": ids.REVIEW_VIEW,
        "private_metadata": _metadata(lesson_id, channel_id, kind.value, home),
        "title": plain(title),
        "submit": plain(submit),
        "close": plain("Cancel"),
        "blocks": [
            text_input(ids.NOTE_BLOCK, ids.NOTE_ACTION, label, multiline=True,
                       max_length=NOTE_MAX, hint=hint),
        ],
    }  # fmt: skip


def used_modal(lesson_id: int, channel_id: str | None, home: bool = False) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ids.USED_VIEW,
        "private_metadata": _metadata(lesson_id, channel_id, home=home),
        "title": plain("I used this"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": [
            text_input(ids.NOTE_BLOCK, ids.NOTE_ACTION, "How did it go? (optional)",
                       optional=True, max_length=USE_NOTE_MAX,
                       hint="A short note for the author and the next reader."),
        ],
    }  # fmt: skip


def unuse_modal(lesson_id: int, channel_id: str | None, home: bool = False) -> dict[str, Any]:
    """Clicked again: you already said you used it; take it back?"""
    return {
        "type": "modal",
        "callback_id": ids.UNUSE_VIEW,
        "private_metadata": _metadata(lesson_id, channel_id, home=home),
        "title": plain("I used this"),
        "submit": plain("Remove it"),
        "close": plain("Keep it"),
        "blocks": [section("You already said you used this lesson. Remove your “I used this”?")],
    }


def refusal(verdict: Verdict) -> dict[str, Any]:
    return notice_modal(REFUSED.get(verdict, REFUSED[Verdict.NOT_FOUND]))


def decided_notice(kind: DecisionKind, lesson: LessonView) -> dict[str, Any]:
    return notice_modal(f"Done: *{escape(lesson.title)}* is {DECIDED[kind]}. Thank you!")


def used_notice(lesson: LessonView) -> dict[str, Any]:
    return notice_modal(
        f"Thanks! *{escape(lesson.title)}* is now {used_line(lesson)}. Its author is told."
    )


def unused_notice(lesson: LessonView) -> dict[str, Any]:
    return notice_modal(f"Removed. *{escape(lesson.title)}* is now {used_line(lesson)}.")


# ---- Messages ---------------------------------------------------------------------------------


def author_told(kind: DecisionKind, lesson: LessonView, by_user: str, note: str) -> dict[str, Any]:
    """The DM to the author about a review decision, with the reviewer's note."""
    what = {
        DecisionKind.VALIDATE: "validated your lesson",
        DecisionKind.NEEDS_WORK: "says your lesson needs work",
        DecisionKind.RETIRE: "retired your lesson",
    }[kind]
    lead = f"{mention(by_user)} {what} *{escape(lesson.title)}*."
    label = "Applies to" if kind is DecisionKind.VALIDATE else "Note"
    return lead_message(lead, [context(f"{label}: {escape(_cut(note, 1500))}")])


def used_told(lesson: LessonView, by_user: str, note: str) -> dict[str, Any]:
    lead = f"{mention(by_user)} used your lesson *{escape(lesson.title)}* ({used_line(lesson)})."
    return lead_message(lead, [context(f"“{escape(note)}”")] if note else [])


def published_text(lesson: LessonView) -> str:
    return f":earth_africa: *{escape(lesson.title)}* is published: anyone can find it now."


def publish_refused(verdict: Verdict) -> str:
    return PUBLISH_REFUSED.get(verdict, REFUSED[Verdict.NOT_FOUND])


def more_reply(body: dict[str, Any], channel_id: str, user_id: str) -> dict[str, Any]:
    """A page of results as a `chat.postEphemeral` payload."""
    payload = {"channel": channel_id, "user": user_id, "text": body["text"]}
    if body.get("blocks"):
        payload["blocks"] = body["blocks"]
    return payload


NO_ANSWER = (
    "I found nothing about that in the book of knowledge yet. Try other words with "
    "`/lessons`, and once someone knows, capture it with `/lesson` so the next person finds it."
)

HOW_TO_ASK = lead_message(
    "Hi! Ask me a question after my name, e.g. “@Doughnut how do we roll back a deploy?”, and "
    "I'll answer with the best practices in the book of knowledge and who knows about them. "
    "`/doughnut help` says what else I do.",
    [],
)


def answer_message(answer: Answer) -> dict[str, Any]:
    """The reply in a mention's thread: the top practices and who knows about them."""
    if not answer.lessons:
        return lead_message(NO_ANSWER, [])
    people = ", ".join(mention(user) for user in answer.who_knows)
    lead = f"Here is what the book of knowledge says. Who knows: {people}."
    blocks: list[Block] = []
    for lesson in answer.lessons:
        blocks += lesson_blocks(lesson, "")[:2]  # no buttons: the thread is everyone's
    titles = "; ".join(f"“{escape(lesson.title)}”" for lesson in answer.lessons)
    return {"text": f"{lead} {titles}", "blocks": [section(lead), *blocks]}


# ---- The Home tab -----------------------------------------------------------------------------

HOME_INTRO = "see your lessons, the review queue and recent validated practices here"
HOME_MINE_EMPTY = "You have not captured a lesson yet."
HOME_QUEUE_EMPTY = "Nothing waits for your review."
HOME_RECENT_EMPTY = "No validated practices yet."


def _fit(items: list[list[Block]], total: int, room: int) -> list[Block]:
    """Whole lessons within `room` blocks; "and N more" (of `total`) when some are left out."""
    blocks: list[Block] = []
    shown = 0
    for item in items:
        left = total - shown - 1  # lessons after this one
        if len(blocks) + len(item) + (1 if left else 0) > room:
            break
        blocks += item
        shown += 1
    if shown < total and room > len(blocks):
        blocks.append(context(f"_and {total - shown} more: `/lessons` finds them_"))
    return blocks


def home_section(home: HomeLessons, room: int) -> list[Block]:
    """The book on the Home tab: your lessons, the review queue (reviewers), recent validated
    practices; at most `room` blocks, each list a fair share of it."""
    me = home.user_id
    lists = [
        ("*Your lessons*", home.mine, home.mine_total, HOME_MINE_EMPTY),
        ("*Waiting for your review*", home.queue, home.queue_total, HOME_QUEUE_EMPTY),
        ("*Recent validated practices*", home.recent, home.recent_total, HOME_RECENT_EMPTY),
    ]
    if not home.reviewer:
        del lists[1]
    blocks: list[Block] = []
    left = max(room, 0)
    for i, (title, found, total, empty) in enumerate(lists):
        share = left // (len(lists) - i)
        head = [divider(), section(title)]
        if share < len(head) + 1:
            continue
        items = [lesson_blocks(lesson, me, reviews=home.reviews) for lesson in found]
        body = _fit(items, total, share - len(head)) if found else [context(empty)]
        blocks += [*head, *body]
        left -= len(head) + len(body)
    return blocks
