"""The contribution ledger as CSV (pure): one row per member, for `/doughnut report` and
`doughnut export contributions` alike. A cell a spreadsheet would run as a formula (starting
with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from bot.core.contributions import Contribution, Period
from storage.contributions import RoleHeld

COLUMNS = (
    "member_id",
    "name",
    "kudos_received",
    "kudos_distinct_givers",
    "kudos_distinct_channels",
    "kudos_given",
    "lessons_written",
    "lessons_validated",
    "lesson_reuse_by_others",
    "reviews_done",
    "peer_assists_given",
    "roles",
    "contributed_without_kudos",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SLUG = re.compile(r"[^a-z0-9]+")


def safe_cell(value: object) -> str:
    """A cell as text, never run as a formula by a spreadsheet."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def role_text(role: RoleHeld) -> str:
    since = f" since {role.since.date().isoformat()}" if role.since else ""
    return f"{role.role.value} of {role.community}{since}"


def row(item: Contribution) -> list[object]:
    return [
        item.user_id,
        item.name,
        item.kudos_received,
        item.kudos_givers,
        item.kudos_channels,
        item.kudos_given,
        item.lessons_written,
        item.lessons_validated,
        item.lesson_reuses,
        item.reviews,
        item.assists_given,
        "; ".join(role_text(r) for r in item.roles),
        "yes" if item.unrecognised else "",
    ]


def csv_text(rows: Sequence[Contribution]) -> str:
    """The header, then one line per member (quotes where needed; LF, as stdout and files
    keep it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in rows:
        writer.writerow([safe_cell(value) for value in row(item)])
    return out.getvalue()


def filename(community: str | None, period: Period) -> str:
    """`contributions-<community>-<first>..<last>.csv`, safe as a file name."""
    slug = _SLUG.sub("-", (community or "workspace").casefold()).strip("-")[:40] or "community"
    return f"contributions-{slug}-{period.label.replace(' ', '-')}.csv"
