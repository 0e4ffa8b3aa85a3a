"""The real `ChainWriter` and `ChainReader`: the outbox kinds as transactions of the tdex contracts.

Transactions are signed here with the sending organisation's account key (a `ledger.Signer`),
returned to the relay to be stored, and only then broadcast. Contract reverts found while
estimating gas become `ChainRejected` carrying the contract's error code; transport failures
become `ChainUnavailable` so the relay retries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ledger
from exchange_api.chain import Confirmation, PreparedTx
from exchange_api.core.config import Settings
from exchange_api.errors import ChainRejected, ChainUnavailable
from exchange_api.sync import ChainEvent
from ledger import ids
from ledger.errors import ContractRevert, LedgerError, NonceConflict, ReceiptTimeout, TransactionRejected

if TYPE_CHECKING:
    from exchange_api.chain_anchors import ChainAnchors
    from exchange_api.services.certificates import LedgerCreditReader

__all__ = ["SUBJECT_SECRET_ENV", "LedgerWriter", "connect_readers", "connect_writer"]

#: The deployment's subject-reference secret (the same variable `tdex cert`/`tdex credit` read).
SUBJECT_SECRET_ENV = "TDEX_SUBJECT_SECRET"  # noqa: S105 - the variable's name, not a secret

SHARE = {
    "unconditional": ledger.ShareType.UNCONDITIONAL,
    "conditional": ledger.ShareType.CONDITIONAL,
    "not_shareable": ledger.ShareType.NOT_SHAREABLE,
}
OPEN = {
    "open": ledger.OpenType.OPEN,
    "on_application": ledger.OpenType.ON_APPLICATION,
    "not_open": ledger.OpenType.NOT_OPEN,
}


def _b32(hex_text: str) -> bytes:
    raw = bytes.fromhex(hex_text.removeprefix("0x"))
    if len(raw) != 32:
        raise ChainRejected(f"not a 32-byte value: {hex_text!r}", code="chain.bad_payload")
    return raw


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


class LedgerWriter:
    """Signs the exchange's writes for the tdex contracts on one chain.

    `signers` maps an organisation id of the exchange to its `ledger.Signer` (its account key):
    the provider signs its catalogue writes, the applicant its applications, the bureau
    admissions, as the contracts require.
    """

    def __init__(
        self,
        deployment: ledger.Deployment,
        signers: Mapping[str, ledger.Signer] | Callable[[str], ledger.Signer | None],
        *,
        admission_deadline_s: int = 7 * 24 * 3600,
    ) -> None:
        self._dep = deployment
        self._chain = deployment.chain
        self._signers = signers
        self._deadline_s = admission_deadline_s

    @property
    def deployment(self) -> ledger.Deployment:
        """The contracts this writer sends to."""
        return self._dep

    def accounts(self) -> list[str]:
        """The accounts this writer signs with, when its signers are a fixed map (else none known)."""
        if callable(self._signers):
            return []
        return [str(s.address).lower() for s in self._signers.values()]

    # ------------------------------------------------------------------ transport
    def _signer(self, org_id: str) -> ledger.Signer:
        signer = self._signers(org_id) if callable(self._signers) else self._signers.get(org_id)
        if signer is None:
            raise ChainRejected(f"no account key held for organisation {org_id}", code="chain.no_signer")
        return signer

    def account_of(self, org_id: str) -> str:
        return str(self._signer(org_id).address).lower()

    def pending_nonce(self, account: str) -> int:
        return self._guard(lambda: self._chain.nonce(account, "pending"))

    def mined_nonce(self, account: str) -> int:
        return self._guard(lambda: self._chain.nonce(account, "latest"))

    @staticmethod
    def _guard(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except ContractRevert as error:
            raise ChainRejected(f"{error.code}: {error}", code="chain.rejected") from None
        except (TransactionRejected, NonceConflict) as error:
            raise ChainRejected(
                str(error),
                code="chain.nonce_too_low" if isinstance(error, NonceConflict) else "chain.rejected",
            ) from None
        except LedgerError as error:
            raise ChainUnavailable(f"{error.code}: {error}") from None

    def broadcast(self, prepared: PreparedTx) -> None:
        signed = ledger.SignedTx(
            raw=bytes.fromhex(prepared.raw.removeprefix("0x")),
            tx_hash=bytes.fromhex(prepared.tx_hash.removeprefix("0x")),
            nonce=prepared.nonce,
            sender=prepared.account,
        )
        self._guard(lambda: self._chain.broadcast(signed))

    def confirmation(self, kind: str, tx_hash: str) -> Confirmation | None:
        try:
            receipt = self._chain.wait_for_receipt(tx_hash, timeout=0.0)
        except ReceiptTimeout:
            return None  # not mined yet
        except LedgerError as error:
            raise ChainUnavailable(f"{error.code}: {error}") from None
        if not receipt.status:
            return Confirmation(tx_hash, receipt.block_number, ok=False, error="reverted")
        result: dict[str, Any] = {}
        for event in receipt.events:
            if event.name == "ResourceVersionPublished":
                result["version_hash"] = _hex(event["versionHash"])
            elif event.name == "ApplicationSubmitted":
                result["chain_application_id"] = int(event["applicationId"])
            elif event.name == "ProposalVoted":
                result["proposal_id"] = int(event["proposalId"])
        return Confirmation(tx_hash, receipt.block_number, ok=True, result=result)

    # ------------------------------------------------------------------ signing
    def _sign(
        self, sender: str, contract: ledger.ContractClient, function: str, args: Sequence[Any], nonce: int
    ) -> PreparedTx:
        signer = self._signer(sender)

        def build() -> PreparedTx:
            request = contract.prepare(function, *args)
            gas = self._chain.estimate_gas(signer.address, request)
            max_fee, tip = self._chain.fees()
            signed = signer.sign_type2(
                chain_id=self._chain.chain_id,
                nonce=nonce,
                max_priority_fee=tip,
                max_fee=max_fee,
                gas=int(gas * 1.2) + 10_000,
                to=bytes.fromhex(str(request.to).removeprefix("0x")),
                value=0,
                data=request.data,
            )
            return PreparedTx(str(signer.address).lower(), nonce, "0x" + signed.raw.hex(), signed.hash_hex)

        result: PreparedTx = self._guard(build)
        return result

    def _app_id(self, inputs: Mapping[str, Any]) -> int:
        if "chain_application_id" not in inputs:
            raise ChainRejected("the application is not on chain", code="chain.missing_application")
        return int(inputs["chain_application_id"])

    def sign_admit_member(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        deadline = self._guard(self._chain.timestamp) + self._deadline_s
        role = ledger.Role[str(payload["role"])]
        capabilities = ledger.Capability.NONE
        for name in payload.get("capabilities", ()):
            capabilities |= ledger.Capability[str(name)]
        args = (_b32(payload["org_id_hash"]), payload["account"], int(role), int(capabilities), deadline)
        return self._sign(sender, self._dep.consortium, "proposeAdmission", args, nonce)

    def sign_register_resource(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        args = (
            ids.resource_id(payload["code"]),
            int(SHARE[payload["share_type"]]),
            int(OPEN[payload["open_type"]]),
            _b32(payload["metadata_hash"]),
            _b32(payload["schema_hash"]),
        )
        return self._sign(sender, self._dep.catalog, "register", args, nonce)

    def sign_publish_version(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        if "version_hash" not in inputs:
            raise ChainRejected("the previous version is not on chain", code="chain.missing_version")
        args = (
            ids.resource_id(payload["code"]),
            _b32(inputs["version_hash"]),
            int(SHARE[payload["share_type"]]),
            int(OPEN[payload["open_type"]]),
            _b32(payload["metadata_hash"]),
            _b32(payload["schema_hash"]),
        )
        return self._sign(sender, self._dep.catalog, "publishVersion", args, nonce)

    def sign_withdraw_resource(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        args = (ids.resource_id(payload["code"]), _b32(payload["reason_hash"]))
        return self._sign(sender, self._dep.catalog, "withdraw", args, nonce)

    def sign_apply(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        args = (
            ids.resource_id(payload["code"]),
            _b32(payload["policy_hash"]),
            _b32(payload["purpose_hash"]),
            int(payload["requested_expiry"]),
            [_b32(t) for t in payload["templates"]],
        )
        return self._sign(sender, self._dep.grants, "applyFor", args, nonce)

    def sign_approve(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        args = (
            self._app_id(inputs),
            int(payload["expiry"]),
            int(payload["max_uses"]),
            int(payload["privacy_budget_units"]),
            _b32(payload["agreement_hash"]),
        )
        return self._sign(sender, self._dep.grants, "approve", args, nonce)

    def sign_reject(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        args = (self._app_id(inputs), _b32(payload["reason_hash"]))
        return self._sign(sender, self._dep.grants, "reject", args, nonce)

    def sign_withdraw_application(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        return self._sign(sender, self._dep.grants, "withdrawApplication", (self._app_id(inputs),), nonce)

    def sign_revoke(
        self, sender: str, payload: Mapping[str, Any], inputs: Mapping[str, Any], nonce: int
    ) -> PreparedTx:
        args = (self._app_id(inputs), _b32(payload["reason_hash"]))
        return self._sign(sender, self._dep.grants, "revoke", args, nonce)

    # ------------------------------------------------------------------ reading (ChainReader)
    def events_since(self, block: int) -> tuple[list[ChainEvent], int]:
        """The contracts' events from `block` on, in the exchange's terms, and the next block to read."""
        head = self._guard(self._chain.block_number)
        if block > head:
            return [], block
        events = self._guard(lambda: self._dep.events(from_block=block, to_block=head))
        out: list[ChainEvent] = []
        for e in events:
            if e.name == "ResourceVersionPublished":
                out.append(
                    ChainEvent(
                        "catalog.version",
                        e.block_number,
                        e.tx_hash,
                        {"version": int(e["version"]), "metadata_hash": _hex(e["metadataHash"])},
                    )
                )
            elif e.name == "ResourceWithdrawn":
                out.append(ChainEvent("catalog.withdrawn", e.block_number, e.tx_hash, {}))
            elif e.name == "GrantIssued":
                out.append(
                    ChainEvent(
                        "grants.issued",
                        e.block_number,
                        e.tx_hash,
                        {"agreement_hash": _hex(e["agreementHash"])},
                    )
                )
            elif e.name == "GrantRevoked":
                out.append(ChainEvent("grants.revoked", e.block_number, e.tx_hash, {}))
        return out, head + 1


def connect_writer(settings: Settings) -> LedgerWriter:  # pragma: no cover - wired by the deployment
    """A writer on `settings.chain_url` with the manifest and account keys named in the environment.

    TDEX_LEDGER_MANIFEST: the deployment manifest; TDEX_ACCOUNT_KEYS: a JSON file mapping
    organisation ids to hex account keys (custodial signing for development and the demo).
    """
    import json
    import os

    chain = ledger.connect(settings.chain_url)
    deployment = ledger.attach(chain, os.environ["TDEX_LEDGER_MANIFEST"])
    with open(os.environ["TDEX_ACCOUNT_KEYS"], encoding="utf-8") as handle:
        keys = json.load(handle)
    return LedgerWriter(deployment, {org: ledger.Signer(key) for org, key in keys.items()})


def connect_readers(
    deployment: ledger.Deployment, environ: Mapping[str, str] | None = None
) -> tuple[ChainAnchors, LedgerCreditReader | None]:
    """The certificate anchor lookup and the credit reader over the deployment's contracts.

    Returns (`ChainAnchors` over `deployment.certificates`, `LedgerCreditReader` over
    `deployment.credit`), what `app.state.certificate_anchors` and `app.state.credit_reader` hold.
    The credit reader needs the deployment's subject-reference secret ($TDEX_SUBJECT_SECRET, at
    least 16 bytes); without it the second value is None (credit-gated applications are then
    refused as having no credit source).
    """
    import os

    from exchange_api.chain_anchors import ChainAnchors
    from exchange_api.services.certificates import LedgerCreditReader

    env = os.environ if environ is None else environ
    secret = env.get(SUBJECT_SECRET_ENV, "").encode("utf-8")
    credit = LedgerCreditReader(deployment.credit, secret) if len(secret) >= 16 else None
    return ChainAnchors(deployment.certificates), credit
