"""cosignature/v1 (c2sp.org/tlog-cosignature): the spec's known answers, round trips, tampering, old sizes."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tlog_reference import ed25519_note_keys, raw_public_key

import tlog

ORIGIN = "audit.tdex.example/log"
NAME = "auditor.example/w1"
SEED = bytes(range(32))
T = 1679315147  # the timestamp of the spec's examples
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_LINE = (
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dl"
    "rDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
)
LOG_SIGNER, LOG_VERIFIER = ed25519_note_keys(ORIGIN, seed=b"\x01" * 32)


def cosigner(clock: float = T) -> tuple[tlog.NoteSigner, tlog.NoteVerifier]:
    """A cosignature/v1 signer (fixed clock) and its verifier, from a fixed seed."""
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    public = raw_public_key(private)
    signer = tlog.cosignature_v1_signer(NAME, public, private, clock=lambda: clock)
    return signer, tlog.cosignature_v1_verifier(NAME, public, private.public_key())


def checkpoint_note(size: int = 5, root: bytes = b"\x07" * 32) -> tlog.SignedNote:
    """A log-signed checkpoint note."""
    return tlog.sign_checkpoint(tlog.Checkpoint(ORIGIN, size, root), LOG_SIGNER)


def test_signed_message_matches_the_spec_example() -> None:
    """The signed message is the header line, the time line, then the checkpoint body, byte for byte."""
    expected = b"cosignature/v1\ntime 1679315147\n" + SPEC_BODY.encode()
    assert tlog.cosignature_v1_message(SPEC_BODY, T) == expected


def test_spec_example_line_parses_to_its_key_id_and_timestamp() -> None:
    """The spec's cosignature line: key ID 8d66cf3f, 8-byte big-endian timestamp, 64-byte signature."""
    note = tlog.SignedNote.parse(SPEC_BODY + "\n" + SPEC_LINE + "\n")
    (sig,) = note.signatures
    assert (sig.name, sig.key_id.hex(), len(sig.signature)) == ("witness.example.com/w1", "8d66cf3f", 72)
    assert tlog.cosignature_v1_timestamp(sig) == T
    assert sig.line() == SPEC_LINE


def test_key_id_uses_type_0x04() -> None:
    """The key ID is SHA-256(name || 0x0A || 0x04 || key)[:4], unlike the 0x01 note key of the same key."""
    public = raw_public_key(Ed25519PrivateKey.from_private_bytes(SEED))
    want = hashlib.sha256(NAME.encode() + b"\n\x04" + public).digest()[:4]
    assert tlog.cosignature_v1_key_id(NAME, public) == want
    assert tlog.cosignature_v1_key_id(NAME, public) != tlog.ed25519_key_id(NAME, public)
    assert tlog.SIGNATURE_TYPE_COSIGNATURE_V1 == 0x04


def test_round_trip_through_text() -> None:
    """A cosigned checkpoint survives formatting and parsing and verifies with its timestamp."""
    signer, verifier = cosigner()
    cosigned = tlog.sign_note(checkpoint_note(), signer)
    parsed = tlog.SignedNote.parse(cosigned.format())
    (good,) = tlog.verify_note(parsed, [verifier])
    assert tlog.cosignature_v1_timestamp(good) == T
    assert good.signature[:8] == T.to_bytes(8, "big")
    assert tlog.open_checkpoint(parsed, [LOG_VERIFIER]).size == 5


@pytest.mark.parametrize("where", ["text", "timestamp", "signature"])
def test_tampering_is_detected(where: str) -> None:
    """Changing the checkpoint, the timestamp or the signature bytes fails verification."""
    signer, verifier = cosigner()
    cosigned = tlog.sign_note(checkpoint_note(), signer)
    sig = cosigned.signatures[-1]
    text = cosigned.text
    raw = bytearray(sig.signature)
    if where == "text":
        text = checkpoint_note(6).text
    elif where == "timestamp":
        raw[7] ^= 1
    else:
        raw[-1] ^= 1
    forged = tlog.SignedNote(text, (tlog.NoteSignature(sig.name, sig.key_id, bytes(raw)),))
    with pytest.raises(tlog.SignatureInvalidError) as caught:
        tlog.verify_note(forged, [verifier])
    assert caught.value.code == "tlog.signature_invalid"


def test_plain_note_signature_is_not_a_cosignature() -> None:
    """An Ed25519 note signature by the same key is ignored by the cosignature verifier (other key ID)."""
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    plain = tlog.NoteSigner.ed25519(NAME, raw_public_key(private), private)
    _, verifier = cosigner()
    with pytest.raises(tlog.NoteUnverifiedError) as caught:
        tlog.verify_note(tlog.sign_note(checkpoint_note(), plain), [verifier])
    assert caught.value.code == "tlog.note_unverified"


@pytest.mark.parametrize("raw", [b"\x00" * 71, b"\x80" + b"\x00" * 71])
def test_malformed_cosignature_bytes_are_refused(raw: bytes) -> None:
    """A signature of the wrong length or with a timestamp above 2**63 - 1 is malformed."""
    with pytest.raises(tlog.MalformedNoteError) as caught:
        tlog.cosignature_v1_timestamp(raw)
    assert caught.value.code == "tlog.note_malformed"


def test_message_refuses_negative_timestamps() -> None:
    """Timestamps are unsigned: a negative one cannot be signed."""
    with pytest.raises(tlog.MalformedNoteError):
        tlog.cosignature_v1_message(SPEC_BODY, -1)


def test_witness_cosigns_with_cosignature_v1() -> None:
    """A tlog.Witness with a cosignature/v1 key produces timestamped cosignatures."""
    signer, verifier = cosigner(clock=T + 60)
    witness = tlog.Witness(signer, {ORIGIN: [LOG_VERIFIER]})
    (sig,) = tlog.verify_note(witness.cosign(checkpoint_note(), []), [verifier])
    assert tlog.cosignature_v1_timestamp(sig) == T + 60


def test_witness_checks_the_old_size() -> None:
    """An old size other than the last cosigned one is refused with the witness's size, under its lock."""
    signer, _ = cosigner()
    witness = tlog.Witness(signer, {ORIGIN: [LOG_VERIFIER]})
    with pytest.raises(tlog.OldSizeMismatchError) as caught:
        witness.cosign(checkpoint_note(5), [], old_size=3)
    assert (caught.value.code, caught.value.current, caught.value.claimed) == ("tlog.old_size_mismatch", 0, 3)
    witness.cosign(checkpoint_note(5), [], old_size=0)
    with pytest.raises(tlog.OldSizeMismatchError) as caught:
        witness.cosign(checkpoint_note(5), [], old_size=0)
    assert caught.value.current == 5
    witness.cosign(checkpoint_note(5), [], old_size=5)  # the same checkpoint again is fine


def test_witness_refuses_an_old_size_above_the_checkpoint() -> None:
    """The old size cannot exceed the checkpoint's size (tlog-witness answers 400)."""
    signer, _ = cosigner()
    witness = tlog.Witness(signer, {ORIGIN: [LOG_VERIFIER]})
    with pytest.raises(tlog.SizeOutOfRangeError) as caught:
        witness.cosign(checkpoint_note(5), [], old_size=6)
    assert caught.value.code == "tlog.size_out_of_range"


def test_spec_line_base64_is_canonical() -> None:
    """The spec line's blob is 76 bytes: key ID, timestamp, Ed25519 signature."""
    blob = base64.b64decode(SPEC_LINE.split(" ")[-1])
    assert len(blob) == 4 + 8 + 64
