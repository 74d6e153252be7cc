"""The book of knowledge as a file (pure): one Markdown document with an index by tag, or JSON
lines. Lesson text is written as typed; Markdown only gets what keeps it valid (one-line
headings, link text without brackets)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.core.lessons import ExportedLesson

_LINE = re.compile(r"\s+")
UNTAGGED = "untagged"


def _one_line(text: str) -> str:
    return _LINE.sub(" ", text).strip()


def _link_text(text: str) -> str:
    return _one_line(text).replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _anchor(item: ExportedLesson) -> str:
    return f"lesson-{item.lesson.id}"


def _used(item: ExportedLesson) -> str:
    lesson = item.lesson
    if not lesson.used_by:
        return "not reused yet"
    people = "1 person" if lesson.used_by == 1 else f"{lesson.used_by} people"
    channels = "1 channel" if lesson.used_in == 1 else f"{lesson.used_in} channels"
    return f"used by {people} in {channels}"


def _lesson_markdown(item: ExportedLesson) -> list[str]:
    lesson = item.lesson
    status = lesson.status.value
    if item.validated_by:
        status += f" by {item.validated_by}"
        if item.applies_to:
            status += f" (applies to: {_one_line(item.applies_to)})"
    facts = [
        f"- Status: {status}",
        f"- Community: {item.community or 'none'}",
        f"- Author: {lesson.author_id}",
        f"- Captured: {item.created_at.date().isoformat()}",
        f"- Reuse: {_used(item)}",
    ]
    if lesson.tags:
        facts.append(f"- Tags: {', '.join(lesson.tags)}")
    if lesson.project:
        facts.append(f"- Project: {_one_line(lesson.project)}")
    if lesson.permalink:
        facts.append(f"- Source: <{lesson.permalink}>")
    lines = [f'<a id="{_anchor(item)}"></a>', f"### {_one_line(lesson.title)}", "", *facts, ""]
    for label, text in (
        ("What we expected", lesson.expected),
        ("What happened", lesson.happened),
        ("Why", lesson.why),
        ("Next time", lesson.next_time),
    ):
        if text.strip():
            lines += [f"**{label}**", "", text.strip(), ""]
    return lines


def markdown(items: Sequence[ExportedLesson], *, team: str, now: datetime) -> str:
    """One document: a title, the index by tag (each tag's lessons linked), then each lesson."""
    count = "1 lesson" if len(items) == 1 else f"{len(items)} lessons"
    lines = [
        "# Book of knowledge",
        "",
        f"{count} from workspace {team}, exported {now.date().isoformat()}.",
        "",
        "## Index by tag",
        "",
    ]
    by_tag: dict[str, list[ExportedLesson]] = {}
    for item in items:
        for tag in item.lesson.tags or (UNTAGGED,):
            by_tag.setdefault(tag, []).append(item)
    for tag in sorted(by_tag, key=lambda t: (t == UNTAGGED, t)):
        links = ", ".join(f"[{_link_text(i.lesson.title)}](#{_anchor(i)})" for i in by_tag[tag])
        name = f"*{UNTAGGED}*" if tag == UNTAGGED else f"`#{tag}`"
        lines.append(f"- {name}: {links}")
    if not items:
        lines.append("Nothing to export.")
    lines += ["", "## Lessons", ""]
    for item in items:
        lines += _lesson_markdown(item)
    return "\n".join(lines).rstrip() + "\n"


def record(item: ExportedLesson) -> dict[str, Any]:
    """One lesson as plain data."""
    lesson = item.lesson
    return {
        "id": lesson.id,
        "title": lesson.title,
        "expected": lesson.expected,
        "happened": lesson.happened,
        "why": lesson.why,
        "next_time": lesson.next_time,
        "project": lesson.project,
        "tags": list(lesson.tags),
        "status": lesson.status.value,
        "community": item.community,
        "author_id": lesson.author_id,
        "source_channel_id": lesson.source_channel_id,
        "permalink": lesson.permalink,
        "visibility": lesson.visibility.value,
        "published": lesson.published,
        "used_by": lesson.used_by,
        "used_in": lesson.used_in,
        "created_at": item.created_at.isoformat(),
        "validated_by": item.validated_by,
        "applies_to": item.applies_to,
    }


def json_lines(items: Sequence[ExportedLesson]) -> str:
    return "".join(json.dumps(record(item), ensure_ascii=False) + "\n" for item in items)
