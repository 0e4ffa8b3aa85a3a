"""SM2 (GB/T 32918): signatures with SM3 and the user-ID digest Z, and public-key encryption C1C3C2.

Written here rather than taken from `gmssl` because gmssl's SM2 draws its encryption nonce from
`random.choice` (not a CSPRNG), never compares C3 when decrypting, and checks neither signature
ranges nor points on the curve. The tests keep gmssl as an interoperability oracle (it verifies
our signatures and decrypts our ciphertexts, and we do the same for its output) and check the
published examples of GB/T 32918.5 (GM/T 0003.5) Annexes.

Pure Python integer arithmetic is not constant time. That is acceptable for a selectable
development suite; a production `gm` deployment would keep SM2 keys in a certified device.
"""

from __future__ import annotations

import hmac as _std_hmac
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _c_hmac

from keys._hashes import sm3
from keys.errors import DecryptionFailed, KeyFormatError

__all__ = [
    "DEFAULT_ID",
    "N",
    "decrypt",
    "encrypt",
    "generate_private",
    "point_decode",
    "point_encode",
    "public_from_private",
    "sign",
    "verify",
]

P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

# The default user ID of GM/T 0009 section 10 ("1234567812345678"); both sides must use the same.
DEFAULT_ID = b"1234567812345678"

Affine = tuple[int, int]
Jacobian = tuple[int, int, int]  # Z == 0 is the point at infinity
_INF: Jacobian = (1, 1, 0)


def _double(pt: Jacobian) -> Jacobian:
    # dbl-2001-b for a = -3 (SM2's a is p - 3).
    x1, y1, z1 = pt
    if z1 == 0 or y1 == 0:
        return _INF
    delta = z1 * z1 % P
    gamma = y1 * y1 % P
    beta = x1 * gamma % P
    alpha = 3 * (x1 - delta) * (x1 + delta) % P
    x3 = (alpha * alpha - 8 * beta) % P
    z3 = ((y1 + z1) * (y1 + z1) - gamma - delta) % P
    y3 = (alpha * (4 * beta - x3) - 8 * gamma * gamma) % P
    return (x3, y3, z3)


def _add(p1: Jacobian, p2: Jacobian) -> Jacobian:
    # add-2007-bl, with the doubling and inverse cases handled.
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    if z1 == 0:
        return p2
    if z2 == 0:
        return p1
    z1z1 = z1 * z1 % P
    z2z2 = z2 * z2 % P
    u1 = x1 * z2z2 % P
    u2 = x2 * z1z1 % P
    s1 = y1 * z2 * z2z2 % P
    s2 = y2 * z1 * z1z1 % P
    h = (u2 - u1) % P
    r = 2 * (s2 - s1) % P
    if h == 0:
        return _double(p1) if r == 0 else _INF
    i = 4 * h * h % P
    j = h * i % P
    v = u1 * i % P
    x3 = (r * r - j - 2 * v) % P
    y3 = (r * (v - x3) - 2 * s1 * j) % P
    z3 = ((z1 + z2) * (z1 + z2) - z1z1 - z2z2) * h % P
    return (x3, y3, z3)


def _add_affine(p1: Jacobian, q: Affine) -> Jacobian:
    # madd-2007-bl: p1 Jacobian plus an affine point.
    x1, y1, z1 = p1
    x2, y2 = q
    if z1 == 0:
        return (x2, y2, 1)
    z1z1 = z1 * z1 % P
    u2 = x2 * z1z1 % P
    s2 = y2 * z1 * z1z1 % P
    h = (u2 - x1) % P
    r = 2 * (s2 - y1) % P
    if h == 0:
        return _double(p1) if r == 0 else _INF
    hh = h * h % P
    i = 4 * hh
    j = h * i % P
    v = x1 * i % P
    x3 = (r * r - j - 2 * v) % P
    y3 = (r * (v - x3) - 2 * y1 * j) % P
    z3 = ((z1 + h) * (z1 + h) - z1z1 - hh) % P
    return (x3, y3, z3)


def _to_affine(pt: Jacobian) -> Affine | None:
    x, y, z = pt
    if z == 0:
        return None
    zi = pow(z, -1, P)
    zi2 = zi * zi % P
    return (x * zi2 % P, y * zi2 * zi % P)


def _on_curve(x: int, y: int) -> bool:
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


