"""Checkpoints: the C2SP text format, strict parsing, signing and opening."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tlog_reference import ed25519_note_keys

import tlog

# The example body of c2sp.org/tlog-checkpoint.
SPEC_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_spec_example_parses_and_formats_back() -> None:
    """The specification's example body parses into its three parts and formats back exactly."""
    checkpoint = tlog.Checkpoint.from_text(SPEC_TEXT)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.extensions == ()
    assert checkpoint.to_text() == SPEC_TEXT


def test_extension_lines_round_trip() -> None:
    """Extension lines follow the root line and survive a round trip."""
    checkpoint = tlog.Checkpoint("log", 0, tlog.EMPTY_ROOT, ("ext one", "ext two"))
    assert checkpoint.to_text().endswith("\next one\next two\n")
    assert tlog.Checkpoint.from_text(checkpoint.to_text()) == checkpoint


MALFORMED = {
    "no final newline": SPEC_TEXT[:-1],
    "two lines": "origin\n5\n",
    "leading zero": SPEC_TEXT.replace("20852163", "020852163"),
    "sign": SPEC_TEXT.replace("20852163", "+20852163"),
    "negative": SPEC_TEXT.replace("20852163", "-1"),
    "arabic-indic digits": SPEC_TEXT.replace("20852163", "\u0661\u0662"),
    "too large": SPEC_TEXT.replace("20852163", str(1 << 64)),
    "root not base64": SPEC_TEXT.replace("CsUY", "Cs*Y"),
    "root not canonical": SPEC_TEXT.replace("q2I=", "q2J="),
    "root too short": "origin\n1\n" + base64.b64encode(bytes(31)).decode() + "\n",
    "empty origin": "\n1\n" + base64.b64encode(bytes(32)).decode() + "\n",
    "empty extension": SPEC_TEXT + "\n",
}


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_checkpoints_are_refused(text: str) -> None:
    """Every violation of the checkpoint format is a MalformedCheckpointError."""
    with pytest.raises(tlog.MalformedCheckpointError) as info:
        tlog.Checkpoint.from_text(text)
    assert info.value.code == "tlog.checkpoint_malformed"


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("two\nlines", 1, tlog.EMPTY_ROOT, ()),
        ("log", -1, tlog.EMPTY_ROOT, ()),
        ("log", True, tlog.EMPTY_ROOT, ()),
        ("log", 1 << 64, tlog.EMPTY_ROOT, ()),
        ("log", 1, b"short", ()),
        ("log", 1, tlog.EMPTY_ROOT, ("",)),
    ],
)
def test_checkpoint_fields_are_validated(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    """A checkpoint cannot be built with fields its text format cannot carry."""
    with pytest.raises(tlog.MalformedCheckpointError) as info:
        tlog.Checkpoint(origin, size, root, extensions)
    assert info.value.code == "tlog.checkpoint_malformed"


PRINTABLE = st.characters(blacklist_categories=("Cc", "Cs"))


@given(
    origin=st.text(alphabet=PRINTABLE, min_size=1, max_size=40),
    size=st.integers(min_value=0, max_value=(1 << 64) - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(
        st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20),
        max_size=3,
    ),
)
def test_text_round_trip(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    """Any valid checkpoint survives to_text then from_text."""
    checkpoint = tlog.Checkpoint(origin, size, root, tuple(extensions))
    assert tlog.Checkpoint.from_text(checkpoint.to_text()) == checkpoint


def test_sign_and_open_checkpoint() -> None:
    """A log-signed checkpoint opens with the log's key and is refused with another key."""
    log_signer, log_verifier = ed25519_note_keys("example.com/log")
    _, stranger = ed25519_note_keys("example.com/other")
    checkpoint = tlog.Checkpoint("example.com/log", 8, tlog.merkle_root([tlog.leaf_hash(b"x")] * 8))
    note = tlog.sign_checkpoint(checkpoint, log_signer)
    assert note.text == checkpoint.to_text()
    for form in (note, note.format(), note.to_bytes()):
        assert tlog.open_checkpoint(form, [log_verifier]) == checkpoint
    with pytest.raises(tlog.NoteUnverifiedError) as info:
        tlog.open_checkpoint(note, [stranger])
    assert info.value.code == "tlog.note_unverified"


def test_open_checkpoint_refuses_signed_garbage() -> None:
    """A validly signed note whose body is not a checkpoint is still refused."""
    log_signer, log_verifier = ed25519_note_keys("example.com/log")
    note = tlog.sign_note("example.com/log\nnot a size\n", log_signer)
    with pytest.raises(tlog.MalformedCheckpointError) as info:
        tlog.open_checkpoint(note, [log_verifier])
    assert info.value.code == "tlog.checkpoint_malformed"
