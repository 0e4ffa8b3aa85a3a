"""Known answers for the hash helpers and the SM4 block cipher behind SM4-GCM."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from keys import Suite, digest, digest_name, hmac_digest, keccak256, sha256, sm3
from keys.errors import UnsupportedSuite


def test_sha256_abc() -> None:
    """SHA-256("abc") is the FIPS 180-2 value."""
    assert sha256(b"abc").hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_sm3_abc() -> None:
    """SM3("abc") is the GB/T 32905-2016 example A.1 value."""
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm3_512_bit_message() -> None:
    """SM3("abcd" * 16) is the GB/T 32905-2016 example A.2 value."""
    assert sm3(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_keccak256_empty() -> None:
    """Keccak-256 of the empty string is Ethereum's, not NIST SHA3-256."""
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


def test_sm4_standard_vector() -> None:
    """SM4-ECB of the GB/T 32907-2016 example: key = plaintext = 0123456789abcdeffedcba9876543210."""
    block = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(block), modes.ECB()).encryptor()
    assert (encryptor.update(block) + encryptor.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


def test_digest_follows_the_suite() -> None:
    """`digest` is SHA-256 under intl and SM3 under gm, and names itself accordingly."""
    assert digest(Suite.INTL, b"abc") == sha256(b"abc")
    assert digest("gm", b"abc") == sm3(b"abc")
    assert (digest_name("intl"), digest_name(Suite.GM)) == ("sha-256", "sm3")


def test_hmac_differs_by_suite() -> None:
    """HMAC-SHA256 matches RFC 4231 test case 2, and HMAC-SM3 is a different function."""
    rfc4231 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert hmac_digest("intl", b"Jefe", b"what do ya want for nothing?").hex() == rfc4231
    assert hmac_digest("gm", b"Jefe", b"what do ya want for nothing?").hex() != rfc4231


def test_unknown_suite_is_refused() -> None:
    """An unknown suite name raises `UnsupportedSuite`."""
    with pytest.raises(UnsupportedSuite) as info:
        digest("rot13", b"abc")
    assert info.value.code == "keys.suite.unsupported"
