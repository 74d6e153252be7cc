"""Typed models, one module per capability; everything is re-exported here.

A capability adds its module and imports it below, so that `Base.metadata` (what Alembic
compares the migrations with) knows its tables.
"""

from storage.models.base import (
    NAMING_CONVENTION,
    Base,
    UTCDateTime,
    bool_false,
    int_pk,
    slack_id,
    timestamp,
)
from storage.models.communities import Community, Role, RoleName
from storage.models.lessons import (
    DecisionKind,
    Lesson,
    LessonDecision,
    LessonStatus,
    LessonTag,
    LessonUse,
    Visibility,
)
from storage.models.outbox import Delivery, DeliveryStatus, Priority
from storage.models.schedule import WORKSPACE_WIDE, ScheduledRun
from storage.models.workspaces import Member, ProcessedEvent, Workspace

__all__ = [
    "NAMING_CONVENTION",
    "WORKSPACE_WIDE",
    "Base",
    "Community",
    "DecisionKind",
    "Delivery",
    "DeliveryStatus",
    "Lesson",
    "LessonDecision",
    "LessonStatus",
    "LessonTag",
    "LessonUse",
    "Member",
    "Priority",
    "ProcessedEvent",
    "Role",
    "RoleName",
    "ScheduledRun",
    "UTCDateTime",
    "Visibility",
    "Workspace",
    "bool_false",
    "int_pk",
    "slack_id",
    "timestamp",
]
