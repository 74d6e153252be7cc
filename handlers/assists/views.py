"""Peer assists: Block Kit from the service's dataclasses (pure builders). Every piece of
request text is escaped, in the blocks and in the `text` fallback alike."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.blocks import (
    Block,
    actions,
    button,
    context,
    date_input,
    divider,
    lead_message,
    notice_modal,
    plain,
    section,
    select_input,
    text_input,
    truncated,
)
from bot.core.assists import (
    AssistField,
    AssistForm,
    AssistView,
    Created,
    FollowUp,
    HomeAssists,
    Matches,
    OpenList,
)
from bot.core.lessons import FormChoices, LessonView
from bot.text import escape, mention

__all__ = ["escape"]
from handlers.assists import ids
from storage.models import AssistFormat, AssistStatus
from storage.models.assists import TITLE_MAX
from storage.models.lessons import FIELD_MAX

FIELD_BLOCKS = {
    AssistField.TITLE: ids.TITLE_BLOCK,
    AssistField.PLAN: ids.PLAN_BLOCK,
    AssistField.LEARN: ids.LEARN_BLOCK,
    AssistField.TAGS: ids.TAGS_BLOCK,
    AssistField.NEEDED_BY: ids.NEEDED_BY_BLOCK,
    AssistField.FORMAT: ids.FORMAT_BLOCK,
    AssistField.TEAM: ids.TEAM_BLOCK,
    AssistField.COMMUNITY: ids.COMMUNITY_BLOCK,
}
FORMATS = {
    AssistFormat.CALL: "A call",
    AssistFormat.THREAD: "A thread",
    AssistFormat.ASYNC_REVIEW: "An async review of our plan",
}
HOME_INTRO = "ask for a peer assist and see the requests you make or help with"
OUT_OF_DATE = "This form is out of date and nothing was saved. Run `/peer-assist` again."
LOADING_FAILED = (
    ":warning: Sorry, I couldn't load this form and nothing was saved. Close it and try "
    "again (reference `{reference}`)."
)
SLOW_TO_OPEN = (
    ":hourglass_flowing_sand: Slack is slow right now: the form may take a moment to appear. "
    "If it doesn't, run `/peer-assist` again."
)
GONE = "I can't find that peer-assist request (it may have been deleted)."
CLOSED = "That peer-assist request is {status}: nothing changes on it any more."
NOT_ALLOWED = (
    "Only the person who asked for this peer assist (or a coordinator of its community) "
    "can do that."
)
SELF_INVITE = "You can't invite yourself: the invitation goes to someone who can help you."
SELF_HELP = "This is your own request: the people who offer to help are shown to you."
NOT_VOLUNTEER = "{who} has not offered to help on this request, so there is nothing to accept."
NOT_OFFERED = "You have not offered to help on this request."
NOT_INVITED = "This invitation is not for you."
ALREADY_ACCEPTED = "{who} is already one of the helpers."
ALREADY_VOLUNTEERED = "You already offered to help on *{title}*: it counts once."
ALREADY_INVITED = "{who} is already invited (or already offered to help)."
ALREADY_ANSWERED = "You already answered this invitation."
NO_EVIDENCE = (
    "No evidence yet in this workspace on this topic, and no reviewers to suggest: the post "
    "in the channel is the way."
)
PENDING = (
    ":mag: I'm still looking for the people with the most evidence on this: I'll DM you "
    "their names in a moment."
)
KUDOS_NONE = "Kudos went to these helpers already; there is nobody left to thank."


@dataclass(frozen=True)
class FormSource:
    """Where a request form comes from; travels in `private_metadata` (ids and a link only)."""

    channel_id: str | None = None
    message_ts: str | None = None
    permalink: str | None = None

    def metadata(self) -> str:
        data = {"c": self.channel_id, "ts": self.message_ts, "p": self.permalink}
        return json.dumps({k: v for k, v in data.items() if v is not None})

    @classmethod
    def from_metadata(cls, text: str | None) -> FormSource | None:
        try:
            data = json.loads(text or "")
            return cls(data.get("c"), data.get("ts"), data.get("p"))
        except (ValueError, TypeError, AttributeError):
            return None


def _t(text: str) -> str:
    return escape(text)


# Each of the request's long fields is shown cut to this (escaped), so a section stays within
# Slack's 3,000 characters whatever was typed.
SHOWN_MAX = 1200


def _cut(text: str, limit: int = SHOWN_MAX) -> str:
    """Escaped, then cut to `limit` characters without splitting an entity (`&amp;`)."""
    shown = escape(text)
    if len(shown) <= limit:
        return shown
    shown = shown[: limit - 1]
    amp = shown.rfind("&", max(0, len(shown) - 5))
    if amp != -1 and ";" not in shown[amp:]:
        shown = shown[:amp]
    return shown + "…"


def _tags(tags: tuple[str, ...]) -> str:
    return " ".join(f"#{escape(t)}" for t in tags)


def loading_modal(external_id: str) -> dict[str, Any]:
    return notice_modal(
        ":hourglass_flowing_sand: One moment…", "Ask for a peer assist", external_id=external_id
    )


def request_modal(
    form: AssistForm,
    choices: FormChoices,
    source: FormSource,
    *,
    external_id: str | None = None,
) -> dict[str, Any]:
    """The request form, prefilled with `form` (and the message author as co-requester)."""
    options = [(ids.NO_COMMUNITY, "No community")]
    options += [(str(c.id), c.name[:75]) for c in choices.communities]
    chosen = form.community_id if form.community_id is not None else choices.default_community
    co: Block = {"type": "users_select", "action_id": ids.FIELD_ACTION}
    if form.co_requester_id:
        co["initial_user"] = form.co_requester_id
    blocks: list[Block] = [
        text_input(ids.TITLE_BLOCK, ids.FIELD_ACTION, "Title", form.title[:TITLE_MAX],
                   max_length=TITLE_MAX, hint="What is the team about to do?"),
        text_input(ids.PLAN_BLOCK, ids.FIELD_ACTION, "What we are about to do",
                   form.plan[:FIELD_MAX], multiline=True, optional=True, max_length=FIELD_MAX),
        text_input(ids.LEARN_BLOCK, ids.FIELD_ACTION, "What we want to learn from others",
                   form.learn[:FIELD_MAX], multiline=True, optional=True, max_length=FIELD_MAX),
        text_input(ids.TAGS_BLOCK, ids.FIELD_ACTION, "Tags", " ".join(form.tags),
                   optional=True, hint="Words people search by, e.g. pricing emea"),
        date_input(ids.NEEDED_BY_BLOCK, ids.FIELD_ACTION, "Needed by", initial=form.needed_by,
                   optional=True),
        select_input(ids.FORMAT_BLOCK, ids.FIELD_ACTION, "Format",
                     [(f.value, label) for f, label in FORMATS.items()], selected=form.format),
        select_input(ids.COMMUNITY_BLOCK, ids.FIELD_ACTION, "Community", options,
                     selected=str(chosen) if chosen is not None else ids.NO_COMMUNITY,
                     hint="The request is posted in its channel."),
        text_input(ids.TEAM_BLOCK, ids.FIELD_ACTION, "Requesting team", form.team,
                   optional=True, max_length=200, hint="A team name, @group or #channel"),
        {"type": "input", "block_id": ids.CO_REQUESTER_BLOCK, "optional": True,
         "label": plain("Co-requester"), "element": co},
    ]  # fmt: skip
    if source.permalink:
        blocks.append(context(f"From <{source.permalink}|this conversation>"))
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": ids.REQUEST_VIEW,
        "title": plain("Ask for a peer assist"),
        "submit": plain("Ask"),
        "close": plain("Cancel"),
        "private_metadata": source.metadata(),
        "blocks": blocks,
    }
    if external_id:
        view["external_id"] = external_id
    return view


def _summary(assist: AssistView) -> list[str]:
    lines = []
    if assist.plan:
        lines.append(f"*What we are about to do:* {_cut(assist.plan)}")
    if assist.learn:
        lines.append(f"*What we want to learn:* {_cut(assist.learn)}")
    facts = [FORMATS[assist.format]]
    if assist.needed_by:
        facts.append(f"needed by {assist.needed_by:%Y-%m-%d}")
    if assist.team:
        facts.append(f"team: {_cut(assist.team, 250)}")
    if assist.tags:
        facts.append(_cut(" ".join(f"#{t}" for t in assist.tags), 300))
    lines.append(" · ".join(facts))
    return lines


def _lead(assist: AssistView) -> str:
    return f"{mention(assist.requester_id)} asks for a peer assist: *{_t(assist.title)}*"


def request_post(assist: AssistView) -> dict[str, Any]:
    """The request in the community channel, with I can help and Share."""
    blocks: list[Block] = [section("\n".join(_summary(assist)))]
    if assist.co_requester_id:
        blocks.append(context(f"With {mention(assist.co_requester_id)}"))
    if assist.permalink:
        blocks.append(context(f"<{assist.permalink}|Where this came up>"))
    blocks.append(
        actions(
            button("I can help", ids.HELP_ACTION, value=str(assist.id), style="primary"),
            button("Share", ids.SHARE_ACTION, value=str(assist.id)),
        )
    )
    return lead_message(_lead(assist), blocks)


def status_post(assist: AssistView, helpers: tuple[str, ...]) -> dict[str, Any]:
    """The channel post once the request moved on (no more buttons when closed)."""
    word = {AssistStatus.MATCHED: "matched", AssistStatus.DONE: "done",
            AssistStatus.CANCELLED: "cancelled"}.get(assist.status, "open")  # fmt: skip
    blocks: list[Block] = [section("\n".join(_summary(assist)))]
    who = ", ".join(mention(h) for h in helpers)
    blocks.append(context(f"*{word.title()}*" + (f" · helpers: {who}" if who else "")))
    if not assist.closed:
        blocks.append(
            actions(
                button("I can help", ids.HELP_ACTION, value=str(assist.id)),
                button("Share", ids.SHARE_ACTION, value=str(assist.id)),
            )
        )
    return lead_message(_lead(assist), blocks)


def _lesson_line(lesson: LessonView) -> str:
    title = (
        f"<{lesson.permalink}|{_t(lesson.title)}>" if lesson.permalink else f"*{_t(lesson.title)}*"
    )
    return f"• {title} ({lesson.status.value}, by {mention(lesson.author_id)})"


def suggestion_blocks(assist: AssistView, matches: Matches, *, invite: bool = True) -> list[Block]:
    """Who the evidence points to (each with why, and Invite), and the top matching lessons."""
    blocks: list[Block] = []
    if not matches.suggestions:
        blocks.append(section(NO_EVIDENCE))
    elif matches.fallback:
        blocks.append(section("No evidence yet on this topic (no matching lessons, assists or "
                              "kudos): here are the community's reviewers."))  # fmt: skip
    else:
        blocks.append(section("*People who have done this before*, strongest evidence first:"))
    for s in matches.suggestions:
        accessory = (
            button("Invite", ids.INVITE_ACTION, value=f"{assist.id}:{s.user_id}")
            if invite else None
        )  # fmt: skip
        blocks.append(section(f"{mention(s.user_id)}: {_t(s.why)}", accessory=accessory))
    if matches.lessons:
        blocks.append(section("*Lessons that match:*\n"
                              + "\n".join(_lesson_line(x) for x in matches.lessons)))  # fmt: skip
    return blocks


def _controls(assist: AssistView) -> Block:
    return actions(
        button("Mark done", ids.DONE_ACTION, value=str(assist.id), style="primary"),
        button("Cancel the request", ids.CANCEL_ACTION, value=str(assist.id)),
    )


def submitted_modal(created: Created) -> dict[str, Any]:
    """The form becomes the answer: where it was posted, and the suggestions with Invite."""
    assert created.assist is not None
    assist = created.assist
    where = (
        f"Posted in <#{created.community.channel_id}>."
        if created.community else "No community picked, so it is not posted in a channel."
    )  # fmt: skip
    blocks = [
        section(
            f":raised_hands: Your request *{_t(assist.title)}* is open. {where} "
            "I'll DM you when someone offers to help."
        ),  # fmt: skip
        divider(),
        *([section(PENDING)] if created.pending else suggestion_blocks(assist, created.matches)),
    ]
    return {
        "type": "modal",
        "title": plain("Peer assist"),
        "close": plain("Close"),
        "blocks": blocks[:100],
    }


def requester_dm(created: Created) -> dict[str, Any]:
    """The requester keeps the suggestions (the modal closes) and the request's controls."""
    assert created.assist is not None
    assist = created.assist
    lead = f"Your peer-assist request *{_t(assist.title)}* is open."
    return lead_message(lead, [*suggestion_blocks(assist, created.matches), _controls(assist)])


