"""The `altegio-bot` command: serve, socket, console, demo, alerts, audit, keygen, rotate-keys."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot import logging as bot_logging
from bot.runtime import Runtime, StartupError
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("altegio.bot")


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(2) from None
    secrets = [
        s.get_secret_value()
        for s in (
            settings.slack_bot_token,
            settings.slack_client_secret,
            settings.slack_signing_secret,
            settings.slack_app_token,
            settings.altegio_partner_token,
            settings.altegio_user_token,
            settings.bot_encryption_key,
        )
        if s is not None
    ]
    bot_logging.configure(settings.log_level, secrets, fmt=settings.log_format)
    return settings


def _run(coro_factory, loop_factory=None) -> None:  # type: ignore[no-untyped-def]
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(coro_factory())
    except StartupError as exc:
        print(f"altegio-bot cannot start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        pass


# After SIGTERM, time for answers already acked; platforms kill the process after ~30 s.
FINISH_SECONDS = 20.0


def cmd_serve(args: argparse.Namespace) -> None:
    from bot.server import loop_factory
    from bot.workers import serve_workers, serving

    settings = _settings()
    port = args.port if args.port is not None else settings.port
    workers = args.workers or settings.web_concurrency
    if workers > 1:
        raise SystemExit(
            serve_workers(
                _settings,
                settings,
                workers,
                host=args.host,
                port=port,
                finish_seconds=FINISH_SECONDS,
            )
        )
    _run(
        lambda: serving(settings, host=args.host, port=port, finish_seconds=FINISH_SECONDS),
        loop_factory(),
    )


def cmd_socket(args: argparse.Namespace) -> None:
    from bot.socket_mode import run_socket_mode

    settings = _settings()
    if settings.slack_app_token is None:
        print(
            "altegio-bot cannot start in Socket Mode: SLACK_APP_TOKEN is not set. Create an "
            "app-level token with the connections:write scope (Basic Information → App-Level "
            "Tokens) and set SLACK_APP_TOKEN to it.",
            file=sys.stderr,
        )
        raise SystemExit(2)
    app_token = settings.slack_app_token.get_secret_value()
    port = args.port or settings.port
    if settings.metrics_port:
        from bot import metrics

        metrics.serve_port(settings.metrics_port)
        log.info("serving metrics on port %s /metrics", settings.metrics_port)

    async def main() -> None:
        runtime = await Runtime.open(settings)
        runtime.start_housekeeping()
        try:
            await run_socket_mode(
                runtime,
                app_token,
                ping_interval=settings.socket_ping_interval,
                finish_seconds=FINISH_SECONDS,
                pages_address=(args.host, port),
            )
        finally:
            await runtime.close()
        log.info("stopped")

    _run(main)


def cmd_console(args: argparse.Namespace) -> None:
    from bot.console import run_console

    settings = _settings()
    _run(lambda: run_console(settings))


def cmd_demo(args: argparse.Namespace) -> None:
    from bot.demo import run_demo

    _run(run_demo)


def cmd_alerts(args: argparse.Namespace) -> None:
    from bot.sweeper import SweepFailed, run_alerts

    settings = _settings()

    async def main() -> None:
        try:
            await run_alerts(settings, every=args.every)
        except SweepFailed as exc:
            print(f"altegio-bot alerts: {exc}", file=sys.stderr)
            raise SystemExit(2) from None

    _run(main)


def _interval(text: str) -> float:
    from bot.sweeper import parse_interval

    try:
        return parse_interval(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_keygen(args: argparse.Namespace) -> None:
    from bot.storage.crypto import generate_key

    print(generate_key())


def cmd_rotate_keys(args: argparse.Namespace) -> None:
    from bot.storage import StorageError, open_store

    settings = _settings()
    outcome: list[int] = []

    async def main() -> None:
        try:
            store = await open_store(settings.database_url, settings.bot_encryption_key)
        except StorageError as exc:
            raise StartupError(str(exc)) from None
        try:
            done = await store.rotate_keys()
        finally:
            await store.close()
        print(
            f"Re-encrypted {done.rewritten} stored secrets under the first key of "
            f"BOT_ENCRYPTION_KEY ({done.current} already were); the other keys can be dropped."
        )
        if done.unreadable:
            print(
                f"{done.unreadable} could not be opened by any configured key and were left as "
                "they are: those people will have to log in again.",
                file=sys.stderr,
            )
        outcome.append(1 if done.unreadable else 0)

    _run(main)
    if outcome and outcome[0]:
        raise SystemExit(outcome[0])


def _span(text: str):  # type: ignore[no-untyped-def]
    from bot.audit_report import parse_span

    try:
        return parse_span(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_audit(args: argparse.Namespace) -> None:
    from bot.audit_report import json_lines, table
    from bot.storage import StorageError, open_store

    settings = _settings()

    async def main() -> None:
        try:
            store = await open_store(settings.database_url, settings.bot_encryption_key)
        except StorageError as exc:
            raise StartupError(str(exc)) from None
        try:
            since = store.now() - args.since if args.since is not None else None
            events = await store.list_audit(since=since, team_id=args.workspace)
        finally:
            await store.close()
        sys.stdout.write(json_lines(events) if args.json else table(events))

    _run(main)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="altegio-bot", description="A Slack app for the Altegio B2B API."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve Slack's HTTP requests (uvicorn)")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server binds all interfaces
    serve.add_argument("--port", type=int, default=None, help="default: PORT")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes on the one port (default: WEB_CONCURRENCY, else 1)",
    )
    serve.set_defaults(func=cmd_serve)
    socket_mode = sub.add_parser("socket", help="connect to Slack in Socket Mode")
    socket_mode.add_argument("--host", default="0.0.0.0")  # noqa: S104 - the install page
    socket_mode.add_argument(
        "--port",
        type=int,
        default=None,
        help="the install page's port (with SLACK_CLIENT_ID); default: PORT",
    )
    socket_mode.set_defaults(func=cmd_socket)
    sub.add_parser("console", help="a local shell: try commands without Slack").set_defaults(
        func=cmd_console
    )
    sub.add_parser(
        "demo", help="the console against a built-in sandbox Altegio: no settings, no network"
    ).set_defaults(func=cmd_demo)
    alerts = sub.add_parser(
        "alerts", help="post due licence alerts once (cron), or every --every (clock process)"
    )
    alerts.add_argument(
        "--every",
        type=_interval,
        default=None,
        metavar="INTERVAL",
        help="keep sweeping at this interval, e.g. 30s, 15m, 1h or 1d",
    )
    alerts.set_defaults(func=cmd_alerts)
    audit = sub.add_parser("audit", help="who did what: links, watches, clicks, photos, installs")
    audit.add_argument(
        "--since", type=_span, default=None, metavar="SPAN", help="only the last SPAN, e.g. 7d"
    )
    audit.add_argument("--workspace", default=None, metavar="TEAM_ID", help="one Slack team only")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    audit.set_defaults(func=cmd_audit)
    sub.add_parser("keygen", help="print a fresh BOT_ENCRYPTION_KEY").set_defaults(func=cmd_keygen)
    sub.add_parser(
        "rotate-keys", help="re-encrypt every stored secret under the first BOT_ENCRYPTION_KEY"
    ).set_defaults(func=cmd_rotate_keys)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
