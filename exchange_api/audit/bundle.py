"""Proof bundles and their offline verification: no database, no web framework, no exchange needed.

A bundle proves one audit entry::

    {"kind": "tdex.audit.bundle", "version": 1,
     "index": 41,                                   # the entry's position in the log
     "entry": "{\\"actor\\":…}",                      # the entry's exact canonical JSON, as text
     "leaf_hash": "<hex>",                          # RFC 6962 leaf hash of those bytes
     "record": {…},                                 # the full record (optional)
     "inclusion_proof": ["<hex>", …],               # RFC 9162 path to the checkpoint's root
     "checkpoint": "<signed note>",                 # C2SP checkpoint, operator + witness signatures
     "keys": {"log": "<vkey>", "witnesses": ["<vkey>", …]},   # as the exchange says; pin your own
     "anchor": {"chain_id": 31337, "contract": "0x…", "log_id": "0x…", "sequence": 3,
                "tx_hash": "0x…", "block_number": 17}}         # null while not anchored

``log_id`` is SHA-256 of the checkpoint's origin line. Keys are written in the signed-note
verifier-key form ``<name>+<8 hex key id>+<base64(type ‖ Ed25519 public key)>``, type 0x01 for
ordinary note signatures (the log operator's, older witnesses') and 0x04 for timestamped
c2sp.org/tlog-cosignature ``cosignature/v1`` witness cosignatures.

:func:`verify_bundle` runs every check and raises :class:`~exchange_api.audit.errors.BundleInvalid`
listing each one that failed by field (``entry``, ``index``, ``record``, ``checkpoint``,
``checkpoint.signature.log``, ``checkpoint.signature.witness``, ``inclusion_proof``, ``anchor``,
``anchor.log_id``, ``anchor.chain_id``, ``anchor.tx_hash``, ``anchor.block_number``,
``anchor.contract``, ``anchor.sequence``, ``anchor.tree_size``, ``anchor.root_hash``); given an
:class:`AnchorLookup` (a chain) it also checks the anchor is on chain. It imports only ``tlog``,
``keys`` and, for :class:`ChainAnchorLookup`, ``ledger``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from exchange_api.audit._entry import AuditEntry, EntryFormatError, record_sha256
from exchange_api.audit.errors import BundleFailure, BundleInvalid, BundleMalformed
from keys import Ed25519VerifyKey, keccak256
from keys.errors import CanonicalizationError
from tlog import (
    SIGNATURE_TYPE_COSIGNATURE_V1,
    SIGNATURE_TYPE_ED25519,
    Checkpoint,
    NoteVerifier,
    SignedNote,
    TlogError,
    cosignature_v1_verifier,
    leaf_hash,
    verify_inclusion,
    verify_note,
)

if TYPE_CHECKING:
    import ledger

__all__ = [
    "BUNDLE_KIND",
    "BUNDLE_VERSION",
    "AnchorInfo",
    "AnchorLookup",
    "BundleReport",
    "ChainAnchorLookup",
    "OnChainAnchor",
    "ProofBundle",
    "TrustedKeys",
    "format_vkey",
    "log_id_for",
    "parse_vkey",
    "verify_bundle",
]

BUNDLE_KIND = "tdex.audit.bundle"
BUNDLE_VERSION = 1
ANCHOR_EVENT_TOPIC = keccak256(b"CheckpointAnchored(bytes32,uint64,uint64,bytes32,address)")


def log_id_for(origin: str) -> bytes:
    """The on-chain id of the log with checkpoint origin ``origin``: SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(origin.encode()).digest()


# ----------------------------------------------------------------------------------- keys


def format_vkey(name: str, key: Ed25519VerifyKey, signature_type: int = SIGNATURE_TYPE_ED25519) -> str:
    """The signed-note verifier key text of an Ed25519 key: ``name+keyid+base64(type‖key)``.

    ``signature_type`` is 0x01 (``SIGNATURE_TYPE_ED25519``, plain note signatures) or 0x04
    (``SIGNATURE_TYPE_COSIGNATURE_V1``, a witness's timestamped cosignatures).
    """
    verifier = _verifier(name, signature_type, key)
    blob = base64.b64encode(bytes([signature_type]) + key.public_bytes).decode("ascii")
    return f"{name}+{verifier.key_id.hex()}+{blob}"


