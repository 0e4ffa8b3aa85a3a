"""`tdex serve`: run the exchange service (migrations run at start; settings from the environment)."""

from __future__ import annotations

import typer

NAME = "serve"
app = typer.Typer(help="Run the exchange HTTP service.", invoke_without_command=True)


@app.callback(invoke_without_command=True)
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
) -> None:
    """Start the exchange on HOST:PORT with the settings from the environment.

    DATABASE_URL (default sqlite:///./var/exchange.db), TDEX_MODE (development|production),
    TDEX_SECRET_KEY (required outside development), TDEX_CHAIN_URL (the relay's chain; without it
    chain writes wait in the outbox as "pending anchor"), TDEX_BUREAU_USCC / TDEX_BUREAU_PUBLIC_KEY
    (the bureau's ADMIN organisation, created at first start), TDEX_LOG_OPERATOR_KEYSTORE /
    TDEX_LOG_OPERATOR_PASSPHRASE and TDEX_WITNESSES (the audit log's own anchoring, docs/audit.md).
    """
    import uvicorn

    from exchange_api.app import create_app_for, tune_process
    from exchange_api.core.config import Settings, SettingsError
    from exchange_api.errors import ExchangeError
    from tdex.serving import listen_socket

    try:
        settings = Settings.from_env()
    except SettingsError as error:
        typer.echo(f"refusing to start: {error}", err=True)
        raise typer.Exit(2) from None
    if not settings.chain_url:
        if not settings.is_development:
            typer.echo("refusing to start: TDEX_CHAIN_URL is required outside development", err=True)
            raise typer.Exit(2)
        typer.echo("no TDEX_CHAIN_URL: chain writes wait in the outbox as pending anchors", err=True)
    if not settings.log_operator_keystore:
        typer.echo(
            "no TDEX_LOG_OPERATOR_KEYSTORE: audit checkpoints are neither signed nor anchored", err=True
        )
    try:
        app_ = create_app_for(settings)
    except ExchangeError as error:  # the keystore, the witnesses, the anchoring account
        typer.echo(f"refusing to start: [{error.code}] {error}", err=True)
        raise typer.Exit(2) from None
    tune_process()
    sock = listen_socket(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    typer.echo(f"tdex serve listening on http://{bound_host}:{bound_port}", err=True)
    # log_config=None keeps uvicorn off the logging configuration, so its records reach our JSON
    # handler; its own access lines are off because RequestContext writes one JSON line per request
    # (with the request id) already.
    config = uvicorn.Config(app_, log_level=log_level, log_config=None, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
