"""`harness store init|reset|check`: what an operator runs on the shared store (`--store postgresql://…`, or a
state directory's SQLite file with `--state`) before, between and after the instances that serve it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from harness.settings import Settings, default_state_dir

store_app = typer.Typer(help="The state store the instances share: init, reset, check.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

StoreOption = Annotated[str, typer.Option(
    "--store", envvar="HARNESS_STORE", show_envvar=True, help="postgresql://user:password@host/db (default: the "
    "SQLite file of --state).")]
StateOption = Annotated[Path | None, typer.Option(help="State directory, when --store is not given.")]


def state_or_exit(opening: Callable[[], T], *, remedy: bool = True) -> T:
    """`opening()`, or exit 2 with what is wrong with the store (unreachable, not a URL, another schema)."""
    from harness.schema import SchemaMismatch
    from harness.store import StateDirError
    from harness.store_postgres import StoreUrlError

    try:
        return opening()
    except (StateDirError, StoreUrlError, SchemaMismatch) as exc:
        hint = "; choose another with --state" if remedy and "state directory" in str(exc) else ""
        console.print(f"[red]error:[/] {escape(str(exc))}{hint}", highlight=False)
        raise typer.Exit(2) from exc


def _settings(store: str, state: Path | None) -> Settings:
    return Settings(state_dir=state or default_state_dir(), store_url=store)


@store_app.command("init")
def init(store: StoreOption = "", state: StateOption = None) -> None:
    """Make the tables, the signing keys and the demo data, once (run again: nothing changes); exit 0."""
    from harness.server import initialize_state

    ctx = state_or_exit(lambda: initialize_state(_settings(store, state)))
    typer.echo(f"initialised ({ctx.store.describe()}): schema current")
    ctx.store.close()


@store_app.command("reset")
def reset(store: StoreOption = "", state: StateOption = None) -> None:
    """Back to the demo data for every instance (real time, no faults, an empty journal; keys kept); a store
    whose tables another version made is emptied and made again."""
    from harness import schema
    from harness.admin import reset as reset_state
    from harness.plugins import load_plugins
    from harness.server import initialize_state
    from harness.stores import open_store

    settings, plugins = _settings(store, state), load_plugins()
    opened = state_or_exit(lambda: open_store(settings))
    if any(schema.mismatched(opened, part, ddl) for part, ddl in schema.parts(plugins).items()):
        opened.drop_all()
        typer.echo("the tables were another version's: dropped")
    opened.close()
    ctx = state_or_exit(lambda: initialize_state(settings))
    reset_state(ctx, plugins)
    typer.echo(f"reset ({ctx.store.describe()}): demo data, real time, no faults, empty journal")
    ctx.store.close()


@store_app.command("check")
def check(store: StoreOption = "", state: StateOption = None) -> None:
    """Exit 0 when the store is reachable and its schema current; 1 with the problem otherwise (2: cannot open)."""
    from harness import schema
    from harness.plugins import load_plugins
    from harness.stores import open_store

    opened = state_or_exit(lambda: open_store(_settings(store, state)), remedy=False)
    found = schema.problems(opened, load_plugins())
    opened.close()
    for problem in found:
        console.print(f"[red]not current:[/] {escape(problem)}", highlight=False)
    if found:
        raise typer.Exit(1)
    typer.echo(f"ok ({opened.describe()}): reachable, schema current")
