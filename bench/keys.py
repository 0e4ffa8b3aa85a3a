"""Benchmark of `keys` against the raw libraries it wraps, measured in the same run.

Figures (operations or MB per second; `*_vs_raw` is wrapper / raw, target >= 0.8 for `intl`):
- Ed25519 sign / verify of a 256-byte message: `keys` vs libsodium's `crypto_sign` /
  `crypto_sign_open` through PyNaCl's bindings (the same primitive, so the ratio is our overhead).
  Rates are CPU-time rates of this process, batches of wrapper and raw alternating.
- SM2 sign of a 256-byte message: `keys` (own SM2 over `cryptography`'s SM3) vs gmssl's
  `CryptSM2.sign_with_sm3` (pure Python), the library the issue names for SM2.
- AEAD: `encrypt_object` of 1 MiB (fresh data key wrapped for an X25519 holder key, AES-256-GCM)
  vs the same steps written directly on PyNaCl and `cryptography` (`raw_aead_mb_per_s`); bare
  AES-256-GCM of 1 MiB with no key wrapping is reported for context (`raw_aesgcm_only_mb_per_s`).
  For `gm`, `encrypt_object` (SM2-wrapped key, SM4-GCM) vs bare SM4-GCM (no SM2 wrapping).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import nacl.bindings
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from gmssl import sm2 as gmssl_sm2

from keys import EncryptionKey, SigningKey, encrypt_object

MESSAGE = os.urandom(256)
OBJECT = os.urandom(1 << 20)
MB = len(OBJECT) / 1e6


def _batch_rate(fn: Callable[[], object], calls: int) -> float:
    # CPU time of this process, not wall time: on a shared machine the wall clock also counts the
    # time other processes hold the CPU, which is noise for a comparison of two code paths.
    start = time.process_time()
    for _ in range(calls):
        fn()
    return calls / max(time.process_time() - start, 1e-9)


def _calls_for(fn: Callable[[], object], seconds: float) -> int:
    """How many calls of `fn` take about `seconds` (at least one)."""
    return max(1, int(_batch_rate(fn, 3) * seconds))


def _rate(fn: Callable[[], object], duration_s: float, rounds: int = 15) -> float:
    """Calls per second of `fn`: the median of `rounds` batches filling `duration_s`."""
    calls = _calls_for(fn, duration_s / rounds)
    return statistics.median(_batch_rate(fn, calls) for _ in range(rounds))


def _pair(
    wrapped: Callable[[], object], raw: Callable[[], object], duration_s: float, rounds: int = 15
) -> tuple[float, float]:
    # Small batches of the two alternate, so load from other processes on a shared machine hits
    # both alike; each figure is the median of its batches.
    wrapped_calls = _calls_for(wrapped, duration_s / (2 * rounds))
    raw_calls = _calls_for(raw, duration_s / (2 * rounds))
    wrapped_rates, raw_rates = [], []
    for _ in range(rounds):
        wrapped_rates.append(_batch_rate(wrapped, wrapped_calls))
        raw_rates.append(_batch_rate(raw, raw_calls))
    return statistics.median(wrapped_rates), statistics.median(raw_rates)


def run(duration_s: float = 2.0) -> dict[str, Any]:
    """Run every measurement for about `duration_s` seconds each; return the figures."""
    figures: dict[str, float] = {}

    ed = SigningKey.generate("intl")
    ed_seed = ed.export_private_bytes()
    ed_pk, ed_sk = nacl.bindings.crypto_sign_seed_keypair(ed_seed)
    signature = ed.sign(MESSAGE)
    vk = ed.verify_key
    figures["ed25519_sign_per_s"], figures["raw_ed25519_sign_per_s"] = _pair(
        lambda: ed.sign(MESSAGE), lambda: nacl.bindings.crypto_sign(MESSAGE, ed_sk)[:64], duration_s
    )
    figures["ed25519_verify_per_s"], figures["raw_ed25519_verify_per_s"] = _pair(
        lambda: vk.verify(signature, MESSAGE),
        lambda: nacl.bindings.crypto_sign_open(signature + MESSAGE, ed_pk),
        duration_s,
    )

    sm2 = SigningKey.generate("gm")
    d = int.from_bytes(sm2.export_private_bytes(), "big")
    public_hex = sm2.verify_key.uncompressed[1:].hex()  # type: ignore[attr-defined]
    gm_raw = gmssl_sm2.CryptSM2(private_key=f"{d:064x}", public_key=public_hex, mode=1)
    k_hex = os.urandom(32).hex()  # gmssl's own default nonce comes from `random`; pass one in
    figures["sm2_sign_per_s"], figures["raw_sm2_sign_per_s"] = _pair(
        lambda: sm2.sign(MESSAGE), lambda: gm_raw.sign_with_sm3(MESSAGE, k_hex), duration_s
    )

    holder_key = EncryptionKey.generate("intl")
    holder = holder_key.public_key
    holder_pk = holder.public_bytes

    def raw_object() -> bytes:
        # The same steps as encrypt_object, straight on the libraries: fresh data key, X25519
        # ephemeral agreement, HKDF-SHA256 key-encryption key, AES-GCM wrap, AES-256-GCM of the data.
        data_key = os.urandom(32)
        eph_pk, eph_sk = nacl.bindings.crypto_box_keypair()
        shared = nacl.bindings.crypto_scalarmult(eph_sk, holder_pk)
        kek = HKDF(hashes.SHA256(), 32, eph_pk + holder_pk, b"bench").derive(shared)
        wrapped = AESGCM(kek).encrypt(bytes(12), data_key, None)
        nonce = os.urandom(12)
        header = eph_pk + wrapped + nonce
        return header + AESGCM(data_key).encrypt(nonce, OBJECT, header)

    objects, raw_objects = _pair(
        lambda: encrypt_object(holder, OBJECT, b"dataset/v1"), raw_object, duration_s
    )
    figures["aead_mb_per_s"] = objects * MB
    figures["raw_aead_mb_per_s"] = raw_objects * MB
    # For context: bare AES-256-GCM of the same 1 MiB, without any key wrapping.
    figures["raw_aesgcm_only_mb_per_s"] = (
        _rate(lambda: AESGCM(os.urandom(32)).encrypt(os.urandom(12), OBJECT, b"dataset/v1"), duration_s) * MB
    )

    def raw_sm4() -> bytes:
        enc = Cipher(algorithms.SM4(os.urandom(16)), modes.GCM(os.urandom(12))).encryptor()
        enc.authenticate_additional_data(b"dataset/v1")
        return enc.update(OBJECT) + enc.finalize() + enc.tag

    gm_holder = EncryptionKey.generate("gm").public_key
    gm_objects, raw_gm = _pair(lambda: encrypt_object(gm_holder, OBJECT, b"dataset/v1"), raw_sm4, duration_s)
    figures["gm_aead_mb_per_s"] = gm_objects * MB
    figures["raw_gm_aead_mb_per_s"] = raw_gm * MB

    for ratio, figure in (
        ("ed25519_sign_vs_raw", "ed25519_sign_per_s"),
        ("ed25519_verify_vs_raw", "ed25519_verify_per_s"),
        ("sm2_sign_vs_raw", "sm2_sign_per_s"),
        ("aead_vs_raw", "aead_mb_per_s"),
        ("gm_aead_vs_raw", "gm_aead_mb_per_s"),
    ):
        figures[ratio] = figures[figure] / figures[f"raw_{figure}"]
    return {
        "name": "keys",
        "figures": {k: round(v, 3) for k, v in sorted(figures.items())},
        "peer": (
            "raw libraries in the same run: libsodium crypto_sign/crypto_sign_open via PyNaCl bindings "
            "(Ed25519); gmssl 3.2.2 CryptSM2.sign_with_sm3 (SM2); the same envelope steps on PyNaCl + "
            "cryptography AESGCM for 1 MiB objects (AEAD); bare SM4-GCM (gm AEAD)"
        ),
    }
