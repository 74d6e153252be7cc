"""After Action Reviews: Block Kit from the service's dataclasses (pure builders)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.blocks import Block, actions, button, context, lead_message, section, truncated
from bot.core.aar import QUESTIONS, AarView, Answer, Cancelled, Summary
from bot.text import channel_link, escape, mention
from handlers.aar import ids
from storage.models import AarState

NOT_A_CHANNEL = (
    "Run `/doughnut aar` in the channel where the work happened: I ask the four questions "
    "in a thread there."
)
INVITE_ME = (
    "This channel is private and I'm not in it, so I couldn't hear the replies. Invite me "
    "with `/invite @Doughnut`, then run `/doughnut aar` again. Nothing was scheduled."
)
ARCHIVED = "This channel is archived: nobody could reply. Nothing was scheduled."
SLACK_SLOW = (
    ":hourglass_flowing_sand: Slack didn't tell me about this channel in time, so nothing was "
    "scheduled. Try `/doughnut aar` again in a moment."
)
# Slack's limits: 50 blocks a message, 3,000 characters a section.
MAX_BLOCKS = 50
SECTION_MAX = 3000
REPLY_SHOWN_MAX = 600
PEOPLE_SHOWN = 30


def duration(window: timedelta) -> str:
    hours = int(window.total_seconds() // 3600)
    if hours % 24 == 0 and hours >= 48:
        return f"{hours // 24} days"
    if hours >= 1:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{int(window.total_seconds() // 60)} minutes"


def _what(run: AarView) -> str:
    return (
        f"the After Action Review of *{escape(run.project)}*"
        if run.project
        else ("an After Action Review")
    )


def scheduled_reply(run: AarView, *, now: bool, joins: bool) -> str:
    """The ephemeral answer to `/doughnut aar`: when it starts, how long replies are heard."""
    when = (
        "in a moment" if now else f"on {run.local_start:%a %d %b at %H:%M} ({escape(run.timezone)})"
    )
    text = (
        f":memo: I'll start {_what(run)} in {channel_link(run.channel_id)} {when}: the four "
        f"questions in a thread, replies collected for {duration(run.window)}, then a summary "
        "you can turn into a lesson."
    )
    if joins:
        text += " I'll join the channel to hear the replies."
    return text


def questions_message(run: AarView) -> dict[str, Any]:
    """The post that opens the run's thread."""
    lead = (
        f":memo: *After Action Review{': ' + escape(run.project) if run.project else ''}*, "
        f"asked by {mention(run.started_by)}. Please reply *in this thread*."
    )
    numbered = "\n".join(f"*{i}.* {q}" for i, q in enumerate(QUESTIONS.values(), start=1))
    hint = (
        f"Answer any or all, in one reply or several; start a line with 1. 2. 3. or 4. to say "
        f"which question it answers. I'll sum up in {duration(run.window)}."
    )
    return lead_message(lead, [section(numbered), context(hint)])


def _answer_lines(answers: tuple[Answer, ...]) -> list[str]:
    lines = []
    for answer in answers:
        text = answer.text
        if len(text) > REPLY_SHOWN_MAX:
            text = text[: REPLY_SHOWN_MAX - 1].rstrip() + "…"
        lines.append(f"• {mention(answer.user_id)}: {escape(text)}")
    return lines


def _sections(title: str, lines: list[str]) -> list[Block]:
    """A titled list in sections of at most 3,000 characters."""
    blocks: list[Block] = []
    current = f"*{title}*"
    for line in lines:
        if len(current) + 1 + len(line) > SECTION_MAX:
            blocks.append(section(current))
            current = line
        else:
            current += "\n" + line
    blocks.append(section(current))
    return blocks


def summary_message(summary: Summary) -> dict[str, Any]:
    """The summary posted in the thread once the window is over, with "Turn into a lesson"."""
    run = summary.run
    if summary.reply_count == 0:
        lead = (
            f":memo: The window of {_what(run)} is over and nobody replied. Run "
            "`/doughnut aar` again when the team has a moment."
        )
        return lead_message(lead, [])
    shown = summary.people[:PEOPLE_SHOWN]
    people = ", ".join(mention(p) for p in shown)
    if len(summary.people) > len(shown):
        people += f" and {len(summary.people) - len(shown)} more"
    lead = (
        f":memo: *Summary of {_what(run)}*: {summary.reply_count} "
        f"answer{'s' if summary.reply_count != 1 else ''} from {people}."
    )
    body: list[Block] = []
    for i, (question, text) in enumerate(QUESTIONS.items(), start=1):
        answers = summary.answers[question]
        if answers:
            body += _sections(f"{i}. {text}", _answer_lines(answers))
    if summary.others:
        body += _sections("Also said", _answer_lines(summary.others))
    button_block = actions(
        button(
            "Turn into a lesson",
            ids.TURN_INTO_LESSON_ACTION,
            value=str(run.id),
            style="primary",
        ),
        block_id=ids.SUMMARY_BLOCK,
    )
    # The lead and the button always show; the answers share what is left.
    body = truncated(body, MAX_BLOCKS - 2)
    return lead_message(lead, [*body, button_block])


def paused_here(reason: str) -> str:
    return (
        f":pause_button: This channel's community is paused ({escape(reason)}), so I won't run "
        "an After Action Review here. Its coordinators can resume it: unarchive the channel, "
        "or invite me back with `/invite @Doughnut`."
    )


def cancelled_dm(cancelled: Cancelled) -> dict[str, Any]:
    run = cancelled.run
    done = "sum up" if run.state is AarState.SUMMARISED else "start"
    lead = (
        f":pause_button: I didn't {done} {_what(run)} in {channel_link(run.channel_id)}: "
        f"{escape(cancelled.reason)}. Run `/doughnut aar` again once that is sorted."
    )
    return lead_message(lead, [])


def no_thread_dm(run: AarView) -> dict[str, Any]:
    lead = (
        f":warning: I couldn't post the questions of {_what(run)} in "
        f"{channel_link(run.channel_id)}, so there is nothing to sum up. Check that I can post "
        "there (invite me with `/invite @Doughnut`), then run `/doughnut aar` again."
    )
    return lead_message(lead, [])


GONE = "This After Action Review is gone, or not summed up yet."