def volunteered_dm(assist: AssistView, helper_id: str, *, invited: bool = False) -> dict[str, Any]:
    """To the requester: someone offers to help, with Accept."""
    how = "accepted your invitation" if invited else "offers to help"
    lead = f"{mention(helper_id)} {how} on *{_t(assist.title)}*."
    return lead_message(
        lead,
        [
            actions(
                button(
                    "Accept", ids.ACCEPT_ACTION, value=f"{assist.id}:{helper_id}", style="primary"
                )
            )
        ],  # fmt: skip
    )


def thanks_dm(assist: AssistView) -> dict[str, Any]:
    """To the volunteer: their offer is noted, with Withdraw."""
    lead = f"Thanks: {mention(assist.requester_id)} is told you can help on *{_t(assist.title)}*."
    return lead_message(
        lead, [actions(button("Withdraw my offer", ids.WITHDRAW_ACTION, value=str(assist.id)))]
    )


def invitation_dm(assist: AssistView, why: str = "") -> dict[str, Any]:
    lead = f"{mention(assist.requester_id)} invites you to a peer assist: *{_t(assist.title)}*"
    blocks: list[Block] = [section("\n".join(_summary(assist)))]
    if why:
        blocks.append(context(f"Why you: {_t(why)}"))
    blocks.append(
        actions(
            button("I'll help", ids.INVITE_YES_ACTION, value=str(assist.id), style="primary"),
            button("Not this time", ids.INVITE_NO_ACTION, value=str(assist.id)),
        )
    )
    return lead_message(lead, blocks)