def _verifier(name: str, signature_type: int, key: Ed25519VerifyKey) -> NoteVerifier:
    if signature_type == SIGNATURE_TYPE_ED25519:
        return NoteVerifier.ed25519(name, key.public_bytes, key)
    if signature_type == SIGNATURE_TYPE_COSIGNATURE_V1:
        return cosignature_v1_verifier(name, key.public_bytes, key)
    raise ValueError(f"verifier key {name!r}: signature type 0x{signature_type:02x} is not supported")


def parse_vkey(text: str) -> NoteVerifier:
    """Read a verifier key of type 0x01 or 0x04 (see :func:`format_vkey`); ValueError says what is wrong."""
    parts = text.strip().split("+", 2)  # the base64 key itself may contain "+"
    if len(parts) != 3:
        raise ValueError("a verifier key is name+keyid+base64key")
    name, id_hex, blob = parts
    try:
        raw = base64.b64decode(blob, validate=True)
        key_id = bytes.fromhex(id_hex)
    except (binascii.Error, ValueError) as err:
        raise ValueError(f"verifier key {name!r} is not hex and base64: {err}") from err
    if len(raw) != 33 or raw[0] not in (SIGNATURE_TYPE_ED25519, SIGNATURE_TYPE_COSIGNATURE_V1):
        raise ValueError(f"verifier key {name!r} is not an Ed25519 note or cosignature/v1 key")
    verifier = _verifier(name, raw[0], Ed25519VerifyKey(raw[1:]))
    if not hmac.compare_digest(verifier.key_id, key_id):
        raise ValueError(f"verifier key {name!r}: key id does not match the key")
    return verifier


@dataclass(frozen=True)
class TrustedKeys:
    """The keys a verifier trusts: the log operator's, the witnesses', and how many cosignatures it needs."""

    log: tuple[NoteVerifier, ...]
    witnesses: tuple[NoteVerifier, ...]
    min_witnesses: int = 1

    @classmethod
    def from_vkeys(cls, log: Sequence[str], witnesses: Sequence[str], min_witnesses: int = 1) -> TrustedKeys:
        """Trusted keys from verifier-key texts."""
        return cls(tuple(map(parse_vkey, log)), tuple(map(parse_vkey, witnesses)), min_witnesses)


# ----------------------------------------------------------------------------------- bundle


@dataclass(frozen=True)
class AnchorInfo:
    """Where a checkpoint was anchored: chain, AuditAnchor contract, log id, sequence, transaction, block."""

    chain_id: int
    contract: str
    log_id: str
    sequence: int
    tx_hash: str
    block_number: int

    def to_json(self) -> dict[str, Any]:
        """The anchor as a JSON object."""
        return {
            "chain_id": self.chain_id,
            "contract": self.contract,
            "log_id": self.log_id,
            "sequence": self.sequence,
            "tx_hash": self.tx_hash,
            "block_number": self.block_number,
        }


