"""Capturing lessons: Block Kit from the service's dataclasses (pure builders)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.blocks import (
    Block,
    actions,
    button,
    context,
    lead_message,
    notice_modal,
    plain,
    section,
    select_input,
    text_input,
)
from bot.core.lessons import (
    Captured,
    FormChoices,
    LessonField,
    LessonForm,
    LessonView,
    Nomination,
)
from bot.text import channel_link, escape, mention
from handlers.lessons import ids
from storage.models.lessons import FIELD_MAX, TITLE_MAX, Visibility

FIELD_BLOCKS = {
    LessonField.TITLE: ids.TITLE_BLOCK,
    LessonField.EXPECTED: ids.EXPECTED_BLOCK,
    LessonField.HAPPENED: ids.HAPPENED_BLOCK,
    LessonField.WHY: ids.WHY_BLOCK,
    LessonField.NEXT_TIME: ids.NEXT_TIME_BLOCK,
    LessonField.PROJECT: ids.PROJECT_BLOCK,
    LessonField.TAGS: ids.TAGS_BLOCK,
}
ONLY_TAGS = (
    "I got the tags ({tags}) but not the lesson itself. Try "
    "`/lesson Always confirm the rollback plan before a Friday deploy #deploys`, or run "
    "`/lesson` alone for the full form."
)
UNDONE = "Undone: the lesson *{title}* is deleted."
UNDO_NOT_AUTHOR = "Only the person who captured a lesson can undo it."
UNDO_TOO_LATE = (
    "Undo works for 10 minutes after capturing. Ask a reviewer of its community to retire "
    "the lesson instead."
)
GONE = "That lesson is gone (it was undone or deleted)."
NOT_YOURS = "Only the person who captured a lesson can add details to it."
LOADING_FAILED = (
    ":warning: Sorry, I couldn't load this form and nothing was saved. Close it and try "
    "again (reference `{reference}`)."
)
SLOW_TO_OPEN = (
    ":hourglass_flowing_sand: Slack is slow right now: the form may take a moment to appear. "
    "If it doesn't, run `/lesson` again."
)
OUT_OF_DATE = "This form is out of date and nothing was saved. Run `/lesson` again."
CUT_NOTE = "\n\n[cut here: the message was longer; its link is kept with the lesson]"
NO_COMMUNITY = "none"


@dataclass(frozen=True)
class Source:
    """Where a form's lesson comes from; travels in `private_metadata` (ids, never text)."""

    channel_id: str | None = None
    message_ts: str | None = None
    thread_ts: str | None = None
    author_id: str | None = None
    permalink: str | None = None
    visibility: Visibility = Visibility.UNKNOWN
    lesson_id: int | None = None  # "Add details": the stored lesson the form edits
    assist_id: int | None = None  # the peer assist it captures the outcome of
    gap_id: int | None = None  # "I can answer" on a knowledge gap: the lesson answers it

    def metadata(self) -> str:
        data = {
            "c": self.channel_id, "ts": self.message_ts, "th": self.thread_ts,
            "a": self.author_id, "p": self.permalink, "v": self.visibility.value,
            "l": self.lesson_id, "as": self.assist_id, "g": self.gap_id,
        }  # fmt: skip
        return json.dumps({k: v for k, v in data.items() if v is not None})

    @classmethod
    def from_metadata(cls, text: str | None) -> Source | None:
        try:
            data = json.loads(text or "")
            lesson_id, assist_id, gap_id = data.get("l"), data.get("as"), data.get("g")
            return cls(
                channel_id=data.get("c"),
                message_ts=data.get("ts"),
                thread_ts=data.get("th"),
                author_id=data.get("a"),
                permalink=data.get("p"),
                visibility=Visibility(data.get("v", "unknown")),
                lesson_id=int(lesson_id) if lesson_id is not None else None,
                assist_id=int(assist_id) if assist_id is not None else None,
                gap_id=int(gap_id) if gap_id is not None else None,
            )
        except (ValueError, TypeError, AttributeError):
            return None


def loading_modal(external_id: str) -> dict[str, Any]:
    return notice_modal(
        ":hourglass_flowing_sand: One moment…", "Capture a lesson", external_id=external_id
    )


def prefill(text: str, limit: int = FIELD_MAX) -> str:
    """Text for a plain_text_input: cut to Slack's limit, with a note saying so."""
    if len(text) <= limit:
        return text
    return text[: limit - len(CUT_NOTE)].rstrip() + CUT_NOTE


