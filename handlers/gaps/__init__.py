"""Domain revisited: knowledge gaps (`/doughnut gap`, `/doughnut gaps`, Raise as a knowledge
gap), proposals to sponsors (`/doughnut propose`) and strategic priorities
(`/doughnut priorities`)."""

from __future__ import annotations

from typing import Any

from bot.registry import Capability, HelpEntry, HomeSection, Registry
from handlers.gaps import ids, listeners, views
from handlers.home.listeners import HomeTab


def register(app: Any, registry: Registry) -> None:
    registry.help += [
        HelpEntry(
            "`/doughnut gap &lt;question&gt; #tags`",
            "a knowledge gap for the channel's community (answered at once if the book knows)",
        ),
        HelpEntry(
            "`/doughnut gaps`",
            "the community's open gaps, most wanted first: +1, I can answer, Close",
        ),
        HelpEntry("*Raise as a knowledge gap*", "on a message's menu: a question nobody answered"),
        HelpEntry(
            "`/doughnut propose &lt;insight&gt;`",
            "a proposal to the community's sponsors, with its evidence; they answer",
        ),
        HelpEntry(
            "`/doughnut priorities`",
            "the community's strategic priorities (its sponsors set them)",
        ),
    ]
    registry.subcommands.add(ids.GAP_WORD, listeners.gap_command)
    registry.subcommands.add(ids.GAPS_WORD, listeners.gaps_command)
    registry.subcommands.add(ids.PROPOSE_WORD, listeners.propose_command)
    registry.subcommands.add(ids.PRIORITIES_WORD, listeners.priorities_command)
    registry.home_sections.append(HomeSection("gaps", views.HOME_INTRO, listeners.home_section))
    app.shortcut(ids.RAISE_GAP_SHORTCUT)(listeners.raise_gap_shortcut)
    app.view_submission(ids.GAP_VIEW)(listeners.submit_gap)
    app.action(ids.VOTE_ACTION)(listeners.vote_clicked)
    app.action(ids.ANSWER_ACTION)(listeners.answer_clicked)
    app.action(ids.CLOSE_ACTION)(listeners.close_clicked)
    app.view_submission(ids.CLOSE_VIEW)(listeners.submit_close)
    app.action(ids.LINK_ACTION)(listeners.link_clicked)
    app.view_submission(ids.PROPOSAL_VIEW)(listeners.submit_proposal)
    app.action(ids.ACKNOWLEDGE_ACTION)(listeners.acknowledge_clicked)
    app.action(ids.RESPOND_ACTION)(listeners.respond_clicked)
    responses = listeners.Responses(HomeTab(registry))
    app.view_submission(ids.RESPOND_VIEW)(responses.submit_respond)
    app.view_submission(ids.PRIORITIES_VIEW)(listeners.submit_priorities)


CAPABILITY = Capability(
    name="gaps",
    register=register,
    # `/doughnut` and the message shortcut; DMs to sponsors, posts in community channels.
    scopes=("commands", "chat:write"),
)
