"""The `harness` command: serve the reference, generate tokens, check a deployment."""

from __future__ import annotations

import errno
import json
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer
from rich.console import Console

from harness.cli_store import state_or_exit, store_app
from harness.settings import ENV_VAR, Settings, default_state_dir

if TYPE_CHECKING:
    from harness.conformance.config import ConformConfig
    from harness.conformance.report import RunResult

app = typer.Typer(help="Contract-first mock and conformance harness for Sunbird API Manager and eKool.",
                  no_args_is_help=True, add_completion=False)
token_app = typer.Typer(help="Sunbird auth-token generator (seeds/003): generate, refresh, decode.",
                        no_args_is_help=True)
app.add_typer(token_app, name="token")
postman_app = typer.Typer(help="Postman collections generated from the specs.", no_args_is_help=True)
app.add_typer(postman_app, name="postman")
config_app = typer.Typer(help="The data file of `harness serve --config`: an example, and a check.",
                         no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(store_app, name="store")
console = Console(stderr=True, soft_wrap=True)


def _print_version(value: bool) -> None:
    if value:
        from harness import __version__

        typer.echo(f"harness {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Contract-first mock and conformance harness for Sunbird API Manager and eKool."""


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes (they share the state).")] = 1,
    state: Annotated[Path | None, typer.Option(help="State directory (SQLite store and signing keys).")] = None,
    store: Annotated[str, typer.Option(
        "--store", envvar="HARNESS_STORE", show_envvar=True,
        help="postgresql://user:password@host/db: the state in PostgreSQL, shared by every instance "
        "(replicas); nothing shared lives under --state then.")] = "",
    public_url: Annotated[str, typer.Option(
        "--public-url", envvar="HARNESS_PUBLIC_URL", show_envvar=True,
        help="The address clients use for every instance (a load balancer's): the Sunbird realm's issuer "
        "(default: http://HOST:PORT of this instance).")] = "",
    auto_login: Annotated[str | None, typer.Option(
        "--auto-login", help="eKool user logged in and consenting at once (headless flows).")] = None,
    log_level: Annotated[str, typer.Option(help="critical, error, warning, info, debug.")] = "info",
    rate_limit: Annotated[int, typer.Option(
        help="Sunbird gateway requests per credential per minute (0: off).")] = 0,
    validate_responses: Annotated[bool, typer.Option(help="Validate every response against the spec.")] = False,
    ekool_integer_timestamps: Annotated[bool, typer.Option(
        help="eKool access tokens with whole-second iat/nbf/exp (league writes microseconds).")] = False,
    fast_path: Annotated[bool, typer.Option(
        help="Answer valid requests to the hot operations without connexion's per-request rebuilds.")] = True,
    cors: Annotated[str, typer.Option(
        help="on: answer CORS preflights and name the caller's origin on every answer (browser apps); off.")] = "on",
    cors_origins: Annotated[str, typer.Option(
        help="Only these exact origins get CORS headers, comma-separated (default: any origin).")] = "",
    latency: Annotated[int, typer.Option(min=0, max=120000, help="Milliseconds added to every API answer.")] = 0,
    journal: Annotated[bool, typer.Option(
        help="Keep the request journal (GET /__harness/requests; one store write per API request).")] = True,
    config: Annotated[Path | None, typer.Option(
        "--config", help="TOML file with your own clients, users, credentials and lifetimes "
        "(`harness config example` prints one).")] = None,
) -> None:
    """Start the reference server of every registered API on one port."""
    import uvicorn

    from harness.cors import parse_origins
    from harness.plugins import load_plugins
    from harness.server import initialize_state
    if cors not in ("on", "off"):
        console.print(f"[red]error:[/] --cors {cors!r}: use on or off.")
        raise typer.Exit(2)
    parts = urlsplit(public_url)
    if public_url and (parts.scheme not in ("http", "https") or not parts.netloc or parts.query):
        console.print(f"[red]error:[/] --public-url {public_url!r}: give an absolute http(s) URL, e.g. "
                      "https://harness.example.org")
        raise typer.Exit(2)
    try:
        origins = parse_origins(cors_origins)
    except ValueError as exc:
        console.print(f"[red]error:[/] --cors-origins: {exc}.")
        raise typer.Exit(2) from exc
    settings = Settings(
        cors=cors == "on", cors_origins=origins, journal=journal, latency_ms=latency,
        state_dir=state or default_state_dir(), host=host, port=port, workers=workers,
        auto_login=auto_login, log_level=log_level, rate_limit_per_minute=rate_limit,
        validate_responses=validate_responses, fast_path=fast_path, ekool_integer_timestamps=ekool_integer_timestamps,
        store_url=store, public_url=public_url,
    )
    if config is not None:
        settings = _data_config_or_exit(config, settings)
    if not _port_free(host, port):
        console.print(f"[red]error:[/] port {port} on {host} is already in use; pick another with --port.")
        raise typer.Exit(2)
    ctx = state_or_exit(lambda: initialize_state(settings))  # once, before workers start; no connexion here
    from harness.banner import print_banner

    plugins = load_plugins()
    print_banner(console, ctx, plugins)
    if workers == 1:
        from harness.server import build_app

        uvicorn.run(build_app(ctx, plugins), host=host, port=port, log_level=log_level, access_log=log_level == "debug"
                    or log_level == "info")
    else:
        os.environ[ENV_VAR] = settings.to_env()
        uvicorn.run("harness.server:create_app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level=log_level, access_log=log_level in ("info", "debug"))


def _data_config_or_exit(path: Path, settings: Settings) -> Settings:
    """`settings` with the data of the `--config` file at `path`; exit 2 naming what is wrong with it."""
    from rich.markup import escape

    from harness.plugins import load_plugins
    from harness.userdata import DataFileError, load_data_config

    try:
        return load_data_config(path, load_plugins()).applied_to(settings)
    except DataFileError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from exc


@config_app.command("example")
def config_example() -> None:
    """Print a commented example file (every kind of entry) to start from."""
    from importlib.resources import files

    typer.echo(files("harness").joinpath("examples/harness.toml").read_text(encoding="utf-8"), nl=False)


@config_app.command("check")
def config_check(path: Annotated[Path, typer.Argument(help="The TOML file.")]) -> None:
    """Check a file as `harness serve --config` would: exit 0, or 2 with the line, key and what is wrong."""
    settings = _data_config_or_exit(path, Settings())
    counts = {api: {kind: len(entries) for kind, entries in data.items()} for api, data in settings.api_data.items()}
    typer.echo(f"{path}: ok" + "".join(f"; {api}: " + ", ".join(f"{n} {kind}" for kind, n in kinds.items())
                                      for api, kinds in counts.items())
               + ("" if settings.include_demo else "; without the demo data"))


@token_app.command("generate")
def token_generate(
    key: Annotated[str, typer.Option(help="The JWT credential's key (becomes `iss`).")],
    secret: Annotated[str, typer.Option(help="The JWT credential's secret (HS256 key).")],
) -> None:
    """Make a gateway Bearer token exactly as Sunbird's auth-token generator does (HS256, `iat` null)."""
    from harness import authtoken

    typer.echo(authtoken.generate(key, secret))


@token_app.command("refresh")
def token_refresh(
    token: Annotated[str, typer.Argument(help="The expired or old auth token.")],
    secret: Annotated[str, typer.Option(help="The secret the old token was made with.")],
) -> None:
    """Make a fresh token with the same `iss` and `iat` = now (our extension: the real `refresh` is a stub)."""
    from harness import authtoken

    try:
        typer.echo(authtoken.refresh(token, secret))
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc


@token_app.command("decode")
def token_decode(token: Annotated[str, typer.Argument(help="Any JWT.")]) -> None:
    """Print a token's header and payload (the signature is not checked)."""
    from harness import authtoken

    try:
        typer.echo(json.dumps(authtoken.decode(token), indent=2))
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc


@postman_app.command("export")
def postman_export(
    out: Annotated[Path, typer.Option(help="Directory to write to (created if missing).")] = Path("postman"),
) -> None:
    """Write sunbird/ekool collections and the local environment from the specs and the demo data."""
    from harness import postman

    for path in postman.export(out):
        typer.echo(f"wrote {path}")


def _checked_apis() -> tuple[str, ...]:
    from harness.conformance.apis import checked_api_names

    return checked_api_names()


def _load_conform_config(config_file: Path | None, target: str | None, **overrides: object) -> ConformConfig:
    from harness.conformance.config import ConfigError, load_config

    try:
        config = load_config(config_file)
    except ConfigError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    return config.with_overrides(target=target, **overrides)


def _finish_run(result: RunResult, junit_xml: Path | None, json_path: Path | None) -> None:
    from harness.conformance.report import print_summary, write_json, write_junit

    print_summary(Console(), result)
    if junit_xml:
        write_junit(result, junit_xml)
    if json_path:
        write_json(result, json_path)
    raise typer.Exit(0 if result.passed else 1)


def _print_rules(apis: tuple[str, ...]) -> None:
    """`--list-rules`: one line per rule (stdout, tab-separated): API, rule, profiles, source."""
    from harness.conformance.rules import rules_for

    for name in apis:
        for found in rules_for(name):
            profiles = ",".join(sorted(found.profiles)) + (" (default: note)" if found.deviation else "")
            typer.echo(f"{name}\t{found.name}\t{profiles}\t{found.source}")


@app.command()
def conform(
    target: Annotated[str | None, typer.Option(help="Base URL of the deployment to check.")] = None,
    api: Annotated[str, typer.Option(help="An API's name (the registered ones) or all.")] = "all",
    config: Annotated[Path | None, typer.Option(
        "--config", help="TOML file with the deployment's credentials (see conformance.example.toml).")] = None,
    max_examples: Annotated[int | None, typer.Option(min=1, help="schemathesis examples per operation.")] = None,
    seed: Annotated[int | None, typer.Option(help="schemathesis seed, for a reproducible run.")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="schemathesis threads for its examples, coverage and fuzzing phases.")] = None,
    junit_xml: Annotated[Path | None, typer.Option("--junit-xml", help="Write JUnit XML here.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the JSON report here.")] = None,
    phases: Annotated[str | None, typer.Option(help="Comma-separated subset of spec,rules,fixtures.")] = None,
    rule: Annotated[list[str] | None, typer.Option(help="Run only this semantic rule (repeatable).")] = None,
    profile: Annotated[str | None, typer.Option(
        help="default: the deployed system's exact behaviour; rfc: the RFCs' (see --list-rules).")] = None,
    list_rules: Annotated[bool, typer.Option("--list-rules", help="Print every rule, its profiles and source.")
                          ] = False,
) -> None:
    """Check a deployment against the contract: schemathesis, semantic rules, fixture replay. Exit 0 only
    when every rule passes."""
    from harness.conformance.report import ConsoleReporter
    from harness.conformance.rules import PROFILES
    from harness.conformance.runner import PHASE_NAMES
    from harness.conformance.runner import conform as run_conform

    if profile is not None and profile not in PROFILES:
        console.print(f"[red]error:[/] --profile must be one of {', '.join(PROFILES)}, not {profile!r}")
        raise typer.Exit(2)
    known = _checked_apis()
    if list_rules:
        _print_rules(known if api == "all" else (api,))
        raise typer.Exit(0)
    if api not in (*known, "all"):
        console.print(f"[red]error:[/] --api must be {', '.join(known)} or all, not {api!r}")
        raise typer.Exit(2)
    chosen_phases = tuple(p.strip() for p in phases.split(",")) if phases else None
    if chosen_phases and not set(chosen_phases) <= set(PHASE_NAMES):
        console.print(f"[red]error:[/] --phases takes {', '.join(PHASE_NAMES)}")
        raise typer.Exit(2)
    settings = _load_conform_config(config, target, apis=known if api == "all" else (api,),
                                    max_examples=max_examples, seed=seed, workers=workers, phases=chosen_phases,
                                    profile=profile)
    result = run_conform(settings, ConsoleReporter(console), rule_names=rule or None)
    _finish_run(result, junit_xml, json_path)


@app.command()
def proxy(
    target: Annotated[str, typer.Option(help="Base URL of the deployment the traffic goes to.")],
    api: Annotated[str, typer.Option(help="An API's name (the registered ones) or all.")] = "all",
    port: Annotated[int, typer.Option(help="Port to listen on (127.0.0.1 unless --host).")] = 8090,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    config: Annotated[Path | None, typer.Option(
        "--config", help="The conformance TOML file (prefixes, profile), as for harness conform.")] = None,
    profile: Annotated[str | None, typer.Option(help="default or rfc, as for harness conform.")] = None,
    junit_xml: Annotated[Path | None, typer.Option("--junit-xml", help="Write JUnit XML here on exit.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the JSON report here on exit.")] = None,
    har: Annotated[Path | None, typer.Option(help="Write a HAR 1.2 file of the exchanges here on exit.")] = None,
    fail_on_violation: Annotated[bool, typer.Option(help="Exit 1 when anything was violated.")] = False,
    duration: Annotated[float | None, typer.Option(min=0.1, help="Stop after this many seconds.")] = None,
    insecure: Annotated[bool, typer.Option(help="Do not verify an https target's certificate.")] = False,
) -> None:
    """A pass-through to TARGET that judges every exchange against the contract (the spec, the single-response
    rules, each API's passive rules); reports on exit (Ctrl-C, SIGTERM or --duration)."""
    import signal
    import threading

    import uvicorn
    from rich.markup import escape

    from harness.conformance.proxy import ProxyRun
    from harness.conformance.proxy.judge import Violation
    from harness.conformance.rules import PROFILES

    known = _checked_apis()
    if api not in (*known, "all"):
        console.print(f"[red]error:[/] --api must be {', '.join(known)} or all, not {api!r}")
        raise typer.Exit(2)
    if profile is not None and profile not in PROFILES:
        console.print(f"[red]error:[/] --profile must be one of {', '.join(PROFILES)}, not {profile!r}")
        raise typer.Exit(2)
    settings = _load_conform_config(config, target, apis=known if api == "all" else (api,), profile=profile)
    if not _port_free(host, port):
        console.print(f"[red]error:[/] port {port} on {host} is already in use; pick another with --port.")
        raise typer.Exit(2)

    def show(violation: Violation) -> None:
        console.print(f"[red]violation[/] {escape(violation.rule)} · {escape(violation.operation)}: "
                      f"{escape(violation.message)}\n  {escape(violation.curl)}", highlight=False)

    try:
        run = ProxyRun(settings, target, on_violation=show, insecure=insecure, keep_har=har is not None)
    except ValueError as exc:
        console.print(f"[red]error:[/] --target: {exc}")
        raise typer.Exit(2) from exc
    server = uvicorn.Server(uvicorn.Config(run.forwarder, host=host, port=port, log_level="warning",
                                           lifespan="on", access_log=False))
    if duration:
        timer = threading.Timer(duration, lambda: setattr(server, "should_exit", True))
        timer.daemon = True
        timer.start()
    console.print(f"proxy http://{host}:{port} → {target} ({', '.join(settings.apis)}; Ctrl-C stops)", highlight=False)
    # uvicorn stops on SIGINT/SIGTERM, then raises the signal again under the handlers it found: ours only
    # note it, so that the reports are still written and the exit status is the proxy's
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, lambda number, frame: None)
    server.run()
    run.finish()
    run.write(json_path, junit_xml, har)
    found = len(run.judge.violations)
    console.print(f"{run.judge.exchanges} exchanges, {found} violations", highlight=False)
    raise typer.Exit(1 if fail_on_violation and found else 0)


