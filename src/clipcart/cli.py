"""The `clipcart` command: demo, serve, worker, migrate, createuser, import-products, ledger."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from clipcart.core.config import get_settings

if TYPE_CHECKING:
    from clipcart.demo.world import WorldReport

cli = typer.Typer(help="ClipCart: open-source social commerce.", no_args_is_help=True)
console = Console()


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from clipcart.commerce import return_photos
    from clipcart.core.migrations import upgrade_to_head

    settings = get_settings()
    with console.status("Migrating the database..."):
        upgrade_to_head(settings.resolved_database_url)
    where = _safe_url(settings.resolved_database_url)
    console.print(f"[green]Database is up to date[/green] ({where})")
    moved = return_photos.move_legacy_photos()
    if moved:
        console.print(f"Moved {moved} return photo files out of the public media folder")


@cli.command()
def createuser(
    email: Annotated[str, typer.Option(prompt=True, help="Login email")],
    handle: Annotated[str, typer.Option(prompt=True, help="@handle, without the @")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    display_name: Annotated[str | None, typer.Option(help="Shown name (default: handle)")] = None,
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="buyer, creator, seller_staff, moderator, admin (repeatable)"),
    ] = None,
) -> None:
    """Create a user account from the command line."""
    from clipcart.accounts import service
    from clipcart.accounts.schemas import SignupIn
    from clipcart.core.db import unit_of_work
    from clipcart.core.errors import AppError

    async def run() -> str:
        async with unit_of_work() as session:
            user = await service.sign_up(
                SignupIn(
                    email=email,
                    handle=handle,
                    password=password,
                    display_name=display_name or handle,
                ),
                session=session,
            )
            for name in role or []:
                await service.grant_role(user, name, session=session)
            return user.handle

    try:
        created = asyncio.run(run())
    except AppError as error:
        console.print(f"[red]{error.message}[/red]")
        for item in error.data.get("errors", []):
            console.print(f"  {item['field']}: {item['message']}")
        raise typer.Exit(1) from error
    console.print(f"[green]Created @{created}[/green]")


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="Web processes (Granian)")] = 1,
) -> None:
    """Serve the web app with Granian (run `clipcart worker` beside it for jobs)."""
    from granian import Granian
    from granian.constants import Interfaces

    console.print(f"ClipCart on [bold]http://{host}:{port}[/bold] with {workers} worker(s)")
    Granian(
        "clipcart.app:create_app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        log_access=False,
    ).serve()


@cli.command()
def worker(threads: Annotated[int, typer.Option(help="Worker threads")] = 2) -> None:
    """Run background jobs (Huey consumer)."""
    from clipcart.core.jobs import create_consumer
    from clipcart.core.observability import configure_logging

    settings = get_settings()
    configure_logging(json_logs=settings.log_json, level=settings.log_level)
    backend = "Redis" if settings.redis_url else "SQLite"
    console.print(f"Job worker with {threads} thread(s), queue on {backend}")
    create_consumer(threads).run()


@cli.command()
def demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    reset: Annotated[bool, typer.Option(help="Delete the demo data and start over")] = False,
) -> None:
    """Migrate, seed the demo world once, and serve it with an in-process job worker."""
    import time

    import uvicorn
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from clipcart.core.db import dispose_engine
    from clipcart.core.migrations import upgrade_to_head
    from clipcart.demo.seed import DEMO_PASSWORD, reset_demo_data, seed_demo, seed_demo_world
    from clipcart.demo.world.media_jobs import render_videos_job  # noqa: F401 - registers jobs

    started = time.perf_counter()
    if "CLIPCART_BASE_URL" not in os.environ:  # the payment sandbox lives at this address
        os.environ["CLIPCART_BASE_URL"] = f"http://{host}:{port}"
        get_settings.cache_clear()
    settings = get_settings()
    if reset:
        reset_demo_data(settings)
        get_settings.cache_clear()
        settings = get_settings()
    with console.status("Migrating the database..."):
        upgrade_to_head(settings.resolved_database_url)

    async def seed(
        progress: Progress,
    ) -> tuple[list[tuple[str, str, str]], WorldReport, tuple[int, int]]:
        task = progress.add_task("Demo accounts and shop", total=None)
        try:
            logins = await seed_demo()
            progress.update(task, total=1, completed=1)
            world_task = progress.add_task("Generated world", total=None)

            def show(phase: str, done: int, total: int) -> None:
                progress.update(
                    world_task, description=f"Generated world: {phase}", total=total,
                    completed=done,
                )  # fmt: skip

            report, queued = await seed_demo_world(show)
            return logins, report, queued
        finally:
            await dispose_engine()

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        logins, report, queued = asyncio.run(seed(progress))

    table = Table(title="Demo logins (password for all: " + DEMO_PASSWORD + ")")
    table.add_column("role")
    table.add_column("email")
    table.add_column("handle")
    for role_name, email, handle in logins:
        table.add_row(role_name, email, f"@{handle}")
    console.print(table)
    console.print(f"World: {_world_summary(report)}")
    videos_queued, products_queued = queued
    if videos_queued or products_queued:
        console.print(
            f"Rendering {videos_queued} clips and {products_queued} product pictures in the "
            "background: videos join the feed as they are ready (progress on /welcome)."
        )
    url = f"http://{host}:{port}"
    console.print(
        f"\n[bold green]ClipCart is running at {url}[/bold green] (start at {url}/welcome; "
        f"seeded in {time.perf_counter() - started:.1f} s)\n"
    )

    from clipcart.app import create_app
    from clipcart.web.welcome_pages import enable_welcome_link

    enable_welcome_link()
    uvicorn.run(
        create_app(settings, embedded_worker=True),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
    )


@cli.command()
def simulate(
    users: Annotated[int, typer.Option(min=1, max=1000, help="Simulated buyers")] = 10,
    minutes: Annotated[float, typer.Option(min=0.05, help="How long to run")] = 5.0,
    base_url: Annotated[str, typer.Option(help="The running ClipCart")] = "http://127.0.0.1:8000",
    seed: int = 7,
) -> None:
    """Drive simulated people through the HTTP API: watch, like, buy, ship, confirm."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from clipcart.demo.simulation import SimulationStats
    from clipcart.demo.simulation import simulate as run_simulation

    columns = (TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("Starting", total=1.0)

        def show(done: float, stats: SimulationStats) -> None:
            progress.update(task, completed=done, description=stats.line())

        stats = asyncio.run(
            run_simulation(base_url, users=users, minutes=minutes, seed=seed, on_progress=show)
        )
    table = Table(title=f"Simulated {users} buyer(s) for {minutes:g} min against {base_url}")
    for column in ("logins", "feed pages", "events", "likes", "orders", "shipped", "confirmed",
                   "errors"):  # fmt: skip
        table.add_column(column, justify="right")
    table.add_row(*(str(value) for value in (
        stats.logins, stats.feed_pages, stats.events, stats.likes, stats.orders, stats.shipped,
        stats.confirmed, stats.errors,
    )))  # fmt: skip
    console.print(table)
    if stats.errors:
        console.print(f"[yellow]Last error:[/yellow] {stats.last_error}")
    if not stats.logins:
        console.print(f"[red]Nobody could log in at {base_url}: is `clipcart demo` running?[/red]")
        raise typer.Exit(1)


def _world_summary(report: WorldReport) -> str:
    """One line about the generated world."""
    counts = report.counts
    names = ("shops", "products", "videos", "users", "events", "follows", "likes")
    return ", ".join(f"{counts.get(name, 0):,} {name}" for name in names)


@cli.command("import-products")
def import_products(
    shop: Annotated[str, typer.Argument(help="The shop's @handle")],
    csv_file: Annotated[
        Path, typer.Argument(help="Shopify product CSV (UTF-8)", exists=True, dir_okay=False)
    ],
    images: Annotated[
        Path | None,
        typer.Option(help="Zip of the pictures named in Image Src", exists=True, dir_okay=False),
    ] = None,
) -> None:
    """Import products from a Shopify CSV; prints rejected rows, exits 1 if the file is unusable."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from clipcart.catalog.importing import ImportReport, import_file
    from clipcart.core.db import dispose_engine
    from clipcart.core.errors import AppError

    async def run(progress: Progress) -> ImportReport:
        task = progress.add_task(f"Importing {csv_file.name}", total=None)

        def show(report: ImportReport) -> None:
            progress.update(task, total=report.total_rows, completed=report.processed_rows)

        try:
            return await import_file(
                shop,
                csv_file.read_bytes(),
                zip_data=images.read_bytes() if images else None,
                on_progress=show,
            )
        finally:
            await dispose_engine()

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    try:
        with Progress(*columns, console=console) as progress:
            report = asyncio.run(run(progress))
    except AppError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from error
    for title, problems in (("Rejected rows", report.rejected), ("Warnings", report.warnings)):
        if problems:
            table = Table(title=f"{title} ({len(problems)})")
            for column in ("row", "column", "problem"):
                table.add_column(column, overflow="fold")
            for problem in problems:
                table.add_row(str(problem.row), problem.column, problem.message)
            console.print(table)
    console.print(
        f"[green]{report.total_rows} rows: {report.created} products created, "
        f"{report.updated} updated, {report.unchanged} unchanged, "
        f"{len({p.row for p in report.rejected})} rows rejected.[/green]"
    )


ledger_cli = typer.Typer(help="Double-entry ledger: checks and reports.", no_args_is_help=True)
cli.add_typer(ledger_cli, name="ledger")


@ledger_cli.command("check")
def ledger_check() -> None:
    """Verify balances against entries and captures against holds; exits 1 listing differences."""
    from rich.progress import BarColumn, Progress, TextColumn

    from clipcart.core.db import dispose_engine, unit_of_work
    from clipcart.ledger.schemas import Discrepancy
    from clipcart.ledger.service import CHECKS, verify_ledger
    from clipcart.payments.reconciliation import verify_captures_match_ledger

    async def run(progress: Progress) -> list[Discrepancy]:
        task = progress.add_task("Checking the ledger", total=len(CHECKS) + 1)

        def done(check: str) -> None:
            progress.update(task, advance=1, description=f"Checked {check}")

        try:
            async with unit_of_work() as session:
                found = await verify_ledger(session=session, on_check=done)
                found += await verify_captures_match_ledger(session=session)
                done("provider captures against ledger holds")
                return found
        finally:
            await dispose_engine()

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
    )
    with Progress(*columns, console=console) as progress:
        found = asyncio.run(run(progress))
    if not found:
        console.print(
            "[green]The ledger balances: every account matches its entries, "
            "and every captured payment is held.[/green]"
        )
        return
    table = Table(title=f"{len(found)} ledger discrepancies")
    table.add_column("check")
    table.add_column("subject", overflow="fold")  # full ids, to look them up
    for column in ("expected", "actual", "detail"):
        table.add_column(column)
    for item in found:
        table.add_row(item.check, item.subject, str(item.expected), str(item.actual), item.detail)
    console.print(table)
    raise typer.Exit(1)


@cli.command()
def train() -> None:
    """Train the For You model from the event log and publish it (serving processes pick it
    up within seconds; the worker also retrains every half hour)."""
    from clipcart.core.db import dispose_engine, unit_of_work
    from clipcart.recs.training import TrainingReport
    from clipcart.recs.training import train as train_model

    async def run() -> TrainingReport | None:
        try:
            async with unit_of_work() as session:
                return await train_model(session=session, progress=status.update)
        finally:
            await dispose_engine()

    with console.status("Training the recommender...") as status:
        report = asyncio.run(run())
    if report is None:
        console.print("[yellow]Nothing to learn from yet: the event log has no interactions.[/]")
        return
    console.print(
        f"[green]Trained on {report.interactions:,} interactions of {report.users:,} people "
        f"with {report.videos:,} videos ({report.modelled_videos:,} modelled) "
        f"in {report.seconds:.1f} s.[/green]\n{report.model_file}"
    )


def _safe_url(url: str) -> str:
    """The database URL without a password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    """Entry point of the `clipcart` script."""
    cli()