def declined_dm(assist: AssistView, user_id: str) -> str:
    return f"{mention(user_id)} can't help on *{_t(assist.title)}* this time."


def accepted_dm(assist: AssistView) -> str:
    return (
        f"{mention(assist.requester_id)} accepted your help on *{_t(assist.title)}*. "
        "You'll be in a group DM with the team."
    )


def group_dm(assist: AssistView, helpers: tuple[str, ...]) -> dict[str, Any]:
    """The group DM's opening: who is in it and the request summary."""
    who = ", ".join(mention(h) for h in helpers)
    lead = f"Peer assist *{_t(assist.title)}*: {mention(assist.requester_id)} with {who}."
    return lead_message(lead, [section("\n".join(_summary(assist))), _controls(assist)])


def external_dm(assist: AssistView) -> dict[str, Any]:
    """An accepted helper from another organisation (Slack Connect) can't join a group DM."""
    lead = (
        f"You're helping on *{_t(assist.title)}* with {mention(assist.requester_id)}. You're in "
        "another organisation, so Slack can't add you to the group DM: reach them directly."
    )
    return lead_message(lead, [section("\n".join(_summary(assist)))])


def done_dm(assist: AssistView, helpers: tuple[str, ...]) -> dict[str, Any]:
    """To the requester, once done: capture what the team learned, thank the helpers."""
    lead = f"*{_t(assist.title)}* is done. What did the team learn?"
    buttons = [button("Capture what we learned", ids.CAPTURE_ACTION, value=str(assist.id),
                      style="primary")]  # fmt: skip
    if helpers:
        buttons.append(button("Kudos to the helpers", ids.KUDOS_ACTION, value=str(assist.id)))
    blocks: list[Block] = [actions(*buttons)]
    if helpers:
        blocks.insert(0, context("Helpers: " + ", ".join(mention(h) for h in helpers)))
    return lead_message(lead, blocks)