@dataclass(frozen=True)
class ProofBundle:
    """Everything needed to verify one entry offline (see the module docstring for the JSON form)."""

    index: int
    entry: str
    leaf_hash: str
    inclusion_proof: tuple[str, ...]
    checkpoint: str
    log_key: str
    witness_keys: tuple[str, ...]
    anchor: AnchorInfo | None
    record: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The bundle as a JSON object."""
        out: dict[str, Any] = {
            "kind": BUNDLE_KIND,
            "version": BUNDLE_VERSION,
            "index": self.index,
            "entry": self.entry,
            "leaf_hash": self.leaf_hash,
            "inclusion_proof": list(self.inclusion_proof),
            "checkpoint": self.checkpoint,
            "keys": {"log": self.log_key, "witnesses": list(self.witness_keys)},
            "anchor": self.anchor.to_json() if self.anchor is not None else None,
        }
        if self.record is not None:
            out["record"] = dict(self.record)
        return out

    def dumps(self) -> str:
        """The bundle as indented JSON text (what ``tdex audit verify`` reads)."""
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProofBundle:
        """Read a bundle object; BundleMalformed names the first field of the wrong shape."""
        if not isinstance(data, Mapping):
            raise BundleMalformed("bundle", "not a JSON object")
        if data.get("kind") != BUNDLE_KIND:
            raise BundleMalformed("kind", f"must be {BUNDLE_KIND!r}")
        if data.get("version") != BUNDLE_VERSION:
            raise BundleMalformed("version", f"must be {BUNDLE_VERSION}")
        index = _want(data, "index", int)
        entry = _want(data, "entry", str)
        leaf = _want(data, "leaf_hash", str)
        proof = _want(data, "inclusion_proof", list)
        if not all(isinstance(p, str) for p in proof):
            raise BundleMalformed("inclusion_proof", "must be a list of hex strings")
        checkpoint = _want(data, "checkpoint", str)
        keys = _want(data, "keys", dict)
        log_key = _want(keys, "log", str, "keys.log")
        witnesses = _want(keys, "witnesses", list, "keys.witnesses")
        if not all(isinstance(w, str) for w in witnesses):
            raise BundleMalformed("keys.witnesses", "must be a list of verifier keys")
        record = data.get("record")
        if record is not None and not isinstance(record, dict):
            raise BundleMalformed("record", "must be a JSON object")
        raw_anchor = data.get("anchor")
        anchor = None
        if raw_anchor is not None:
            if not isinstance(raw_anchor, dict):
                raise BundleMalformed("anchor", "must be a JSON object or null")
            anchor = AnchorInfo(
                chain_id=_want(raw_anchor, "chain_id", int, "anchor.chain_id"),
                contract=_want(raw_anchor, "contract", str, "anchor.contract"),
                log_id=_want(raw_anchor, "log_id", str, "anchor.log_id"),
                sequence=_want(raw_anchor, "sequence", int, "anchor.sequence"),
                tx_hash=_want(raw_anchor, "tx_hash", str, "anchor.tx_hash"),
                block_number=_want(raw_anchor, "block_number", int, "anchor.block_number"),
            )
        return cls(index, entry, leaf, tuple(proof), checkpoint, log_key, tuple(witnesses), anchor, record)

    @classmethod
    def loads(cls, text: str | bytes) -> ProofBundle:
        """Read a bundle from JSON text."""
        try:
            data = json.loads(text)
        except ValueError as err:
            raise BundleMalformed("bundle", f"not JSON: {err}") from err
        return cls.from_json(data)


def _want(data: Mapping[str, Any], key: str, kind: type, where: str | None = None) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BundleMalformed(where or key, f"missing or not a {kind.__name__}")
    return value


# ----------------------------------------------------------------------------------- chain


@dataclass(frozen=True)
class OnChainAnchor:
    """What the chain says about one anchoring transaction."""

    succeeded: bool
    block_number: int
    #: (contract address, log id, sequence, tree size, root hash) of each CheckpointAnchored event.
    events: tuple[tuple[str, bytes, int, int, bytes], ...]


class AnchorLookup(Protocol):
    """Read access to the chain a bundle claims its anchor is on."""

    def chain_id(self) -> int:
        """The chain's id."""
        ...

    def anchor_transaction(self, tx_hash: str) -> OnChainAnchor | None:
        """The mined transaction ``tx_hash`` and its anchor events, or None when the chain has none."""
        ...

    def stored_checkpoint(self, contract: str, log_id: bytes, sequence: int) -> tuple[int, bytes] | None:
        """(tree size, root) stored by the contract for checkpoint ``sequence`` of ``log_id``, if any."""
        ...


