"""SM2 known answers (GB/T 32918.5 = GM/T 0003.5 annexes, recommended curve) and gmssl interoperability."""

from __future__ import annotations

import pytest
from gmssl import sm2 as gmssl_sm2

from keys import _sm2
from keys.errors import DecryptionFailed, KeyFormatError

D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
PUB_X = 0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020
PUB_Y = 0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13
K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
SIGN_E = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
SIGN_R = "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
SIGN_S = "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa"
ENC_C1 = (
    "04"
    "04ebfc718e8d1798620432268e77feb6415e2ede0e073c0f4f640ecd2e149a73"
    "e858f9d81e5430a57b36daab8f950a3c64e6ee6a63094d99283aff767e124df0"
)
ENC_C3 = "59983c18f809e262923c53aec295d30383b54e39d609d160afcb1908d0bd8766"
ENC_C2 = "21886ca989ca9c7d58087307ca93092d651efa"


def _gmssl(d: int) -> gmssl_sm2.CryptSM2:
    public = _sm2.point_encode(_sm2.public_from_private(d))[1:].hex()
    return gmssl_sm2.CryptSM2(private_key=f"{d:064x}", public_key=public, mode=1)


def test_public_key_of_the_published_private_key() -> None:
    """d*G of the annex private key is the annex public key."""
    assert _sm2.public_from_private(D) == (PUB_X, PUB_Y)


def test_published_signature_vector() -> None:
    """With the annex k, ID 1234567812345678 and "message digest", e, r and s are the annex values."""
    e = _sm2.message_digest((PUB_X, PUB_Y), b"message digest")
    assert f"{e:064x}" == SIGN_E
    assert _sm2.sign_digest(D, e, K).hex() == SIGN_R + SIGN_S
    assert _sm2.verify((PUB_X, PUB_Y), bytes.fromhex(SIGN_R + SIGN_S), b"message digest")


def test_published_encryption_vector() -> None:
    """With the annex k, "encryption standard" encrypts to the annex C1‖C3‖C2 and decrypts back."""
    ciphertext = _sm2.encrypt((PUB_X, PUB_Y), b"encryption standard", k=K)
    assert ciphertext.hex() == ENC_C1 + ENC_C3 + ENC_C2
    assert _sm2.decrypt(D, ciphertext) == b"encryption standard"


def test_sign_verify_round_trip_and_randomized_nonce() -> None:
    """Two signatures of one message differ (fresh nonce) and both verify."""
    public = _sm2.public_from_private(D)
    first, second = _sm2.sign(D, b"tdex"), _sm2.sign(D, b"tdex")
    assert first != second
    assert _sm2.verify(public, first, b"tdex") and _sm2.verify(public, second, b"tdex")
    assert not _sm2.verify(public, first, b"tdeX")


def test_gmssl_verifies_our_signatures_and_we_verify_its() -> None:
    """Signatures interoperate with gmssl both ways (SM3 with Z of the default ID)."""
    d = _sm2.generate_private()
    public = _sm2.public_from_private(d)
    other = _gmssl(d)
    assert other.verify_with_sm3(_sm2.sign(d, b"hello").hex(), b"hello")
    assert _sm2.verify(public, bytes.fromhex(other.sign_with_sm3(b"hi", f"{K:064x}")), b"hi")


def test_gmssl_decrypts_our_ciphertexts_and_we_decrypt_its() -> None:
    """C1C3C2 ciphertexts interoperate with gmssl mode 1 (gmssl omits the 04 prefix of C1)."""
    d = _sm2.generate_private()
    other = _gmssl(d)
    assert other.decrypt(_sm2.encrypt(_sm2.public_from_private(d), b"to gmssl")[1:]) == b"to gmssl"
    assert _sm2.decrypt(d, b"\x04" + other.encrypt(b"from gmssl")) == b"from gmssl"


@pytest.mark.parametrize(
    "signature",
    [
        bytes(64),
        _sm2.N.to_bytes(32, "big") + (1).to_bytes(32, "big"),
        (1).to_bytes(32, "big") + _sm2.N.to_bytes(32, "big"),
        bytes(63),
    ],
    ids=["zero", "r=n", "s=n", "short"],
)
def test_out_of_range_signatures_are_rejected(signature: bytes) -> None:
    """r and s outside [1, n-1], or a wrong length, never verify."""
    assert not _sm2.verify((PUB_X, PUB_Y), signature, b"message digest")


def test_points_off_the_curve_are_rejected() -> None:
    """A public key not on the curve is refused when decoded."""
    bad = b"\x04" + PUB_X.to_bytes(32, "big") + (PUB_Y + 1).to_bytes(32, "big")
    with pytest.raises(KeyFormatError):
        _sm2.point_decode(bad)


def test_compressed_points_round_trip() -> None:
    """Compressed and uncompressed encodings decode to the same point."""
    point = (PUB_X, PUB_Y)
    assert _sm2.point_decode(_sm2.point_encode(point, compressed=True)) == point


def test_tampered_c3_is_rejected() -> None:
    """Changing the hash C3 makes decryption fail (gmssl never checks it; we do)."""
    ciphertext = bytearray(_sm2.encrypt((PUB_X, PUB_Y), b"encryption standard", k=K))
    ciphertext[70] ^= 1
    with pytest.raises(DecryptionFailed):
        _sm2.decrypt(D, bytes(ciphertext))


def test_private_key_range_is_checked() -> None:
    """0 and n-1 are not valid private keys (1 + d must be invertible mod n)."""
    for d in (0, _sm2.N - 1):
        with pytest.raises(KeyFormatError):
            _sm2.public_from_private(d)
