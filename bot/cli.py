"""The `doughnut` command line (also `python -m bot`)."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.settings import Settings, SettingsError, load_settings

cli = typer.Typer(
    help="Doughnut: the knowledge loop of communities of practice, in Slack.",
    no_args_is_help=True,
    add_completion=False,
)
db_cli = typer.Typer(help="Database maintenance.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as error:
        typer.secho(f"Configuration error: {error}", fg="red", err=True)
        raise typer.Exit(2) from None


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


@cli.command()
def run() -> None:
    """Serve Slack: HTTP on /slack/events, or Socket Mode when SLACK_APP_TOKEN is set."""
    settings = _settings()
    _configure_logging(settings.log_level)
    if not settings.has_slack_credentials:
        typer.secho(
            "No Slack credentials: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET "
            "(or SLACK_APP_TOKEN for Socket Mode). To try Doughnut without Slack, run "
            "`doughnut shell`.",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    from bot.runner import run_bot

    asyncio.run(run_bot(settings))


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (doughnut run also does this at start)."""
    settings = _settings()
    _configure_logging(settings.log_level)
    from storage.db import Database
    from storage.migrate import upgrade

    async def _upgrade() -> None:
        db = Database(settings.database_url)
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(_upgrade())
    typer.echo("Database is up to date.")


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
    settings = _settings(**({"database_url": db} if db else {}))
    _configure_logging("WARNING")
    from datetime import UTC, datetime

    from bot.shell.seed import seed_database
    from storage.db import Database
    from storage.migrate import upgrade

    async def _seed() -> list[str]:
        database = Database(settings.database_url)
        try:
            await upgrade(database)
            return await seed_database(database, datetime.now(UTC))
        finally:
            await database.dispose()

    created = asyncio.run(_seed())
    if created:
        typer.echo(f"Seeded the demo workspace: {', '.join(created)}.")
    else:
        typer.echo("The demo communities were already there; nothing changed.")


def main() -> None:
    cli()
