"""Signed notes: the Go sumdb known answer, parsing rules, signing and verification."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st
from tlog_reference import ed25519_note_keys, raw_public_key

import tlog

# The example of golang.org/x/mod/sumdb/note's documentation: a private key, its verifier key
# and the note it signs (Ed25519 is deterministic, so the signature is a known answer).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_SIG = (
    "\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
GO_ENOCH = (
    "\u2014 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)


def go_keys() -> tuple[tlog.NoteSigner, tlog.NoteVerifier]:
    """The Go example's key as a note signer and verifier."""
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])[1:]
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = raw_public_key(private)
    assert base64.b64decode(GO_VKEY.split("+", 2)[2]) == b"\x01" + public
    return (
        tlog.NoteSigner.ed25519("PeterNeumann", public, private),
        tlog.NoteVerifier.ed25519("PeterNeumann", public, private.public_key()),
    )


def test_key_id_matches_go_sumdb() -> None:
    """The Ed25519 key ID is SHA-256(name || 0x0A || 0x01 || key)[:4], c74f20a3 for the Go example."""
    signer, verifier = go_keys()
    assert signer.key_id.hex() == verifier.key_id.hex() == "c74f20a3"


def test_signing_reproduces_go_sumdb_note() -> None:
    """Signing the Go example text gives byte for byte the Go example note."""
    signer, _ = go_keys()
    note = tlog.sign_note(GO_TEXT, signer)
    assert note.format() == GO_TEXT + "\n" + GO_SIG
    assert note.to_bytes() == (GO_TEXT + "\n" + GO_SIG).encode()


def test_go_note_with_unknown_cosigner_opens() -> None:
    """The doubly signed Go example verifies with the known key; the unknown one is ignored."""
    _, verifier = go_keys()
    note = tlog.SignedNote.parse((GO_TEXT + "\n" + GO_SIG + GO_ENOCH).encode())
    assert [sig.name for sig in note.signatures] == ["PeterNeumann", "EnochRoot"]
    verified = tlog.verify_note(note, [verifier])
    assert [sig.name for sig in verified] == ["PeterNeumann"]


def test_known_key_with_bad_signature_rejects_the_note() -> None:
    """A signature by a known key that fails rejects the note, naming the key and its cause."""
    _, verifier = go_keys()
    note = tlog.SignedNote.parse(GO_TEXT.replace("answer", "question") + "\n" + GO_SIG)
    with pytest.raises(tlog.SignatureInvalidError) as info:
        tlog.verify_note(note, [verifier])
    assert (info.value.code, info.value.name, info.value.key_id.hex()) == (
        "tlog.signature_invalid",
        "PeterNeumann",
        "c74f20a3",
    )
    assert isinstance(info.value.__cause__, InvalidSignature)


def test_note_without_trusted_signature_is_unverified() -> None:
    """A note signed only by unknown keys, or keys sharing just a name or an ID, is refused."""
    _, verifier = go_keys()
    _, other = ed25519_note_keys("PeterNeumann")  # same name, different key ID
    same_id = tlog.NoteVerifier("Impostor", verifier.key_id, verifier.verifier)
    note = tlog.SignedNote.parse(GO_TEXT + "\n" + GO_ENOCH)
    for verifiers in ([verifier], [other, same_id], []):
        with pytest.raises(tlog.NoteUnverifiedError) as info:
            tlog.verify_note(note, verifiers)
        assert info.value.code == "tlog.note_unverified"


def test_ambiguous_verifiers_are_refused() -> None:
    """Two verifiers with the same name and key ID are a configuration error."""
    _, verifier = go_keys()
    with pytest.raises(tlog.AmbiguousVerifierError) as info:
        tlog.verify_note(tlog.SignedNote.parse(GO_TEXT + "\n" + GO_SIG), [verifier, verifier])
    assert (info.value.code, info.value.name) == ("tlog.verifier_ambiguous", "PeterNeumann")


def test_resigning_replaces_own_signature_and_keeps_others() -> None:
    """Adding a signature replaces one by the same key and appends after the others."""
    go_signer, _ = go_keys()
    witness, witness_verifier = ed25519_note_keys("witness.example/w1")
    note = tlog.SignedNote.parse(GO_TEXT + "\n" + GO_ENOCH + GO_SIG)
    twice = tlog.sign_note(tlog.sign_note(note, witness), witness, go_signer)
    assert [sig.name for sig in twice.signatures] == ["EnochRoot", "witness.example/w1", "PeterNeumann"]
    assert tlog.verify_note(twice, [witness_verifier])[0].name == "witness.example/w1"


