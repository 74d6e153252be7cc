"""The declarative base: one MetaData with a naming convention, and the shared column types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    false,
)
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always returns an aware datetime (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


int_pk = Annotated[
    int, mapped_column(Integer().with_variant(BigInteger, "postgresql"), primary_key=True)
]
timestamp = Annotated[datetime, mapped_column(UTCDateTime())]
bool_false = Annotated[bool, mapped_column(Boolean, server_default=false(), default=False)]
slack_id = Annotated[str, mapped_column(String(32))]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON}

    def __repr__(self) -> str:
        columns = ", ".join(
            f"{column.key}={getattr(self, column.key)!r}"
            for column in self.__table__.primary_key.columns  # type: ignore[attr-defined]
        )
        return f"{type(self).__name__}({columns})"