@app.command()
def diff(
    a: Annotated[str, typer.Option("--a", help="Base URL of the first deployment.")],
    b: Annotated[str, typer.Option("--b", help="Base URL of the second deployment.")],
    api: Annotated[str, typer.Option(help="An API's name (the registered ones).")] = "sunbird",
    config: Annotated[Path | None, typer.Option(
        "--config", help="The conformance TOML file (credentials, prefixes), used for both sides.")] = None,
    seed: Annotated[int, typer.Option(help="The generation seed (the same cases for the same seed).")] = 0,
    max_examples: Annotated[int, typer.Option(min=1, help="Generated cases per operation.")] = 10,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the JSON report here.")] = None,
    junit_xml: Annotated[Path | None, typer.Option("--junit-xml", help="Write JUnit XML here.")] = None,
    fixtures: Annotated[bool, typer.Option(help="Also send the recorded fixtures to both.")] = True,
) -> None:
    """Send the same generated cases (and the recorded fixtures) to A and B, with credentials got on each side as
    a client gets them, and report per operation where the answers differ; exit 0 when they agree, 1 if not."""
    from rich.markup import escape

    from harness.conformance import diff as differ

    known = _checked_apis()
    if api not in known:
        console.print(f"[red]error:[/] --api must be one of {', '.join(known)}, not {api!r}")
        raise typer.Exit(2)
    sides = [_load_conform_config(config, url, apis=(api,)) for url in (a, b)]
    result = differ.diff(api, *sides, max_examples=max_examples, seed=seed, fixtures=fixtures)
    for difference in result.differences:
        console.print(f"[yellow]differs[/] {escape(difference.operation)} · {escape(difference.what)}: "
                      f"a={escape(repr(difference.a))[:200]} b={escape(repr(difference.b))[:200]} "
                      f"({difference.cases} case(s))", highlight=False)
    console.print(f"{result.cases} cases on {len(result.operations)} operations: "
                  + ("the answers agree" if result.agree else f"{len(result.differences)} differences"),
                  highlight=False)
    if json_path:
        differ.write_json(result, json_path)
    if junit_xml:
        differ.write_junit(result, junit_xml)
    raise typer.Exit(0 if result.agree else 1)