class ChainAnchorLookup:
    """An :class:`AnchorLookup` over a ``ledger.Chain`` (an RPC URL, Anvil or eth-tester)."""

    def __init__(self, chain: ledger.Chain) -> None:
        self._chain = chain

    @classmethod
    def connect(cls, url: str) -> ChainAnchorLookup:
        """Connect to a JSON-RPC endpoint (close with :meth:`close`)."""
        import ledger

        return cls(ledger.connect(url))

    def close(self) -> None:
        """Close the chain connection."""
        self._chain.close()

    def chain_id(self) -> int:
        return self._chain.chain_id

    def anchor_transaction(self, tx_hash: str) -> OnChainAnchor | None:
        raw = self._chain.rpc("eth_getTransactionReceipt", [tx_hash])
        if not raw or not raw.get("blockNumber"):
            return None
        events = []
        for log in raw.get("logs", ()):
            topics = [bytes.fromhex(str(t)[2:]) for t in log.get("topics", ())]
            data = bytes.fromhex(str(log.get("data", "0x"))[2:])
            if len(topics) == 3 and topics[0] == ANCHOR_EVENT_TOPIC and len(data) >= 64:
                events.append(
                    (
                        str(log["address"]).lower(),
                        topics[1],
                        int.from_bytes(topics[2], "big"),
                        int.from_bytes(data[:32], "big"),
                        data[32:64],
                    )
                )
        return OnChainAnchor(
            succeeded=int(raw.get("status", "0x1"), 16) == 1,
            block_number=int(raw["blockNumber"], 16),
            events=tuple(events),
        )

    def stored_checkpoint(self, contract: str, log_id: bytes, sequence: int) -> tuple[int, bytes] | None:
        from ledger import AuditAnchor
        from ledger.errors import LedgerError

        try:
            checkpoint = AuditAnchor(self._chain, contract).checkpoint_at(log_id, sequence)
        except LedgerError:
            return None
        return checkpoint.tree_size, bytes(checkpoint.root_hash)


# ----------------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class BundleReport:
    """What a verified bundle established."""

    index: int
    kind: str
    subject: str
    time: str
    origin: str
    tree_size: int
    root_hash: str
    log_signer: str
    witnesses: tuple[str, ...]
    keys_pinned: bool
    record_checked: bool
    anchored_on_chain: bool
    notes: tuple[str, ...] = field(default=())

    def lines(self) -> list[str]:
        """Human-readable lines, one per established fact."""
        out = [
            f"entry {self.index}: {self.kind} on {self.subject} at {self.time}",
            f"included in {self.origin} at tree size {self.tree_size}, root {self.root_hash}",
            f"checkpoint signed by {self.log_signer}; cosigned by {', '.join(self.witnesses)}",
            "full record matches the entry's hash" if self.record_checked else "no record in the bundle",
            "anchor found on chain and matches" if self.anchored_on_chain else "anchor not checked on chain",
        ]
        return out + list(self.notes)


