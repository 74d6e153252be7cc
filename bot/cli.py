"""The `doughnut` command line (also `python -m bot`)."""

from __future__ import annotations

import asyncio
import enum
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot import __version__
from bot.logs import configure_logging, one_line
from bot.settings import (
    Settings,
    SettingsError,
    load_settings,
    normalize_database_url,
    sqlite_open_error,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from storage.db import Database
    from storage.models import Workspace

cli = typer.Typer(
    help="Doughnut: the knowledge loop of communities of practice, in Slack.",
    no_args_is_help=True,
    add_completion=False,
)
db_cli = typer.Typer(help="Database maintenance.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
export_cli = typer.Typer(
    help="Export the book of knowledge, or the contribution ledger.", no_args_is_help=True
)
cli.add_typer(export_cli, name="export")
roles_cli = typer.Typer(help="The workspace's support team.", no_args_is_help=True)
cli.add_typer(roles_cli, name="roles")


def _fail(message: str, code: int) -> NoReturn:
    """One line on stderr, then exit: what went wrong, never a traceback."""
    typer.secho(message, fg="red", err=True)
    raise typer.Exit(code)


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as error:
        _fail(f"Configuration error: {error}", 2)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"doughnut {__version__}")
        raise typer.Exit()


@cli.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Doughnut: the knowledge loop of communities of practice, in Slack."""


@cli.command()
def run() -> None:
    """Serve Slack: HTTP on /slack/events, or Socket Mode when SLACK_APP_TOKEN is set."""
    settings = _settings()
    missing = settings.missing_slack_credentials()
    if missing is not None:
        _fail(f"Configuration error: {missing}", 2)
    configure_logging(settings.log_level, settings.log_format)
    from bot.runner import StartupFailed, run_bot
    from bot.tenancy import TokenRejected

    try:
        asyncio.run(run_bot(settings))
    except StartupFailed as failed:
        _fail(str(failed), 1)
    except TokenRejected as rejected:
        _fail(f"Configuration error: {rejected}", 2)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (doughnut run also does this at start)."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    applied, head = _run_database(settings.database_url, _upgrade_reporting)
    for revision in applied:
        typer.echo(f"Applied {revision}.")
    typer.echo(f"Database is up to date (revision {head}).")


@cli.command()
def manifest(
    http_base_url: Annotated[
        str | None,
        typer.Option(help="Print the HTTP-mode manifest with request URLs under this base URL."),
    ] = None,
) -> None:
    """Print the app manifest (Socket Mode, or HTTP mode with --http-base-url)."""
    from bot.manifest import dump_manifest, http_manifest, load_manifest

    data = load_manifest()
    if http_base_url is not None:
        try:
            data = http_manifest(data, http_base_url)
        except ValueError as error:
            typer.secho(str(error), fg="red", err=True)
            raise typer.Exit(2) from None
    typer.echo(dump_manifest(data), nl=False)


@cli.command()
def shell(
    db: Annotated[
        str, typer.Option(help="Database URL (SQLite by default; kept between runs).")
    ] = "sqlite+aiosqlite:///doughnut-shell.db",
    fresh: Annotated[bool, typer.Option(help="Delete the SQLite database first.")] = False,
    script: Annotated[
        Path | None, typer.Option(help="Run the inputs in this file, one per line, then exit.")
    ] = None,
    verbose: Annotated[bool, typer.Option(help="Show full tracebacks of bot errors.")] = False,
) -> None:
    """Try Doughnut without Slack: the real bot against a local Slack, in the terminal."""
    from bot.shell import run_shell

    code = run_shell(
        db_url=db,
        fresh=fresh,
        script=script,
        verbose=verbose,
        interactive=sys.stdin.isatty() and sys.stdout.isatty(),
    )
    raise typer.Exit(code)


@cli.command("demo-data")
def demo_data(
    db: Annotated[str | None, typer.Option(help="Database URL (default: DATABASE_URL).")] = None,
) -> None:
    """Seed the demo workspace's communities (the shell's) into a database."""
    if db is not None:
        try:
            db = normalize_database_url(db)
        except ValueError as error:
            _fail(f"Configuration error: --db: {error}", 2)
    settings = _settings(**({"database_url": db} if db else {}))
    configure_logging("WARNING", settings.log_format)
    from datetime import UTC, datetime

    from bot.shell.seed import seed_database
    from storage.migrate import upgrade

    async def _seed(database: Database) -> list[str]:
        await upgrade(database)
        return await seed_database(database, datetime.now(UTC))

    created = _run_database(settings.database_url, _seed)
    if created:
        typer.echo(f"Seeded the demo workspace: {', '.join(created)}.")
    else:
        typer.echo("The demo communities were already there; nothing changed.")


class ExportFormat(enum.StrEnum):
    MARKDOWN = "markdown"
    JSON = "json"


class ExportStatus(enum.StrEnum):
    CAPTURED = "captured"
    VALIDATED = "validated"
    RETIRED = "retired"


class Refused(Exception):
    """One line for the person, and the exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


