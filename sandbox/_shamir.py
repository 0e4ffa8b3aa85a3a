"""Shamir secret sharing over the prime field GF(2^521 − 1), threshold t of n."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sandbox.errors import InvalidParameters, ProtocolViolation, SharesInsufficient

__all__ = ["PRIME", "Share", "reconstruct", "reconstruct_bytes", "split", "split_bytes"]

# A Mersenne prime larger than any 256-bit seed, so a 32-byte secret is one field element.
PRIME = 2**521 - 1


@dataclass(frozen=True)
class Share:
    """The point (x, y) of the sharing polynomial; x is the holder's index, 1-based."""

    x: int
    y: int

    def to_list(self) -> list[object]:
        """JSON form ``[x, "<hex y>"]``."""
        return [self.x, format(self.y, "x")]

    @classmethod
    def from_list(cls, raw: Sequence[object]) -> Share:
        """Inverse of `to_list`."""
        x, y = raw
        if not isinstance(x, int) or not isinstance(y, str):
            raise ValueError("a share is [x, hex y]")
        return cls(x, int(y, 16))


def split(secret: int, n: int, t: int, *, randbelow: Callable[[int], int] = secrets.randbelow) -> list[Share]:
    """`n` shares of `secret`, any `t` of which reconstruct it and any t − 1 reveal nothing."""
    if not 1 <= t <= n:
        raise InvalidParameters("threshold", f"need 1 <= t <= n, got t={t}, n={n}")
    if not 0 <= secret < PRIME:
        raise InvalidParameters("secret", "must be in [0, PRIME)")
    coeffs = [secret] + [randbelow(PRIME) for _ in range(t - 1)]
    shares = []
    for x in range(1, n + 1):
        y = 0
        for c in reversed(coeffs):  # Horner
            y = (y * x + c) % PRIME
        shares.append(Share(x, y))
    return shares


def reconstruct(shares: Sequence[Share], t: int) -> int:
    """The secret from at least `t` shares with distinct x (Lagrange interpolation at 0)."""
    distinct = {s.x: s for s in shares}
    if len(distinct) < t:
        raise SharesInsufficient(len(distinct), t)
    points = list(distinct.values())[:t]
    secret = 0
    for i, si in enumerate(points):
        num, den = 1, 1
        for j, sj in enumerate(points):
            if i != j:
                num = num * sj.x % PRIME
                den = den * (sj.x - si.x) % PRIME
        secret = (secret + si.y * num * pow(den, -1, PRIME)) % PRIME
    return secret


def split_bytes(secret: bytes, n: int, t: int) -> list[Share]:
    """Share a byte string of at most 64 bytes."""
    if len(secret) > 64:
        raise InvalidParameters("secret", "at most 64 bytes")
    return split(int.from_bytes(secret, "big"), n, t)


def reconstruct_bytes(shares: Sequence[Share], t: int, length: int = 32) -> bytes:
    """Inverse of `split_bytes` for a secret of `length` bytes."""
    value = reconstruct(shares, t)
    if value >= 1 << (8 * length):
        raise ProtocolViolation("the shares are inconsistent: they do not reconstruct a secret of that size")
    return value.to_bytes(length, "big")