# Fixed-base table for G: _G_TABLE[i][j] = j * 16**i * G (affine), so k*G is 64 mixed additions.
_G_TABLE: list[list[Affine | None]] = []


def _g_table() -> list[list[Affine | None]]:
    if not _G_TABLE:
        base: Jacobian = (GX, GY, 1)
        for _ in range(64):
            row: list[Affine | None] = [None]
            acc: Jacobian = _INF
            for _ in range(15):
                acc = _add(acc, base)
                row.append(_to_affine(acc))
            _G_TABLE.append(row)
            for _ in range(4):
                base = _double(base)
    return _G_TABLE


def _mul_g(k: int) -> Jacobian:
    table = _g_table()
    acc: Jacobian = _INF
    for i in range(64):
        entry = table[i][(k >> (4 * i)) & 0xF]
        if entry is not None:
            acc = _add_affine(acc, entry)
    return acc


def _mul(k: int, point: Affine) -> Jacobian:
    # Left-to-right fixed 4-bit windows over a 15-entry table of multiples of `point`.
    table: list[Jacobian] = [_INF, (point[0], point[1], 1)]
    for _ in range(14):
        table.append(_add(table[-1], table[1]))
    acc: Jacobian = _INF
    for shift in range(252, -4, -4):
        acc = _double(_double(_double(_double(acc))))
        digit = (k >> shift) & 0xF
        if digit:
            acc = _add(acc, table[digit])
    return acc


def point_encode(pt: Affine, *, compressed: bool = False) -> bytes:
    """SEC 1 encoding of a point: `04‖x‖y` (65 bytes) or `02/03‖x` (33 bytes)."""
    x, y = pt
    if compressed:
        return bytes([2 + (y & 1)]) + x.to_bytes(32, "big")
    return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")


