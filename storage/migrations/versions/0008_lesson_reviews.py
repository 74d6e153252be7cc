"""lesson reviews: the last review on the lesson (who, when, why), shown with it

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECISION_KIND = sa.Enum(
    "validate", "needs_work", "retire", "publish", name="decisionkind", native_enum=False, length=16
)


def upgrade() -> None:
    with op.batch_alter_table("lessons") as batch:
        batch.add_column(sa.Column("review_kind", DECISION_KIND, nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("review_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lessons") as batch:
        for column in ("review_note", "reviewed_at", "reviewed_by", "review_kind"):
            batch.drop_column(column)
