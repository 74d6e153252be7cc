"""A local Slack for tests and `doughnut shell`: the emulator, its state and a request driver."""

from bot.emulator.driver import Reply, SlackDriver
from bot.emulator.server import Call, SlackEmulator
from bot.emulator.state import (
    APP_ID,
    APP_TOKEN,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    TEAM_ID,
    Channel,
    Message,
    User,
    Workspace,
)

__all__ = [
    "APP_ID",
    "APP_TOKEN",
    "BOT_ID",
    "BOT_TOKEN",
    "BOT_USER_ID",
    "TEAM_ID",
    "Call",
    "Channel",
    "Message",
    "Reply",
    "SlackDriver",
    "SlackEmulator",
    "User",
    "Workspace",
]