def point_decode(data: bytes) -> Affine:
    """Decode a SEC 1 point and check it lies on the SM2 curve; raises `KeyFormatError`."""
    if len(data) == 65 and data[0] == 4:
        x = int.from_bytes(data[1:33], "big")
        y = int.from_bytes(data[33:], "big")
    elif len(data) == 33 and data[0] in (2, 3):
        x = int.from_bytes(data[1:], "big")
        if x >= P:
            raise KeyFormatError("SM2 point x coordinate out of range")
        rhs = (x * x * x + A * x + B) % P
        y = pow(rhs, (P + 1) // 4, P)  # P = 3 mod 4
        if y * y % P != rhs:
            raise KeyFormatError("SM2 point is not on the curve")
        if (y & 1) != (data[0] & 1):
            y = P - y
    else:
        raise KeyFormatError("SM2 point must be 65 bytes (04‖x‖y) or 33 bytes (02/03‖x)")
    if not _on_curve(x, y):
        raise KeyFormatError("SM2 point is not on the curve")
    return (x, y)


def generate_private() -> int:
    """A fresh private scalar d in [1, n-2] (n-1 is excluded because 1 + d must be invertible)."""
    return secrets.randbelow(N - 2) + 1


def check_private(d: int) -> int:
    """Return `d` when it is a valid SM2 private scalar, else raise `KeyFormatError`."""
    if not 1 <= d <= N - 2:
        raise KeyFormatError("SM2 private key out of range [1, n-2]")
    return d


def public_from_private(d: int) -> Affine:
    """The public point d*G."""
    pt = _to_affine(_mul_g(check_private(d)))
    assert pt is not None
    return pt


def _z(public: Affine, user_id: bytes) -> bytes:
    entl = (len(user_id) * 8).to_bytes(2, "big")
    return sm3(entl + user_id + b"".join(v.to_bytes(32, "big") for v in (A, B, GX, GY, public[0], public[1])))


def message_digest(public: Affine, message: bytes, user_id: bytes = DEFAULT_ID) -> int:
    """e = SM3(Z_A ‖ M) as an integer (GB/T 32918.2 section 6.1, steps A1-A2)."""
    return int.from_bytes(sm3(_z(public, user_id) + message), "big")


def _nonce(d: int, e: int) -> int:
    # Hedged nonce: HMAC-SM3 keyed by the private key over e and 32 fresh random bytes, 512 bits
    # reduced mod n-1. A weak RNG alone cannot repeat k (that would leak d), nor can a fault alone.
    key = d.to_bytes(32, "big")
    seed = e.to_bytes(32, "big") + secrets.token_bytes(32)
    out = b""
    for counter in (b"\x00", b"\x01"):
        mac = _c_hmac.HMAC(key, hashes.SM3())
        mac.update(seed + counter)
        out += mac.finalize()
    return int.from_bytes(out, "big") % (N - 1) + 1


def sign_digest(d: int, e: int, k: int | None = None) -> bytes:
    """Sign the digest integer `e` with private `d`; returns raw r‖s (64 bytes).

    `k` is only for known-answer tests; production calls leave it None.
    """
    while True:
        kk = _nonce(d, e) if k is None else k
        pt = _to_affine(_mul_g(kk))
        assert pt is not None
        r = (e + pt[0]) % N
        if r == 0 or r + kk == N:
            if k is not None:
                raise ValueError("the given k yields r = 0 or r + k = n")
            continue
        s = pow(1 + d, -1, N) * (kk - r * d) % N
        if s == 0:
            if k is not None:
                raise ValueError("the given k yields s = 0")
            continue
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign(d: int, message: bytes, user_id: bytes = DEFAULT_ID, *, public: Affine | None = None) -> bytes:
    """SM2 signature of `message` (SM3 with Z_A of `user_id`), raw r‖s, 64 bytes."""
    pub = public if public is not None else public_from_private(d)
    return sign_digest(d, message_digest(pub, message, user_id))


def verify(public: Affine, signature: bytes, message: bytes, user_id: bytes = DEFAULT_ID) -> bool:
    """True when `signature` (raw r‖s) is a valid SM2 signature of `message` by `public`."""
    if len(signature) != 64:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (1 <= r < N and 1 <= s < N):
        return False
    t = (r + s) % N
    if t == 0:
        return False
    e = message_digest(public, message, user_id)
    pt = _to_affine(_add(_mul_g(s), _mul(t, public)))
    if pt is None:
        return False
    expected = (e + pt[0]) % N
    return _std_hmac.compare_digest(expected.to_bytes(32, "big"), signature[:32])


def _kdf(z: bytes, klen: int) -> bytes:
    out = bytearray()
    counter = 1
    while len(out) < klen:
        out += sm3(z + counter.to_bytes(4, "big"))
        counter += 1
    return bytes(out[:klen])


def encrypt(public: Affine, plaintext: bytes, *, k: int | None = None) -> bytes:
    """SM2 public-key encryption (GB/T 32918.4), output C1‖C3‖C2 with C1 = 04‖x1‖y1.

    `k` is only for known-answer tests.
    """
    if not plaintext:
        raise ValueError("SM2 encryption needs a non-empty plaintext")
    while True:
        kk = secrets.randbelow(N - 1) + 1 if k is None else k
        c1 = _to_affine(_mul_g(kk))
        shared = _to_affine(_mul(kk, public))
        assert c1 is not None and shared is not None  # public is on the curve, h = 1
        x2 = shared[0].to_bytes(32, "big")
        y2 = shared[1].to_bytes(32, "big")
        t = _kdf(x2 + y2, len(plaintext))
        if not any(t):
            if k is not None:
                raise ValueError("the given k yields an all-zero key stream")
            continue
        c2 = bytes(a ^ b for a, b in zip(plaintext, t, strict=True))
        c3 = sm3(x2 + plaintext + y2)
        return point_encode(c1) + c3 + c2


def decrypt(d: int, ciphertext: bytes) -> bytes:
    """Inverse of `encrypt`; every failure raises the one opaque `DecryptionFailed`."""
    if len(ciphertext) < 65 + 32 + 1:
        raise DecryptionFailed()
    try:
        c1 = point_decode(ciphertext[:65])
    except KeyFormatError:
        raise DecryptionFailed() from None
    c3 = ciphertext[65:97]
    c2 = ciphertext[97:]
    shared = _to_affine(_mul(d, c1))
    if shared is None:
        raise DecryptionFailed()
    x2 = shared[0].to_bytes(32, "big")
    y2 = shared[1].to_bytes(32, "big")
    t = _kdf(x2 + y2, len(c2))
    if not any(t):
        raise DecryptionFailed()
    plaintext = bytes(a ^ b for a, b in zip(c2, t, strict=True))
    if not _std_hmac.compare_digest(sm3(x2 + plaintext + y2), c3):
        raise DecryptionFailed()
    return plaintext