def verify_bundle(
    bundle: ProofBundle | Mapping[str, Any] | str | bytes,
    *,
    trusted: TrustedKeys | None = None,
    chain: AnchorLookup | None = None,
    contract: str | None = None,
) -> BundleReport:
    """Verify a proof bundle; return what it established or raise BundleInvalid naming every failure.

    ``trusted`` pins the log and witness keys (without it the keys written in the bundle are used,
    which only proves the bundle is self-consistent; the report says so). With ``chain`` the anchor
    transaction, its event and the contract's stored checkpoint are checked; ``contract`` pins the
    AuditAnchor address (else the bundle's is used and the report says so).

    Raises
    ------
    BundleMalformed
        The document is not a bundle (names the field).
    BundleInvalid
        One or more checks failed; ``failures`` lists each with its field and code.
    """
    if isinstance(bundle, str | bytes):
        bundle = ProofBundle.loads(bundle)
    elif not isinstance(bundle, ProofBundle):
        bundle = ProofBundle.from_json(bundle)
    fail = _Failures()
    notes: list[str] = []

    # The entry: canonical, well-formed, hashing to the declared leaf hash, at the declared index.
    entry_bytes = bundle.entry.encode("utf-8")
    entry: AuditEntry | None = None
    try:
        entry = AuditEntry.from_bytes(entry_bytes)
    except EntryFormatError as err:
        fail("entry", "audit.entry_malformed", str(err))
    actual_leaf = leaf_hash(entry_bytes)
    declared_leaf = _hex32(bundle.leaf_hash)
    if declared_leaf is None:
        fail("leaf_hash", "audit.hash_malformed", "not 64 hex digits")
    if entry is not None and entry.index != bundle.index:
        fail("index", "audit.index_mismatch", f"bundle says {bundle.index}, the entry says {entry.index}")

    record_checked = False
    if bundle.record is not None and entry is not None:
        try:
            got = record_sha256(bundle.record)
        except CanonicalizationError as err:
            fail("record", "audit.record_malformed", f"no canonical form: {err}")
        else:
            if not hmac.compare_digest(got, entry.record_sha256):
                fail(
                    "record",
                    "audit.record_hash_mismatch",
                    "the record does not hash to the entry's record_sha256",
                )
            else:
                record_checked = True

    # The checkpoint and its signatures.
    checkpoint: Checkpoint | None = None
    log_signer = ""
    cosigners: tuple[str, ...] = ()
    note: SignedNote | None = None
    try:
        note = SignedNote.parse(bundle.checkpoint)
        checkpoint = Checkpoint.from_text(note.text)
    except TlogError as err:
        fail("checkpoint", err.code, str(err))
    keys_pinned = trusted is not None
    if trusted is None:
        try:
            trusted = TrustedKeys(
                (parse_vkey(bundle.log_key),), tuple(parse_vkey(w) for w in bundle.witness_keys)
            )
        except ValueError as err:
            fail("keys", "audit.key_malformed", str(err))
        notes.append("keys taken from the bundle itself (not pinned): pin them with trusted keys")
    if note is not None and trusted is not None:
        log_signer = ", ".join(_check_signatures(note, trusted.log, 1, "checkpoint.signature.log", fail))
        cosigners = _check_signatures(
            note, trusted.witnesses, trusted.min_witnesses, "checkpoint.signature.witness", fail
        )

    # The inclusion proof. When the entry and leaf_hash disagree, whichever the proof confirms is
    # the genuine one, which tells an altered entry from an altered leaf_hash.
    proof = [p for p in map(_hex32, bundle.inclusion_proof) if p is not None]
    proof_usable = checkpoint is not None and len(proof) == len(bundle.inclusion_proof)
    if len(proof) != len(bundle.inclusion_proof):
        fail("inclusion_proof", "audit.hash_malformed", "every proof element must be 64 hex digits")
    proof_error: TlogError | None = None
    if proof_usable and checkpoint is not None:
        proof_error = _inclusion_error(actual_leaf, bundle.index, checkpoint, proof)
    if declared_leaf is not None and not hmac.compare_digest(actual_leaf, declared_leaf):
        if proof_usable and proof_error is None:
            fail("leaf_hash", "audit.leaf_hash_mismatch", "not the entry's leaf hash (leaf_hash altered)")
        else:
            fail("entry", "audit.entry_hash_mismatch", "the entry does not hash to leaf_hash (entry altered)")
            if proof_usable and checkpoint is not None:
                proof_error = _inclusion_error(declared_leaf, bundle.index, checkpoint, proof)
    if proof_error is not None:
        fail("inclusion_proof", proof_error.code, str(proof_error))

    # The anchor: present, for this log, and (given a chain) really there.
    anchored_on_chain = False
    if bundle.anchor is None:
        fail("anchor", "audit.not_anchored", "the checkpoint has no anchoring transaction")
    elif checkpoint is not None:
        expected_id = log_id_for(checkpoint.origin)
        if _hex32(bundle.anchor.log_id.removeprefix("0x")) != expected_id:
            fail("anchor.log_id", "audit.log_id_mismatch", "not SHA-256 of the checkpoint's origin")
        if chain is None:
            notes.append("anchor not checked on chain: give a chain endpoint to check it")
        else:
            anchored_on_chain = _check_on_chain(bundle.anchor, checkpoint, expected_id, chain, contract, fail)
            if anchored_on_chain and contract is None:
                notes.append("contract address taken from the bundle (not pinned)")

    if fail.items:
        raise BundleInvalid(fail.items)
    assert entry is not None and checkpoint is not None
    return BundleReport(
        index=entry.index,
        kind=entry.kind,
        subject=entry.subject,
        time=entry.time,
        origin=checkpoint.origin,
        tree_size=checkpoint.size,
        root_hash=checkpoint.root.hex(),
        log_signer=log_signer,
        witnesses=cosigners,
        keys_pinned=keys_pinned,
        record_checked=record_checked,
        anchored_on_chain=anchored_on_chain,
        notes=tuple(notes),
    )


