"""Typed models, one module per capability; everything is re-exported here.

A capability adds its module and imports it below, so that `Base.metadata` (what Alembic
compares the migrations with) knows its tables.
"""

from storage.models.aar import AarReply, AarRun, AarState
from storage.models.assists import (
    AssistFormat,
    AssistHelper,
    AssistLessonNotice,
    AssistStatus,
    HelperState,
    PeerAssist,
)
from storage.models.base import (
    NAMING_CONVENTION,
    Base,
    UTCDateTime,
    bool_false,
    int_pk,
    slack_id,
    timestamp,
)
from storage.models.communities import Community, Role, RoleName, SupportGrant
from storage.models.gaps import (
    Gap,
    GapLesson,
    GapStatus,
    GapVote,
    Proposal,
    ProposalDecision,
    ProposalEvidence,
    ProposalStatus,
    StrategicPriority,
)
from storage.models.kudos import Kudos, KudosSource, KudosStatus, KudosTag
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
from storage.models.workspaces import Member, ProcessedEvent, UserGroupMember, Workspace

__all__ = [
    "AarReply",
    "AarRun",
    "AarState",
    "NAMING_CONVENTION",
    "WORKSPACE_WIDE",
    "AssistFormat",
    "AssistHelper",
    "AssistLessonNotice",
    "AssistStatus",
    "Base",
    "Community",
    "DecisionKind",
    "Delivery",
    "DeliveryStatus",
    "Gap",
    "GapLesson",
    "GapStatus",
    "GapVote",
    "HelperState",
    "Kudos",
    "KudosSource",
    "KudosStatus",
    "KudosTag",
    "Lesson",
    "LessonDecision",
    "LessonStatus",
    "LessonTag",
    "LessonUse",
    "Member",
    "PeerAssist",
    "Priority",
    "ProcessedEvent",
    "Proposal",
    "ProposalDecision",
    "ProposalEvidence",
    "ProposalStatus",
    "Role",
    "RoleName",
    "ScheduledRun",
    "StrategicPriority",
    "SupportGrant",
    "UTCDateTime",
    "UserGroupMember",
    "Visibility",
    "Workspace",
    "bool_false",
    "int_pk",
    "slack_id",
    "timestamp",
]