def cancelled_text(assist: AssistView) -> str:
    return f"The peer-assist request *{_t(assist.title)}* is cancelled."


def kudos_text(receivers: tuple[str, ...], assist: AssistView) -> str:
    who = ", ".join(mention(r) for r in receivers)
    return f":tada: Kudos to {who} for helping on *{_t(assist.title)}*."


def share_text(assist: AssistView, link: str | None) -> str:
    where = f"<{link}|the request>" if link else "the request in its channel"
    return f"To share *{_t(assist.title)}*, forward {where} to whoever might help."


def closed(assist: AssistView) -> str:
    return CLOSED.format(status=assist.status.value)


def open_list(found: OpenList) -> dict[str, Any]:
    where = f"in *{_t(found.community.name)}*" if found.community else "in this workspace"
    if not found.assists:
        text = f"No open peer-assist requests {where}. Ask for one with `/peer-assist`."
        return {"response_type": "ephemeral", "text": text}
    lead = f"Open peer-assist requests {where}:"
    rows = [_row(a) for a in found.assists]
    return {"response_type": "ephemeral", **lead_message(lead, truncated(rows, 45))}


def _row(assist: AssistView) -> Block:
    state = "matched" if assist.status is AssistStatus.MATCHED else "open"
    needed = f" · needed by {assist.needed_by:%Y-%m-%d}" if assist.needed_by else ""
    return section(
        f"*{_t(assist.title)}* by {mention(assist.requester_id)} · {state}{needed}",
        accessory=None if assist.status is AssistStatus.MATCHED
        else button("I can help", ids.HELP_ACTION, value=str(assist.id)),
    )  # fmt: skip


