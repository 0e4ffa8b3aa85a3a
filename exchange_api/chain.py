"""Chain writes behind a small protocol: one signing method per outbox kind, plus send and confirm.

The relay never sends what it has not first stored: it asks the writer to *sign* a transaction
(with a nonce the relay chose), commits the raw bytes, and only then broadcasts them. After a crash
it re-broadcasts the same bytes, so a write can land at most once. `FakeChain` is the in-memory
writer for tests that are not about the chain; `exchange_api.ledger_writer` drives the real one.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from exchange_api.errors import ChainRejected, ChainUnavailable

__all__ = ["SIGNERS", "ChainWriter", "Confirmation", "FakeChain", "PreparedTx"]

# Outbox kind -> the ChainWriter method that signs it.
SIGNERS: dict[str, str] = {
    "member.admit": "sign_admit_member",
    "catalog.register": "sign_register_resource",
    "catalog.publish_version": "sign_publish_version",
    "catalog.withdraw": "sign_withdraw_resource",
    "grants.apply": "sign_apply",
    "grants.approve": "sign_approve",
    "grants.reject": "sign_reject",
    "grants.withdraw": "sign_withdraw_application",
    "grants.revoke": "sign_revoke",
}


@dataclass(frozen=True)
class PreparedTx:
    """A signed transaction, stored before it is ever broadcast."""

    account: str
    nonce: int
    raw: str
    tx_hash: str


@dataclass(frozen=True)
class Confirmation:
    """A mined transaction: block, success, and what it produced (ids, hashes) for later writes."""

    tx_hash: str
    block_number: int
    ok: bool
    result: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None


class ChainWriter(Protocol):
    """What the relay needs from the chain.

    Each `sign_*` method receives the sending organisation's id, the outbox payload, `inputs`
    (what earlier writes produced: the chain's application id, the previous version hash...) and
    the nonce to use; it signs without sending. `ChainUnavailable` means "try later";
    `ChainRejected` means never.
    """

    def account_of(self, org_id: str) -> str:
        """The chain account that signs for organisation `org_id`."""
        ...

    def pending_nonce(self, account: str) -> int:
        """The next nonce the chain expects from `account`, counting its pool."""
        ...

    def mined_nonce(self, account: str) -> int:
        """How many transactions of `account` are mined."""
        ...

    def broadcast(self, prepared: PreparedTx) -> None:
        """Send a signed transaction; sending the same one again is harmless."""
        ...

    def confirmation(self, kind: str, tx_hash: str) -> Confirmation | None:
        """The outcome of `tx_hash` once mined (None before); `kind` says how to read its events."""
        ...

    def sign_admit_member(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx: ...
    def sign_register_resource(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx: ...
    def sign_publish_version(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx: ...
    def sign_withdraw_resource(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx: ...
    def sign_apply(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx: ...
    def sign_approve(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx: ...
    def sign_reject(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx: ...
    def sign_withdraw_application(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx: ...
    def sign_revoke(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx: ...


class FakeChain:
    """An in-memory chain for tests: nonces, instant mining, an outage switch, and effect counters.

    `effects` lists every state change the "contracts" applied, so a test can check that each
    write landed exactly once; `down = True` makes every call raise `ChainUnavailable`.
    """

    def __init__(self, accounts: Mapping[str, str] | None = None, *, automine: bool = True) -> None:
        self.down = False
        self.automine = automine
        self._accounts = dict(accounts or {})
        self._lock = threading.Lock()
        self._nonces: dict[str, int] = {}
        self._pool: dict[str, dict[str, Any]] = {}
        self._mined: dict[str, Confirmation] = {}
        self.effects: list[dict[str, Any]] = []
        self.block = 0
        self.broadcasts = 0
        self._apps = 0
        self.rejecting: set[str] = set()  # outbox kinds the fake contracts revert

    # -- transport
    def _up(self) -> None:
        if self.down:
            raise ChainUnavailable("fake chain is down")

    def account_of(self, org_id: str) -> str:
        self._up()
        if org_id not in self._accounts:
            self._accounts[org_id] = "0x" + hashlib.sha256(org_id.encode()).hexdigest()[:40]
        return self._accounts[org_id]

    def pending_nonce(self, account: str) -> int:
        self._up()
        with self._lock:
            pooled = [tx["nonce"] for tx in self._pool.values() if tx["account"] == account]
            return max([self._nonces.get(account, 0), *(n + 1 for n in pooled)])

    def mined_nonce(self, account: str) -> int:
        self._up()
        return self._nonces.get(account, 0)

    def broadcast(self, prepared: PreparedTx) -> None:
        self._up()
        with self._lock:
            self.broadcasts += 1
            if prepared.tx_hash in self._mined or prepared.tx_hash in self._pool:
                return  # already known: a re-broadcast after a crash
            tx = json.loads(bytes.fromhex(prepared.raw[2:]))
            if tx["nonce"] < self._nonces.get(prepared.account, 0):
                raise ChainRejected(f"nonce too low: {tx['nonce']}", code="chain.nonce_too_low")
            self._pool[prepared.tx_hash] = tx
        if self.automine:
            self.mine()

    def mine(self) -> None:
        """Mine every pooled transaction whose nonce is next for its account."""
        self._up()
        with self._lock:
            progressed = True
            while progressed:
                progressed = False
                for tx_hash, tx in sorted(self._pool.items(), key=lambda kv: kv[1]["nonce"]):
                    if tx["nonce"] == self._nonces.get(tx["account"], 0):
                        self.block += 1
                        self._nonces[tx["account"]] = tx["nonce"] + 1
                        del self._pool[tx_hash]
                        self._mined[tx_hash] = self._apply(tx_hash, tx)
                        progressed = True
                        break

    def _apply(self, tx_hash: str, tx: dict[str, Any]) -> Confirmation:
        kind = tx["kind"]
        if kind in self.rejecting:
            return Confirmation(tx_hash, self.block, ok=False, error="FakeRevert()")
        result: dict[str, Any] = {}
        if kind == "grants.apply":
            self._apps += 1
            result["chain_application_id"] = self._apps
        if kind in {"catalog.register", "catalog.publish_version"}:
            result["version_hash"] = "0x" + hashlib.sha256(tx_hash.encode()).hexdigest()
        self.effects.append(
            {
                "kind": kind,
                "payload": tx["payload"],
                "inputs": tx["inputs"],
                "block": self.block,
                "tx_hash": tx_hash,
            }
        )
        return Confirmation(tx_hash, self.block, ok=True, result=result)

    def events_since(self, block: int) -> tuple[list[Any], int]:
        """The applied writes as `exchange_api.sync.ChainEvent`s (the fake's `ChainReader`)."""
        from exchange_api.sync import ChainEvent

        self._up()
        names = {
            "catalog.register": "catalog.version",
            "catalog.publish_version": "catalog.version",
            "catalog.withdraw": "catalog.withdrawn",
            "grants.approve": "grants.issued",
            "grants.revoke": "grants.revoked",
            "member.admit": "member.admitted",
        }
        events = []
        for effect in self.effects:
            if effect["block"] < block:
                continue
            kind, payload = effect["kind"], effect["payload"]
            if kind == "grants.apply" and payload.get("share_type") == "unconditional":
                # An unconditional grant is issued with its application; its policy is the agreement.
                kind, payload = "grants.approve", {**payload, "agreement_hash": payload["policy_hash"]}
            if kind not in names:
                continue
            events.append(ChainEvent(names[kind], effect["block"], effect["tx_hash"], dict(payload)))
        return events, self.block + 1

    def confirmation(self, kind: str, tx_hash: str) -> Confirmation | None:
        self._up()
        return self._mined.get(tx_hash)

    # -- signing: one method per kind, all the same in the fake
    def _sign(
        self, kind: str, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        self._up()
        account = self.account_of(sender)
        body = {
            "kind": kind,
            "payload": dict(payload),
            "inputs": dict(inputs),
            "nonce": nonce,
            "account": account,
        }
        raw = json.dumps(body, sort_keys=True).encode()
        return PreparedTx(
            account=account, nonce=nonce, raw="0x" + raw.hex(), tx_hash="0x" + hashlib.sha256(raw).hexdigest()
        )

    def sign_admit_member(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        return self._sign("member.admit", sender, payload, inputs, nonce)

    def sign_register_resource(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        return self._sign("catalog.register", sender, payload, inputs, nonce)

    def sign_publish_version(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        return self._sign("catalog.publish_version", sender, payload, inputs, nonce)

    def sign_withdraw_resource(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        return self._sign("catalog.withdraw", sender, payload, inputs, nonce)

    def sign_apply(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        return self._sign("grants.apply", sender, payload, inputs, nonce)

    def sign_approve(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        return self._sign("grants.approve", sender, payload, inputs, nonce)

    def sign_reject(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        return self._sign("grants.reject", sender, payload, inputs, nonce)

    def sign_withdraw_application(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        return self._sign("grants.withdraw", sender, payload, inputs, nonce)

    def sign_revoke(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        return self._sign("grants.revoke", sender, payload, inputs, nonce)