@app.command()
def replay(
    fixtures: Annotated[list[Path] | None, typer.Argument(help="Fixture files (default: all of fixtures/).")] = None,
    target: Annotated[str | None, typer.Option(help="Base URL of the deployment to check.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML file with credentials.")] = None,
    junit_xml: Annotated[Path | None, typer.Option("--junit-xml", help="Write JUnit XML here.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the JSON report here.")] = None,
) -> None:
    """Send recorded fixtures to a target and compare the answers by structure."""
    from harness.conformance.report import ConsoleReporter
    from harness.conformance.runner import conform as run_conform

    missing = [str(p) for p in fixtures or [] if not p.is_file()]
    if missing:
        console.print(f"[red]error:[/] no such fixture file: {', '.join(missing)}")
        raise typer.Exit(2)
    known = _checked_apis()
    apis = tuple(a for a in known if not fixtures or any(p.resolve().parent.name == a for p in fixtures))
    if not apis:
        console.print(f"[red]error:[/] fixture files must live in a directory named after an API "
                      f"({', '.join(f'{name}/' for name in known)})")
        raise typer.Exit(2)
    settings = _load_conform_config(config, target, apis=apis, phases=("fixtures",))
    result = run_conform(settings, ConsoleReporter(console),
                         fixture_paths=[p.resolve() for p in fixtures] if fixtures else None)
    _finish_run(result, junit_xml, json_path)


@app.command()
def record(
    target: Annotated[str, typer.Option(help="Base URL to forward to.")],
    out: Annotated[Path, typer.Option(help="Directory for the fixture files (<out>/<api>/NNN_<op>.yaml).")],
    port: Annotated[int, typer.Option(help="Port the proxy listens on (127.0.0.1).")] = 8010,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    config: Annotated[Path | None, typer.Option("--config", help="TOML file (gateway keys name bearers).")] = None,
) -> None:
    """A recording proxy: every exchange through it is written as a fixture, secrets redacted."""
    import uvicorn

    from harness.conformance.record import recording_proxy

    if not _port_free(host, port):
        console.print(f"[red]error:[/] port {port} on {host} is already in use; pick another with --port.")
        raise typer.Exit(2)
    settings = _load_conform_config(config, target)
    console.print(f"recording {settings.base_url} through http://{host}:{port} into {out}/ (Ctrl-C stops)")
    uvicorn.run(recording_proxy(settings.base_url, out, settings), host=host, port=port, log_level="warning")


def main() -> None:
    app()
