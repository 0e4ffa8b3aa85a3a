"""Builds the FastAPI application: settings, store, migrations, routes, problems, relay."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from exchange_api import console, problems
from exchange_api.anchoring import AnchorerFactory, anchorer_for
from exchange_api.audit._anchoring import Anchorer
from exchange_api.chain import ChainWriter
from exchange_api.core.config import Settings
from exchange_api.core.db import make_engine, make_sessionmaker, migrate, session_scope
from exchange_api.core.security import RequestVerifier
from exchange_api.logs import configure_json_logging
from exchange_api.outbox import Relay
from exchange_api.routes import applications, audit, catalog, certificates, grants, jobs, ops, orgs, system
from exchange_api.schemas.orgs import OrgCreate, Role
from exchange_api.services.context import SYSTEM, Ctx, utcnow
from exchange_api.services.orgs import bootstrap_bureau
from exchange_api.sync import ChainReader, ChainSync

__all__ = ["create_app"]

DESCRIPTION = """\
The trusted data exchange: the government data-resource catalogue (政务信息资源目录), applications
and grants (有条件共享), every write anchored on chain through a transactional outbox.

Every request except `/health` is signed by the caller's organisation key (RFC 9421-style
`Signature-Input`, `Signature` and `Content-Digest` headers). Errors are RFC 9457 problem
documents with a stable `code`. State-changing POSTs honour `Idempotency-Key`.
"""


def create_app(
    settings: Settings,
    *,
    writer: ChainWriter | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    run_relay: bool = True,
    reader: ChainReader | None = None,
    anchorer: Anchorer | AnchorerFactory | None = None,
) -> FastAPI:
    """The exchange app on `settings`' store.

    With a `writer`, a relay drains the outbox to it; with a `reader`, a background sync compares
    chain events with the store; with an `anchorer` (or a factory that makes one over the app's
    sessions once the store is migrated), checkpoints are signed, cosigned and anchored on the
    policy's thresholds. All three start with the app unless `run_relay` is False
    (`app.state.anchorer` is then still there to `tick()` by hand).
    """
    settings.check()
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    relay = Relay(sessions, writer, settings, clock=clock) if writer is not None else None
    sync = ChainSync(sessions, reader, settings, clock=clock) if reader is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate(engine)
        if settings.bureau_uscc and settings.bureau_public_key:
            with session_scope(sessions) as session:
                bootstrap_bureau(
                    Ctx(session, settings, SYSTEM, clock),
                    OrgCreate(
                        name=settings.bureau_name or "大数据局",
                        uscc=settings.bureau_uscc,
                        role=Role.ADMIN,
                        public_keys=[settings.bureau_public_key],
                    ),
                )
        if anchorer is not None and not isinstance(anchorer, Anchorer):
            app.state.anchorer = anchorer(sessions)
        workers: list[Relay | ChainSync | Anchorer] = [
            w for w in (relay, sync, app.state.anchorer) if w is not None
        ]
        if run_relay:
            for worker in workers:
                worker.start()
        try:
            yield
        finally:
            for worker in reversed(workers):
                worker.stop()
            if app.state.anchorer is not None:
                app.state.anchorer.close()  # the witnesses' keep-alive connections
            engine.dispose()

    app = FastAPI(title="tdex exchange", version="1.0.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.clock = clock
    app.state.relay = relay
    app.state.sync = sync
    app.state.anchorer = anchorer if isinstance(anchorer, Anchorer) else None
    app.state.verifier = RequestVerifier(sessions, settings.signature_window_s, clock)
    problems.install(app)
    for module in (system, orgs, catalog, applications, grants, audit, certificates, jobs):
        app.include_router(module.router)
    console.install(app)  # the web console's pages at /console
    ops.install(app)  # /healthz, /readyz, /metrics, X-Request-Id and JSON access lines
    if not settings.is_development:
        configure_json_logging()
    return app


def tune_process() -> None:
    """Process settings for serving: hand the GIL over sooner than the default 5 ms.

    Handlers run in worker threads; when one finishes, the event loop must win the GIL back to
    send the response, and with the default interval that wait alone can cost milliseconds.
    """
    sys.setswitchinterval(0.0005)


def create_app_for(settings: Settings) -> FastAPI:
    """The app for `settings`, wired to their chain when one is set: relay, sync, the audit
    anchorer (with a log operator keystore; it signs and cosigns without a chain too), and the
    readers the certificate and credit services use (`routes.certificates.anchors_of` /
    `credit_reader_of`).
    """
    if not settings.chain_url:
        return create_app(settings, anchorer=anchorer_for(settings, None))
    from exchange_api.ledger_writer import connect_readers, connect_writer

    writer = connect_writer(settings)
    anchorer = anchorer_for(settings, writer.deployment, writer.accounts())
    app = create_app(settings, writer=writer, reader=writer, anchorer=anchorer)
    app.state.certificate_anchors, app.state.credit_reader = connect_readers(writer.deployment)
    return app


def create_app_from_env() -> FastAPI:
    """The app from the environment's settings (for `uvicorn --factory`); no relay without a chain."""
    tune_process()
    return create_app_for(Settings.from_env())
