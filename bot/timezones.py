"""IANA timezone names, checked against the system's zoneinfo database."""

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@cache
def all_timezones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def is_known_timezone(name: str) -> bool:
    if not name or name != name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def search_timezones(query: str, limit: int = 100) -> list[str]:
    """Timezones whose name contains every word of the query (for an external_select)."""
    words = query.lower().replace("/", " ").split()
    return [tz for tz in all_timezones() if all(word in tz.lower() for word in words)][:limit]