def home_section(home: HomeAssists, room: int) -> list[Block]:
    blocks: list[Block] = [
        section("*Peer assists*", accessory=button("Ask for a peer assist", ids.HOME_ASK_ACTION))
    ]
    parts = (
        ("Your requests", home.mine, "You have no open requests."),
        ("Requests you help with", home.helping, "You are not helping on a request now."),
        ("Open requests matching your lessons", home.for_me, "None right now."),
    )
    for title, items, empty in parts:
        blocks.append(context(f"*{title}*"))
        if not items:
            blocks.append(context(empty))
        for assist in items:
            needed = f" · needed by {assist.needed_by:%Y-%m-%d}" if assist.needed_by else ""
            blocks.append(
                context(
                    f"*{_t(assist.title)}* by {mention(assist.requester_id)} · "
                    f"{assist.status.value}{needed}"
                )  # fmt: skip
            )
    return truncated(blocks, room)


def no_helper_post(follow: FollowUp) -> dict[str, Any]:
    """The re-post in the community channel: nobody offered yet."""
    assist = follow.assist
    lead = (
        f":wave: Still looking for help: {mention(assist.requester_id)} asked for a peer assist "
        f"on *{_t(assist.title)}* two days ago and nobody has offered yet."
    )
    return lead_message(
        lead,
        [section("\n".join(_summary(assist))),
         actions(button("I can help", ids.HELP_ACTION, value=str(assist.id), style="primary"),
                 button("Share", ids.SHARE_ACTION, value=str(assist.id)))],
    )  # fmt: skip


def no_helper_dm(follow: FollowUp) -> dict[str, Any]:
    """To the requester: nobody offered yet; invite the people the evidence points to."""
    assist = follow.assist
    lead = f"Nobody has offered to help on *{_t(assist.title)}* yet. Invite someone directly?"
    matches = Matches(suggestions=follow.suggestions)
    blocks = suggestion_blocks(assist, matches) if follow.suggestions else []
    return lead_message(lead, [*blocks, _controls(assist)])


def overdue_dm(follow: FollowUp) -> dict[str, Any]:
    """To the requester: the needed-by date has passed; close it and capture lessons."""
    assist = follow.assist
    needed = f"{assist.needed_by:%Y-%m-%d}" if assist.needed_by else ""
    lead = (
        f"*{_t(assist.title)}* was needed by {needed}. How did it go? Mark it done (and "
        "capture what the team learned) or cancel it."
    )
    return lead_message(lead, [_controls(assist)])