async def _workspace(
    session: AsyncSession,
    wanted: str | None,
    *,
    option: str = "--team",
    when_none: str = "nothing to export",
) -> Workspace:
    """The one workspace of the database, or the one `wanted` names; refused otherwise."""
    from sqlalchemy import select

    from storage.models import Workspace

    workspaces = list(await session.scalars(select(Workspace).order_by(Workspace.id)))
    names = ", ".join(w.team_id or w.enterprise_id or w.install_key for w in workspaces)
    if wanted is not None:
        keys = lambda w: (w.team_id, w.enterprise_id, w.install_key)  # noqa: E731
        chosen = next((w for w in workspaces if wanted in keys(w)), None)
        if chosen is None:
            raise Refused(f"No workspace {wanted} here (there: {names or 'none'}).", 2)
        return chosen
    if len(workspaces) == 1:
        return workspaces[0]
    if not workspaces:
        raise Refused(f"No workspace in this database yet: {when_none}.", 1)
    raise Refused(f"This database holds several workspaces; pick one with {option}: {names}.", 2)


@export_cli.command("lessons")
def export_lessons(
    format: Annotated[ExportFormat, typer.Option(help="markdown or json (JSON lines).")] = (
        ExportFormat.MARKDOWN
    ),
    community: Annotated[
        str | None, typer.Option(help="Only this community's lessons (by name).")
    ] = None,
    status: Annotated[
        list[ExportStatus] | None,
        typer.Option(help="Only lessons in this status (repeatable; default captured, validated)."),
    ] = None,
    include_private: Annotated[
        bool, typer.Option(help="Also private lessons their authors have not published.")
    ] = False,
    team: Annotated[
        str | None, typer.Option(help="The workspace (team id) when the database holds several.")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write to this file, not stdout.")] = None,
    db: Annotated[str | None, typer.Option(help="Database URL (default: DATABASE_URL).")] = None,
) -> None:
    """Write the book of knowledge: public and published lessons, as Markdown or JSON lines."""
    if db is not None:
        try:
            db = normalize_database_url(db)
        except ValueError as error:
            _fail(f"Configuration error: --db: {error}", 2)
    settings = _settings(**({"database_url": db} if db else {}))
    configure_logging("WARNING", settings.log_format)
    from datetime import UTC, datetime

    from bot.core.lessons import export_lessons as exported
    from handlers.book import export
    from storage.communities import communities_of_workspace
    from storage.models import LessonStatus

    statuses = tuple(LessonStatus(s.value) for s in status or ()) or (
        LessonStatus.CAPTURED,
        LessonStatus.VALIDATED,
    )

    async def _export(database: Database) -> str:

        async with database.reading() as session:
            chosen = await _workspace(session, team)
            community_id = None
            if community is not None:
                found = await communities_of_workspace(session, chosen.id)
                wanted = community.strip().lstrip("#").casefold()
                match = [c for c in found if c.name.casefold() == wanted]
                if not match:
                    known = ", ".join(c.name for c in found) or "none yet"
                    raise Refused(f"No community named {community} (there: {known}).", 2)
                community_id = match[0].id
            items = await exported(
                session,
                chosen.id,
                statuses=statuses,
                community_id=community_id,
                include_private=include_private,
            )
        label = chosen.team_id or chosen.enterprise_id or chosen.install_key
        if format is ExportFormat.JSON:
            return export.json_lines(items)
        return export.markdown(items, team=label, now=datetime.now(UTC))

    try:
        text = _run_database(settings.database_url, _export)
    except Refused as refused:
        _fail(str(refused), refused.code)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        _fail(f"Cannot write {output}: {one_line(error)}", 1)


@export_cli.command("contributions")
def export_contributions(
    since: Annotated[str, typer.Option(help="The first day counted (YYYY-MM-DD).")],
    until: Annotated[str, typer.Option(help="The last day counted (YYYY-MM-DD, included).")],
    community: Annotated[
        str | None, typer.Option(help="Only this community (its name, or its channel #C…).")
    ] = None,
    team: Annotated[
        str | None, typer.Option(help="The workspace (team id) when the database holds several.")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write to this file, not stdout.")] = None,
    db: Annotated[str | None, typer.Option(help="Database URL (default: DATABASE_URL).")] = None,
) -> None:
    """Write the contribution ledger as CSV: one row per member, the counts for the period."""
    from datetime import date

    try:
        first, last = date.fromisoformat(since), date.fromisoformat(until)
    except ValueError:
        _fail("--since and --until take a date as YYYY-MM-DD.", 2)
    if last < first:
        _fail("--until comes before --since.", 2)
    if db is not None:
        try:
            db = normalize_database_url(db)
        except ValueError as error:
            _fail(f"Configuration error: --db: {error}", 2)
    settings = _settings(**({"database_url": db} if db else {}))
    configure_logging("WARNING", settings.log_format)
    from bot.core.contributions import days_period, ledger
    from handlers.profile import export
    from storage.communities import communities_of_workspace

    async def _export(database: Database) -> str:
        async with database.reading() as session:
            chosen = await _workspace(session, team)
            community_id, timezone = None, "UTC"
            if community is not None:
                found = await communities_of_workspace(session, chosen.id)
                wanted = community.strip()
                channel = wanted.strip("<>#").split("|", 1)[0]
                match = [c for c in found if c.channel_id == channel] or [
                    c for c in found if c.name.casefold() == wanted.lstrip("#").casefold()
                ]
                if not match:
                    known = ", ".join(c.name for c in found) or "none yet"
                    raise Refused(f"No community {community} (there: {known}).", 2)
                community_id, timezone = match[0].id, match[0].timezone
            period = days_period(first, last, timezone)
            rows = await ledger(session, chosen.id, period, community_id=community_id)
        return export.csv_text(rows)

    try:
        text = _run_database(settings.database_url, _export)
    except Refused as refused:
        _fail(str(refused), refused.code)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8", newline="")
    except OSError as error:
        _fail(f"Cannot write {output}: {one_line(error)}", 1)


def _support(person: str, workspace: str | None, db: str | None, *, grant: bool) -> None:
    """Grant or revoke the support team from the command line (recorded as granted by `cli`)."""
    if db is not None:
        try:
            db = normalize_database_url(db)
        except ValueError as error:
            _fail(f"Configuration error: --db: {error}", 2)
    settings = _settings(**({"database_url": db} if db else {}))
    configure_logging("WARNING", settings.log_format)
    from datetime import UTC, datetime

    from sqlalchemy import select

    from bot.core.roles import BY_CLI, GrantVerdict, apply_support
    from storage.models import Member

    async def _change(database: Database) -> str:
        async with database.transaction() as session:
            chosen = await _workspace(
                session, workspace, option="--workspace", when_none="install the app first"
            )
            wanted = person.strip()
            if wanted.startswith("<@") and wanted.endswith(">"):
                wanted = wanted[2:-1].split("|", 1)[0]
            if re.fullmatch(r"[UW][A-Z0-9]+", wanted):
                user_id = wanted
            else:
                name = wanted.lstrip("@").casefold()
                members = await session.scalars(
                    select(Member).where(Member.workspace_id == chosen.id)
                )
                matches = [m.user_id for m in members if m.name.casefold() == name]
                if len(matches) != 1:
                    raise Refused(
                        f"No one person named {person} in the member cache: give a user id "
                        "(U…, from their Slack profile's ⋮ menu).",
                        2,
                    )
                user_id = matches[0]
            result = await apply_support(
                session, chosen.id, user_id, grant=grant, by=BY_CLI, now=datetime.now(UTC)
            )
        return {
            GrantVerdict.GRANTED: f"{user_id} is now on the support team.",
            GrantVerdict.ALREADY: f"{user_id} is already on the support team: nothing changed.",
            GrantVerdict.REVOKED: f"{user_id} is no longer on the support team.",
            GrantVerdict.NOT_GRANTED: f"{user_id} was not granted the support team: "
            "nothing changed.",
            GrantVerdict.STILL_ADMIN: f"{user_id} is a workspace admin or owner: they stay on "
            "the support team.",
        }[result.verdict]

    try:
        typer.echo(_run_database(settings.database_url, _change))
    except Refused as refused:
        _fail(str(refused), refused.code)


PersonArgument = Annotated[str, typer.Argument(help="A user id (U…), <@U…>, or @name.")]
WorkspaceOption = Annotated[
    str | None, typer.Option(help="The workspace (team id) when the database holds several.")
]
DbOption = Annotated[str | None, typer.Option(help="Database URL (default: DATABASE_URL).")]


@roles_cli.command("grant-support")
def grant_support(
    person: PersonArgument, workspace: WorkspaceOption = None, db: DbOption = None
) -> None:
    """Put someone on the support team (every community's health: /doughnut stats all)."""
    _support(person, workspace, db, grant=True)


@roles_cli.command("revoke-support")
def revoke_support(
    person: PersonArgument, workspace: WorkspaceOption = None, db: DbOption = None
) -> None:
    """Take someone off the support team (admins and owners stay on it)."""
    _support(person, workspace, db, grant=False)


T = TypeVar("T")


def _run_database(url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on the database; one line and exit 1 when it cannot be reached or opened."""
    from storage.db import Database

    async def _run() -> T:
        db = Database(url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    where = make_url(url).render_as_string(hide_password=True)
    problem = sqlite_open_error(url)
    if problem is not None:
        _fail(f"Cannot open the database {where}: {problem}", 1)
    try:
        return asyncio.run(_run())
    except (TimeoutError, OSError, SQLAlchemyError) as error:
        _fail(f"Cannot open the database {where}: {one_line(error)}", 1)


async def _upgrade_reporting(db: Database) -> tuple[list[str], str]:
    """Migrate to head; the revisions applied (oldest first) and the one now current."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config, upgrade

    async def current() -> str | None:
        async with db.engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )

    before = await current()
    await upgrade(db)
    after = await current()
    scripts = ScriptDirectory.from_config(alembic_config())
    applied = [
        f"{rev.revision} ({rev.doc})" if rev.doc else rev.revision
        for rev in scripts.iterate_revisions(after, before)
    ]
    return list(reversed(applied)), after or "none"


def main() -> None:
    cli()