def _inclusion_error(leaf: bytes, index: int, checkpoint: Checkpoint, proof: list[bytes]) -> TlogError | None:
    try:
        verify_inclusion(leaf, index, checkpoint.size, proof, checkpoint.root)
    except TlogError as err:
        return err
    return None


def _hex32(text: str) -> bytes | None:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return None
    return raw if len(raw) == 32 and text == raw.hex() else None


class _Failures:
    """The failed checks of one verification, in order."""

    def __init__(self) -> None:
        self.items: list[BundleFailure] = []

    def __call__(self, field_name: str, code: str, message: str) -> None:
        self.items.append(BundleFailure(field_name, code, message))

    def __len__(self) -> int:
        return len(self.items)


def _check_signatures(
    note: SignedNote, verifiers: Sequence[NoteVerifier], needed: int, where: str, fail: _Failures
) -> tuple[str, ...]:
    """Names of ``verifiers`` whose signature verifies; fail ``where`` unless ``needed`` of them do."""
    good: list[str] = []
    for verifier in verifiers:
        try:
            verify_note(note, [verifier])
        except TlogError as err:
            if err.code == "tlog.signature_invalid":
                fail(where, err.code, str(err))
                return ()
            continue
        good.append(verifier.name)
    if len(good) < needed:
        fail(
            where, "tlog.note_unverified", f"{len(good)} valid signature(s) by trusted keys, {needed} needed"
        )
        return ()
    return tuple(good)


def _check_on_chain(
    anchor: AnchorInfo,
    checkpoint: Checkpoint,
    log_id: bytes,
    chain: AnchorLookup,
    contract: str | None,
    fail: _Failures,
) -> bool:
    """Check the anchor against the chain; report each disagreement; True when all agree."""
    before = len(fail)
    if chain.chain_id() != anchor.chain_id:
        fail("anchor.chain_id", "audit.chain_mismatch", f"the endpoint is chain {chain.chain_id()}")
        return False
    address = (contract or anchor.contract).lower()
    if contract is not None and contract.lower() != anchor.contract.lower():
        fail(
            "anchor.contract",
            "audit.contract_mismatch",
            f"the bundle names {anchor.contract}, not {contract}",
        )
    tx = chain.anchor_transaction(anchor.tx_hash)
    if tx is None or not tx.succeeded:
        fail("anchor.tx_hash", "audit.tx_not_found", "no successful transaction with this hash on chain")
        return False
    if tx.block_number != anchor.block_number:
        fail("anchor.block_number", "audit.block_mismatch", f"the transaction is in block {tx.block_number}")
    ours = [e for e in tx.events if e[0] == address and e[1] == log_id]
    if not ours:
        fail(
            "anchor.contract",
            "audit.event_not_found",
            f"the transaction emitted no anchor of this log by {address}",
        )
        return False
    event = ours[0]
    if event[2] != anchor.sequence:
        fail("anchor.sequence", "audit.sequence_mismatch", f"the event says sequence {event[2]}")
    if event[3] != checkpoint.size:
        fail(
            "anchor.tree_size",
            "audit.size_mismatch",
            f"anchored tree size {event[3]} is not {checkpoint.size}",
        )
    if event[4] != checkpoint.root:
        fail("anchor.root_hash", "audit.root_mismatch", "the anchored root is not the checkpoint's root")
    stored = chain.stored_checkpoint(address, log_id, event[2])
    if stored != (checkpoint.size, checkpoint.root):
        fail("anchor.sequence", "audit.stored_mismatch", "the contract's stored checkpoint differs")
    return len(fail) == before
