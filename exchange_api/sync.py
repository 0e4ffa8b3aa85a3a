"""Background sync: read chain events back and flag every disagreement with the store.

Each event is matched to the outbox row that sent it (by transaction hash) and to the store's
current record. A write nobody here sent, a hash that differs from the stored one, or a record
the store no longer has becomes a `ChainDiscrepancy` row that the bureau and auditors can list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from exchange_api.background import BackgroundLoop
from exchange_api.core.config import Settings
from exchange_api.core.db import session_scope
from exchange_api.models import ChainDiscrepancy, Grant, OutboxEntry, Resource, ResourceVersion, SyncCursor
from exchange_api.services.context import SYSTEM, Ctx, utcnow
from exchange_api.services.events import record_event

__all__ = ["ChainEvent", "ChainReader", "ChainSync"]

CURSOR = "chain-events"


@dataclass(frozen=True)
class ChainEvent:
    """One chain event in the exchange's terms.

    `kind` is one of `catalog.version` (args: code, version, metadata_hash), `catalog.withdrawn`
    (code), `grants.issued` (agreement_hash), `grants.revoked`, `member.admitted` (org_id_hash).
    """

    kind: str
    block: int
    tx_hash: str
    args: Mapping[str, Any]


class ChainReader(Protocol):
    """Reads the exchange's contract events from a block onwards."""

    def events_since(self, block: int) -> tuple[Sequence[ChainEvent], int]:
        """Events in blocks `>= block`, and the next block to read from."""
        ...


class ChainSync:
    """Compares chain events with the store; `run_once()` per pass or `start()` a thread."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        reader: ChainReader,
        settings: Settings,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._factory = factory
        self._reader = reader
        self._settings = settings
        self._clock = clock
        self._loop = BackgroundLoop("chain-sync", self._pass, settings.sync_interval_s)

    def start(self) -> None:
        """Sync in a background thread until `stop()`."""
        self._loop.start()

    def stop(self) -> None:
        """Stop the background thread."""
        self._loop.stop()

    def _pass(self) -> bool:
        self.run_once()
        return False  # events arrive with blocks: always wait `sync_interval_s` before the next read

    def run_once(self) -> int:
        """Read new events and record disagreements; returns how many were found in this pass."""
        with session_scope(self._factory) as session:
            cursor = session.get(SyncCursor, CURSOR)
            start = cursor.block if cursor is not None else 0
        events, next_block = self._reader.events_since(start)
        found = 0
        with session_scope(self._factory) as session:
            for event in events:
                for field, store_value, chain_value in self._compare(session, event):
                    found += self._flag(
                        session, f"tx:{event.tx_hash}:{event.kind}", field, store_value, chain_value
                    )
            cursor = session.get(SyncCursor, CURSOR)
            if cursor is None:
                session.add(SyncCursor(name=CURSOR, block=next_block))
            else:
                cursor.block = next_block
        return found

    def _compare(self, session: Session, event: ChainEvent) -> list[tuple[str, str | None, str | None]]:
        row = session.scalar(select(OutboxEntry).where(OutboxEntry.tx_hash == event.tx_hash))
        if row is None:
            return [("origin", None, f"{event.kind} sent outside the exchange")]
        out: list[tuple[str, str | None, str | None]] = []
        args, payload = event.args, row.payload
        if event.kind == "catalog.version":
            code, number = str(args.get("code", payload.get("code"))), int(args["version"])
            version = session.scalar(
                select(ResourceVersion)
                .join(Resource, Resource.id == ResourceVersion.resource_id)
                .where(Resource.code == code, ResourceVersion.version == number)
            )
            stored = version.metadata_hash if version is not None else None
            if stored != args["metadata_hash"]:
                out.append(("metadata_hash", stored, str(args["metadata_hash"])))
        elif event.kind == "grants.issued":
            grant_id = payload.get("grant_id")
            grant = (
                session.get(Grant, grant_id)
                if grant_id
                else session.scalar(
                    select(Grant).where(Grant.application_id == payload.get("application_id"))
                )
            )
            stored = grant.agreement_hash if grant is not None else None
            if stored != args["agreement_hash"]:
                out.append(("agreement_hash", stored, str(args["agreement_hash"])))
        elif event.kind == "grants.revoked":
            grant = session.get(Grant, payload.get("grant_id"))
            if grant is None or grant.state != "revoked":
                out.append(("state", grant.state if grant else None, "revoked"))
        elif event.kind == "catalog.withdrawn":
            code = str(args.get("code", payload.get("code")))
            resource = session.scalar(select(Resource).where(Resource.code == code))
            if resource is None or resource.status != "withdrawn":
                out.append(("status", resource.status if resource else None, "withdrawn"))
        elif event.kind == "member.admitted" and payload.get("org_id_hash") != args.get("org_id_hash"):
            out.append(("org_id_hash", payload.get("org_id_hash"), str(args.get("org_id_hash"))))
        return out

    def _flag(
        self, session: Session, subject: str, field: str, store_value: str | None, chain_value: str | None
    ) -> int:
        exists = session.scalar(
            select(ChainDiscrepancy.id).where(
                ChainDiscrepancy.subject == subject,
                ChainDiscrepancy.field == field,
                ChainDiscrepancy.chain_value == chain_value,
            )
        )
        if exists is not None:
            return 0
        try:
            with session.begin_nested():
                session.add(
                    ChainDiscrepancy(
                        subject=subject,
                        field=field,
                        store_value=store_value,
                        chain_value=chain_value,
                        detected_at=self._clock(),
                    )
                )
        except IntegrityError:
            return 0
        record_event(
            Ctx(session, self._settings, SYSTEM, self._clock),
            "chain.discrepancy",
            SYSTEM.org_id,
            subject,
            {"field": field, "store_value": store_value, "chain_value": chain_value},
        )
        return 1