def lesson_modal(
    form: LessonForm, choices: FormChoices, source: Source, *, external_id: str | None = None
) -> dict[str, Any]:
    """The After Action Review form, prefilled with `form`."""

    def field(block: str, label: str, value: str, hint: str, *, optional: bool = True) -> Block:
        return text_input(
            block, ids.FIELD_ACTION, label, prefill(value), multiline=True,
            optional=optional, max_length=FIELD_MAX, hint=hint,
        )  # fmt: skip

    options = [(NO_COMMUNITY, "No community")]
    options += [(str(c.id), c.name[:75]) for c in choices.communities]
    chosen = form.community_id if form.community_id is not None else choices.default_community
    blocks: list[Block] = [
        text_input(
            ids.TITLE_BLOCK,
            ids.FIELD_ACTION,
            "Title",
            prefill(form.title, TITLE_MAX),
            max_length=TITLE_MAX,
            hint="One line a colleague would search for.",
        ),  # fmt: skip
        field(ids.EXPECTED_BLOCK, "What did we expect?", form.expected, "The plan, the hope."),
        field(ids.HAPPENED_BLOCK, "What actually happened?", form.happened, "The facts."),
        field(ids.WHY_BLOCK, "Why was there a difference?", form.why, "Causes, not blame."),
        field(
            ids.NEXT_TIME_BLOCK,
            "What will we do next time?",
            form.next_time,
            "The lesson: what to repeat or change.",
            optional=False,
        ),  # fmt: skip
        text_input(
            ids.TAGS_BLOCK,
            ids.FIELD_ACTION,
            "Tags",
            " ".join(f"#{t}" for t in form.tags),
            optional=True,
            max_length=500,
            hint="Like #deploys #rollback",
        ),  # fmt: skip
        *_tag_picker(choices.tags),  # the form's own tags are in the text field
        select_input(
            ids.COMMUNITY_BLOCK,
            ids.FIELD_ACTION,
            "Community",
            options,
            selected=str(chosen) if chosen is not None else NO_COMMUNITY,
            optional=True,
            hint="Its reviewers validate the lesson.",
        ),  # fmt: skip
        text_input(
            ids.PROJECT_BLOCK,
            ids.FIELD_ACTION,
            "Project or context",
            prefill(form.project),
            optional=True,
            max_length=FIELD_MAX,
        ),  # fmt: skip
    ]
    if source.permalink:
        blocks.insert(0, context(f"From <{escape(source.permalink)}|this message>"))
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": ids.LESSON_VIEW,
        "title": plain("Add details" if source.lesson_id else "Capture a lesson"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "private_metadata": source.metadata(),
        "blocks": blocks,
    }
    if external_id:
        view["external_id"] = external_id
    return view


def _tag_picker(known: tuple[str, ...]) -> list[Block]:
    """Pick from the tags already in use (none offered when there are none yet)."""
    if not known:
        return []
    options = [{"text": plain(f"#{t}"[:75]), "value": t[:150]} for t in known[:100]]
    element: Block = {"type": "multi_static_select", "action_id": ids.FIELD_ACTION,
                      "options": options, "placeholder": plain("Tags in use")}  # fmt: skip
    return [
        {"type": "input", "block_id": ids.TAG_PICK_BLOCK, "optional": True,
         "label": plain("Or pick tags in use"), "element": element}
    ]  # fmt: skip


def _link(lesson: LessonView) -> str:
    title = escape(lesson.title)
    return f"<{escape(lesson.permalink)}|{title}>" if lesson.permalink else f"*{title}*"


def lesson_blocks(captured: Captured) -> tuple[str, list[Block]]:
    """The lead (also the text fallback) and the blocks that show a saved lesson."""
    lesson = captured.lesson
    assert lesson is not None
    # A title taken from a first sentence keeps its full stop: don't add another.
    lead = f":bulb: Saved your lesson *{escape(lesson.title.rstrip('.'))}*."
    blocks: list[Block] = [section(f">{escape(lesson.next_time)}".replace("\n", "\n>"))]
    details = []
    if lesson.tags:
        details.append("Tags: " + " ".join(f"#{escape(t)}" for t in lesson.tags))
    if lesson.visibility in (Visibility.PRIVATE, Visibility.DM, Visibility.UNKNOWN):
        details.append("Seen only where it came from until you publish it.")
    if details:
        blocks.append(context(" · ".join(details)))
    if captured.similar:
        links = ", ".join(_link(s) for s in captured.similar)
        blocks.append(section(f":mag: A similar lesson is already in the book: {links}"))
        lead += " A similar lesson is already in the book."
    return lead, blocks


def captured_message(captured: Captured) -> dict[str, Any]:
    """The ephemeral answer to a quick capture: the lesson, Add details and Undo."""
    lead, blocks = lesson_blocks(captured)
    lesson_id = str(captured.lesson.id) if captured.lesson else ""
    blocks.append(
        actions(
            button("Add details", ids.ADD_DETAILS_ACTION, value=lesson_id, style="primary"),
            button("Undo", ids.UNDO_ACTION, value=lesson_id),
        )
    )
    return {"response_type": "ephemeral", **lead_message(lead, blocks)}


def saved_modal(captured: Captured) -> dict[str, Any]:
    """What replaces the form once it is saved (a submission has no channel to answer in)."""
    lead, blocks = lesson_blocks(captured)
    return {
        "type": "modal",
        "title": plain("Lesson saved"),
        "close": plain("Done"),
        "blocks": [section(lead), *blocks],
    }


def only_tags(tags: tuple[str, ...]) -> str:
    return ONLY_TAGS.format(tags=" ".join(f"#{escape(t)}" for t in tags))


def undone(title: str) -> str:
    return UNDONE.format(title=escape(title))


def nomination_dm(nomination: Nomination) -> dict[str, Any]:
    """The DM asking a message's author to turn it into a lesson."""
    lead = (
        f":bulb: {mention(nomination.nominated_by)} thinks your message in "
        f"{channel_link(nomination.channel_id)} could help others. Turn it into a lesson?"
    )
    open_form = button(
        "Turn it into a lesson", ids.NOMINATION_ACTION, value=str(nomination.id), style="primary"
    )
    return lead_message(lead, [actions(open_form)])


NOT_YOUR_MESSAGE = "Only the message's author can turn it into a lesson from here."