def test_text_may_contain_blank_lines() -> None:
    """The signatures start after the last blank line; earlier blank lines belong to the text."""
    signer, verifier = ed25519_note_keys("example.com/log")
    note = tlog.sign_note("para one\n\npara two\n", signer)
    parsed = tlog.SignedNote.parse(note.format())
    assert parsed == note and parsed.text == "para one\n\npara two\n"
    tlog.verify_note(parsed, [verifier])


MALFORMED = {
    "no blank line": GO_TEXT + GO_SIG,
    "no final newline": GO_TEXT + "\n" + GO_SIG[:-1],
    "control character": GO_TEXT.replace("cryptography", "crypto\tgraphy") + "\n" + GO_SIG,
    "carriage return": GO_TEXT + "\n" + GO_SIG.replace("\n", "\r\n"),
    "hyphen instead of em dash": GO_TEXT + "\n" + GO_SIG.replace("\u2014", "-"),
    "no signature": GO_TEXT + "\n",
    "empty signature line": GO_TEXT + "\n" + GO_SIG + "\n",
    "no key name": GO_TEXT + "\n\u2014 x08go/ZJkuBS9UG\n",
    "plus in key name": GO_TEXT + "\n" + GO_SIG.replace("PeterNeumann", "Peter+Neumann"),
    "not base64": GO_TEXT + "\n\u2014 PeterNeumann x08go*ZJ\n",
    "non-canonical base64": GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkx==\n",
    "signature too short": GO_TEXT + "\n\u2014 PeterNeumann AAAAAA==\n",
    "101 signatures": GO_TEXT + "\n" + GO_SIG * 101,
}


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_notes_are_refused(text: str) -> None:
    """Every violation of the signed-note format is a MalformedNoteError."""
    with pytest.raises(tlog.MalformedNoteError) as info:
        tlog.SignedNote.parse(text)
    assert info.value.code == "tlog.note_malformed"


def test_invalid_utf8_is_refused() -> None:
    """Notes must be valid UTF-8."""
    with pytest.raises(tlog.MalformedNoteError) as info:
        tlog.SignedNote.parse(GO_TEXT.encode() + b"\xff\n\n" + GO_SIG.encode())
    assert info.value.code == "tlog.note_malformed"


def test_non_canonical_base64_check_is_real() -> None:
    """The padding-bits case above really is non-canonical base64 (decodes, re-encodes differently)."""
    assert base64.b64encode(base64.b64decode("x08go/ZJkx==")) == b"x08go/ZJkw=="


@pytest.mark.parametrize("name", ["", "has space", "a+b", "tab\there", "nbsp\u00a0x"])
def test_invalid_key_names_are_refused(name: str) -> None:
    """Key names must be non-empty and free of Unicode spaces and plus signs."""
    with pytest.raises(tlog.InvalidNoteKeyError) as info:
        tlog.ed25519_key_id(name, bytes(32))
    assert info.value.code == "tlog.key_invalid"


def test_key_shapes_are_checked() -> None:
    """Ed25519 keys are 32 bytes, key IDs 4 bytes and signature types one byte."""
    for call in (
        lambda: tlog.ed25519_key_id("a", bytes(31)),
        lambda: tlog.key_id("a", 256, bytes(32)),
        lambda: tlog.NoteVerifier("a", b"abc", Ed25519PrivateKey.generate().public_key()),
    ):
        with pytest.raises(tlog.InvalidNoteKeyError) as info:
            call()
        assert info.value.code == "tlog.key_invalid"


def test_note_objects_refuse_bad_shapes() -> None:
    """A signed note needs a newline-terminated text and at least one signature."""
    sig = tlog.NoteSignature("a", b"\x00\x01\x02\x03", b"sig")
    for text, sigs in (("no newline", (sig,)), ("ok\n", ())):
        with pytest.raises(tlog.MalformedNoteError) as info:
            tlog.SignedNote(text, sigs)
        assert info.value.code == "tlog.note_malformed"


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), blacklist_characters="+\x85"),
    min_size=1,
    max_size=20,
).filter(lambda name: not any(ch.isspace() for ch in name))
lines = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)


@given(
    text_lines=st.lists(lines, min_size=1, max_size=5),
    signatures=st.lists(
        st.builds(
            tlog.NoteSignature,
            name=names,
            key_id=st.binary(min_size=4, max_size=4),
            signature=st.binary(min_size=1, max_size=80),
        ),
        min_size=1,
        max_size=5,
    ),
)
def test_format_parse_round_trip(text_lines: list[str], signatures: list[tlog.NoteSignature]) -> None:
    """Any well-formed note survives format then parse, as text and as bytes."""
    note = tlog.SignedNote("\n".join(text_lines) + "\n", tuple(signatures))
    assert tlog.SignedNote.parse(note.format()) == note
    assert tlog.SignedNote.parse(note.to_bytes()) == note
