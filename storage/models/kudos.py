"""Kudos: peer recognition, one row per (giver, receiver, occasion), and their tags."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, int_pk, slack_id, timestamp
from storage.models.lessons import Visibility

REASON_MAX = 1000


def _enum(kind: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(
        kind, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class KudosSource(enum.StrEnum):
    COMMAND = "command"  # /kudos
    SHORTCUT = "shortcut"  # the message shortcut "Give kudos for this"
    REACTION = "reaction"  # the kudos emoji as a reaction
    MESSAGE = "message"  # a message with mentions and the kudos emoji (inline)
    ASSIST = "assist"  # the one-click kudos to helpers when a peer assist is done


class KudosStatus(enum.StrEnum):
    PENDING = "pending"  # the receiver was not in the member cache: checked after the ack
    GIVEN = "given"
    REFUSED = "refused"  # a pending receiver turned out to be a bot or unknown
    UNDONE = "undone"  # the giver's Undo, or the reaction taken back, within the window


class Kudos(Base):
    """One kudos from a giver to a receiver; only GIVEN rows count anywhere."""

    __tablename__ = "kudos"
    __table_args__ = (
        # Same giver, same receiver, same message: counts once (NULLs, a command, never collide).
        UniqueConstraint("workspace_id", "giver_id", "receiver_id", "channel_id", "message_ts"),
        Index(
            "ix_kudos_workspace_id_receiver_id_given_at", "workspace_id", "receiver_id", "given_at"
        ),
        Index("ix_kudos_workspace_id_giver_id_local_day", "workspace_id", "giver_id", "local_day"),
        # Period queries by community (digests, stats, the ledger).
        Index("ix_kudos_community_id_given_at", "community_id", "given_at"),
        Index("ix_kudos_workspace_id_given_at", "workspace_id", "given_at"),
        # One giver's kudos over a period (the contribution profile; migration 0010_ledger).
        Index("ix_kudos_workspace_id_giver_id_given_at", "workspace_id", "giver_id", "given_at"),
    )

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL")
    )
    giver_id: Mapped[slack_id]
    receiver_id: Mapped[slack_id]
    reason: Mapped[str] = mapped_column(Text, default="")
    # Space-separated, lower case, like lessons.tags; `KudosTag` rows filter.
    tags: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[KudosSource] = mapped_column(_enum(KudosSource))
    status: Mapped[KudosStatus] = mapped_column(_enum(KudosStatus))
    # Where it was given, and the message it is for (reaction, shortcut, inline emoji).
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(String(500))
    # A reason from a private channel or a DM is never posted to a channel nor shown in public.
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility))
    given_at: Mapped[timestamp]
    # The giver's local date when given: the daily allowance counts by it.
    local_day: Mapped[str] = mapped_column(String(10))
    refusal: Mapped[str | None] = mapped_column(String(200))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class KudosTag(Base):
    __tablename__ = "kudos_tags"
    __table_args__ = (Index("ix_kudos_tags_workspace_id_tag", "workspace_id", "tag"),)

    kudos_id: Mapped[int] = mapped_column(
        ForeignKey("kudos.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
