"""The book of knowledge: lessons, the decisions reviewers took on them, and who reused them.

Full-text search lives outside the models: the migration creates an FTS5 table kept in step by
triggers (SQLite) or a generated `tsvector` column with a GIN index (PostgreSQL). Alembic's
comparison skips those objects (`include_object`, `include_name`).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, bool_false, int_pk, slack_id, timestamp

TITLE_MAX = 150
FIELD_MAX = 3000
USE_NOTE_MAX = 300

# Objects the migration creates for full-text search that the models do not describe.
FTS_TABLE = "lessons_fts"
SEARCH_VECTOR = "search_vector"
SEARCH_INDEX = "ix_lessons_search_vector"


def _enum(kind: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(
        kind, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class LessonStatus(enum.StrEnum):
    CAPTURED = "captured"
    VALIDATED = "validated"
    RETIRED = "retired"


class Visibility(enum.StrEnum):
    """The source channel's kind; UNKNOWN (treated as private) until Slack has said."""

    PUBLIC = "public"
    PRIVATE = "private"
    DM = "dm"
    UNKNOWN = "unknown"


class DecisionKind(enum.StrEnum):
    VALIDATE = "validate"
    NEEDS_WORK = "needs_work"
    RETIRE = "retire"
    PUBLISH = "publish"


class Lesson(Base):
    """One After Action Review: four answers, tags, where it came from, and where it stands."""

    __tablename__ = "lessons"
    __table_args__ = (
        Index("ix_lessons_workspace_id_status_created_at", "workspace_id", "status", "created_at"),
        Index("ix_lessons_workspace_id_use_count", "workspace_id", "use_count"),
        Index("ix_lessons_workspace_id_author_id", "workspace_id", "author_id"),
        Index("ix_lessons_workspace_id_source_channel_id", "workspace_id", "source_channel_id"),
        # Lessons written in a period, per workspace or community (the ledger, health, digests).
        Index("ix_lessons_workspace_id_created_at", "workspace_id", "created_at"),
        Index("ix_lessons_community_id_created_at", "community_id", "created_at"),
        # Validated long ago (the coordinator digest's stale lessons).
        Index(
            "ix_lessons_community_id_status_reviewed_at", "community_id", "status", "reviewed_at"
        ),
    )

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    expected: Mapped[str] = mapped_column(Text, default="")
    happened: Mapped[str] = mapped_column(Text, default="")
    why: Mapped[str] = mapped_column(Text, default="")
    next_time: Mapped[str] = mapped_column(Text)
    project: Mapped[str] = mapped_column(Text, default="")
    # Space-separated, lower case: what full-text search reads; `LessonTag` rows filter.
    tags: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[slack_id]
    source_channel_id: Mapped[str | None] = mapped_column(String(32))
    source_ts: Mapped[str | None] = mapped_column(String(32))
    source_thread_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(String(500))
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility))
    published: Mapped[bool_false]
    status: Mapped[LessonStatus] = mapped_column(_enum(LessonStatus))
    # Distinct people and channels that reused it (kept by storage.lessons.count_uses).
    use_count: Mapped[int] = mapped_column(Integer, default=0)
    channel_count: Mapped[int] = mapped_column(Integer, default=0)
    # The last review (validate, needs work, retire), shown with the lesson: accountability.
    # Every decision is also kept, in order, in `LessonDecision`.
    review_kind: Mapped[DecisionKind | None] = mapped_column(_enum(DecisionKind))
    reviewed_by: Mapped[str | None] = mapped_column(String(32))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(Text)
    # What it came out of, and the strategic priority it serves (gaps and assists issues).
    assist_id: Mapped[int | None] = mapped_column(
        ForeignKey("peer_assists.id", ondelete="SET NULL")
    )
    priority_id: Mapped[int | None] = mapped_column(
        ForeignKey("strategic_priorities.id", ondelete="SET NULL")
    )
    created_at: Mapped[timestamp]
    updated_at: Mapped[timestamp]


class LessonTag(Base):
    __tablename__ = "lesson_tags"
    __table_args__ = (Index("ix_lesson_tags_workspace_id_tag", "workspace_id", "tag"),)

    lesson_id: Mapped[int] = mapped_column(
        ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))


class LessonDecision(Base):
    """Accountability: who validated, sent back, retired or published a lesson, when and why."""

    __tablename__ = "lesson_decisions"
    # Period queries (the contribution ledger: reviews done, lessons validated; digests).
    __table_args__ = (
        Index("ix_lesson_decisions_workspace_id_decided_at", "workspace_id", "decided_at"),
        # One reviewer's reviews (a profile).
        Index(
            "ix_lesson_decisions_workspace_id_by_user_decided_at",
            "workspace_id",
            "by_user",
            "decided_at",
        ),
    )

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DecisionKind] = mapped_column(_enum(DecisionKind))
    by_user: Mapped[slack_id]
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[timestamp]


class LessonUse(Base):
    """ "I used this": one per person per lesson, with the channel and their context."""

    __tablename__ = "lesson_uses"
    __table_args__ = (
        UniqueConstraint("lesson_id", "user_id"),
        # Period queries (the ledger: reuse of one's lessons by others; digests).
        Index("ix_lesson_uses_workspace_id_used_at", "workspace_id", "used_at"),
    )

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    user_id: Mapped[slack_id]
    channel_id: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(USE_NOTE_MAX), default="")
    used_at: Mapped[datetime] = mapped_column(UTCDateTime())


def is_search_index(name: str | None, type_: str) -> bool:
    """The FTS5 table (and its shadow tables) and the tsvector column and its index."""
    if name is None:
        return False
    if type_ == "table":
        return name == FTS_TABLE or name.startswith(FTS_TABLE + "_")
    return (type_ == "column" and name == SEARCH_VECTOR) or (
        type_ == "index" and name == SEARCH_INDEX
    )


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic hook: leave the search index out of the comparison with the models."""
    return not is_search_index(name, type_)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic hook: leave the search index out of the comparison with the models."""
    return not is_search_index(name, type_)


class LessonNomination(Base):
    """A message someone reacted to with the idea emoji: its author is asked once per message."""

    __tablename__ = "lesson_nominations"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id", "message_ts"),)

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[slack_id]
    message_ts: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[slack_id]
    nominated_by: Mapped[slack_id]
    created_at: Mapped[timestamp]
