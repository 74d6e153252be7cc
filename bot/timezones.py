"""IANA timezone names, checked against the list of zones (never by opening a path)."""

from __future__ import annotations

import difflib
from functools import cache
from zoneinfo import available_timezones

# The zone offered first when someone names only a region (`Europe`, `America`).
WELL_KNOWN = (
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Pacific/Auckland",
)
# No zone name is longer; a longer answer is not worth comparing.
LONGEST_QUERY = 64


@cache
def all_timezones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


@cache
def _known() -> frozenset[str]:
    return frozenset(all_timezones())


@cache
def _by_lower() -> dict[str, str]:
    return {tz.lower(): tz for tz in all_timezones()}


def is_known_timezone(name: object) -> bool:
    """Is `name` a zone name? Total: any string (a directory, NUL, `..`, a path) is just no.

    A lookup in the list of zones, because `ZoneInfo(name)` opens files and raises for
    directories (`Europe`) and over-long names instead of saying no.
    """
    return isinstance(name, str) and name in _known()


def suggest_timezones(text: str, limit: int = 3) -> list[str]:
    """The zone names closest to what someone typed, best first (may be empty)."""
    query = "_".join(text.strip().split()).strip("/").lower()
    if not query or len(query) > LONGEST_QUERY:
        return []
    if query in _by_lower():
        return [_by_lower()[query]]
    region = [tz for tz in all_timezones() if tz.lower().startswith(query + "/")]
    if region:  # a directory of the database: `Europe`, `America/Argentina`
        known = [tz for tz in WELL_KNOWN if tz in region]
        return (known + [tz for tz in region if tz not in known])[:limit]
    city = query.rsplit("/", 1)[-1]
    by_city = [tz for tz in all_timezones() if tz.lower().rsplit("/", 1)[-1].startswith(city)]
    if by_city:
        return by_city[:limit]
    cities = {tz.lower().rsplit("/", 1)[-1]: tz for tz in all_timezones()}
    close = difflib.get_close_matches(query, list(_by_lower()), n=limit, cutoff=0.6)
    found = [_by_lower()[c] for c in close]
    found += [cities[c] for c in difflib.get_close_matches(city, list(cities), n=limit)]
    return list(dict.fromkeys(found))[:limit]


def search_timezones(query: str, limit: int = 100) -> list[str]:
    """Timezones whose name contains every word of the query (for an external_select)."""
    words = query.lower().replace("/", " ").split()
    return [tz for tz in all_timezones() if all(word in tz.lower() for word in words)][:limit]
