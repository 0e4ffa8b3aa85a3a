"""Homomorphic computations with TenSEAL CKKS: encrypted cross-department sums and encrypted scoring.

Key custody: the requester creates the context and keeps the only secret key; nodes and the
aggregator get a public copy (`public_context_bytes`) and refuse anything else
(`load_public_context` raises `PrivateContext`). Contexts are large, so they travel once, into a
content-addressed blob store, and are referred to by digest.

Scoring layout (no rotations, so no Galois keys): the bank encrypts each model weight replicated
in all 4,096 slots, one ciphertext per weight plus one for the bias. A node packs up to 4,096 of
its records per ciphertext column-wise: score = Σ_j Enc(w_j) ⊙ x_j + Enc(b), d plaintext-ciphertext
products per 4,096 records. The node never sees w in clear and the bank decrypts only scores.

Caveats, stated plainly. CKKS is not circuit-private: the noise in a result can carry traces of the
node's plaintext operands beyond the scores; nodes re-randomise results by adding a fresh
encryption of (optionally noisy) zeros, which is not a proof of circuit privacy. A bank can choose
any weights, including a unit vector that reads one feature per firm: what protects the records is
the grant (which firms, how many scoring jobs) and review of the model digest, not the cryptography.
Decryptions of ciphertexts an attacker chose can leak the secret key, so a requester must only
ever release aggregates it decrypted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import tenseal as ts

from sandbox._accountant import PrivacyCost
from sandbox._blobstore import BlobStore, blob_digest
from sandbox._dp import gaussian_noise, snapping_laplace
from sandbox._runner import Ciphertexts
from sandbox._templates import ComputeContext, OutputRule, Param, Template
from sandbox.errors import ContextInvalid, GroupTooSmall, InvalidParameters, PrivateContext

__all__ = [
    "HE_TEMPLATES",
    "CkksParams",
    "EncryptedModel",
    "add_ciphertexts",
    "create_context",
    "decrypt_scores",
    "decrypt_values",
    "encrypt_model",
    "encrypt_values",
    "load_public_context",
    "public_context_bytes",
    "score_encrypted",
]

F64 = npt.NDArray[np.float64]
# Largest total coefficient modulus that keeps 128-bit security (HomomorphicEncryption.org standard).
_MAX_MODULUS_BITS = {8192: 218, 16384: 438, 32768: 881}


@dataclass(frozen=True)
class CkksParams:
    """CKKS parameters: N = 8192 gives 4,096 slots and 128-bit security up to a 218-bit modulus."""

    poly_modulus_degree: int = 8192
    coeff_mod_bit_sizes: tuple[int, ...] = (60, 40, 40, 60)
    scale_bits: int = 40

    @property
    def slots(self) -> int:
        """Values per ciphertext."""
        return self.poly_modulus_degree // 2


def create_context(params: CkksParams | None = None) -> ts.Context:
    """A new private context (with secret key) for the requester. Keep it; share `public_context_bytes`."""
    p = params or CkksParams()
    limit = _MAX_MODULUS_BITS.get(p.poly_modulus_degree)
    if limit is None or sum(p.coeff_mod_bit_sizes) > limit:
        raise ContextInvalid(
            f"N={p.poly_modulus_degree} with {sum(p.coeff_mod_bit_sizes)} modulus bits is not 128-bit secure"
        )
    ctx = ts.context(
        ts.SCHEME_TYPE.CKKS, p.poly_modulus_degree, coeff_mod_bit_sizes=list(p.coeff_mod_bit_sizes)
    )
    ctx.global_scale = 2.0**p.scale_bits
    return ctx


def public_context_bytes(ctx: ts.Context) -> bytes:
    """Serialise a copy of `ctx` without its secret key."""
    public = ctx.copy()
    public.make_context_public()
    if public.is_private():
        raise PrivateContext()
    data: bytes = public.serialize(save_secret_key=False)
    return data


def load_public_context(data: bytes) -> ts.Context:
    """Load a context a requester sent; refuse a private one, a non-CKKS one or weak parameters."""
    if not isinstance(data, bytes | bytearray):
        raise ContextInvalid("the context must be bytes")
    try:
        ctx = ts.context_from(bytes(data))
    except (ValueError, RuntimeError, TypeError) as exc:
        raise ContextInvalid(f"the context does not parse: {exc}") from None
    if ctx.is_private() or ctx.has_secret_key():
        raise PrivateContext()
    seal = ctx.seal_context().data
    key_data = seal.key_context_data()
    parms = key_data.parms()
    n = parms.poly_modulus_degree()
    bits = key_data.total_coeff_modulus_bit_count()
    if parms.scheme() != ts.SCHEME_TYPE.CKKS.value or not ctx.has_public_key():
        raise ContextInvalid("expected a CKKS context with a public key")
    if n not in _MAX_MODULUS_BITS or bits > _MAX_MODULUS_BITS[n]:
        raise ContextInvalid(f"N={n} with a {bits}-bit modulus is below 128-bit security")
    return ctx


def store_public_context(store: BlobStore, ctx: ts.Context) -> str:
    """Put the public copy of `ctx` in `store` once; return its digest."""
    return store.put(public_context_bytes(ctx))


def _slots(ctx: ts.Context) -> int:
    return int(ctx.seal_context().data.key_context_data().parms().poly_modulus_degree()) // 2


def _load_vector(ctx: ts.Context, blob: bytes) -> ts.CKKSVector:
    try:
        return ts.ckks_vector_from(ctx, blob)
    except (ValueError, RuntimeError, TypeError) as exc:
        raise ContextInvalid(f"a ciphertext does not parse under this context: {exc}") from None


def encrypt_values(ctx: ts.Context, values: npt.ArrayLike) -> list[bytes]:
    """Encrypt a vector, 4,096 values per ciphertext (the last one zero-padded); serialised."""
    x = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(x)):
        raise InvalidParameters("values", "must be finite")
    s = _slots(ctx)
    # Every ciphertext carries a full set of slots (zero-padded), so any two can be added.
    padded = np.zeros(-(-max(len(x), 1) // s) * s)
    padded[: len(x)] = x
    return [ts.ckks_vector(ctx, padded[i : i + s].tolist()).serialize() for i in range(0, len(padded), s)]


def add_ciphertexts(ctx: ts.Context, contributions: Sequence[Sequence[bytes]]) -> list[bytes]:
    """The aggregator's job: add several nodes' ciphertext lists slot-wise, without any key."""
    if not contributions or len({len(c) for c in contributions}) != 1:
        raise InvalidParameters("contributions", "need one or more lists of equal length")
    out = []
    for parts in zip(*contributions, strict=True):
        acc = _load_vector(ctx, parts[0])
        for blob in parts[1:]:
            acc = acc + _load_vector(ctx, blob)
        out.append(acc.serialize())
    return out


def decrypt_values(ctx: ts.Context, blobs: Sequence[bytes], count: int) -> F64:
    """The requester decrypts the first `count` values (needs the private context)."""
    if not ctx.is_private():
        raise ContextInvalid("decryption needs the requester's private context")
    values: list[float] = []
    for blob in blobs:
        values.extend(_load_vector(ctx, blob).decrypt())
    return np.asarray(values[:count], dtype=np.float64)


@dataclass(frozen=True)
class EncryptedModel:
    """A linear model as d + 1 ciphertexts: each weight, then the bias, replicated in every slot."""

    blobs: tuple[bytes, ...]

    @property
    def dimension(self) -> int:
        """Number of features."""
        return len(self.blobs) - 1


def encrypt_model(ctx: ts.Context, weights: npt.ArrayLike, bias: float) -> EncryptedModel:
    """The bank's side: encrypt each weight and the bias across all slots."""
    w = np.append(np.asarray(weights, dtype=np.float64).ravel(), float(bias))
    if not np.all(np.isfinite(w)):
        raise InvalidParameters("weights", "must be finite")
    s = _slots(ctx)
    return EncryptedModel(tuple(ts.ckks_vector(ctx, [float(v)] * s).serialize() for v in w))


def score_encrypted(
    ctx: ts.Context, model: EncryptedModel, features: npt.ArrayLike, *, noise: F64 | None = None
) -> list[bytes]:
    """The node's side: encrypted scores of feature rows, 4,096 records per ciphertext.

    ``noise`` (one value per record) is added encrypted, as fresh randomness and optional smudging.
    """
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != model.dimension:
        raise InvalidParameters("features", f"need rows of {model.dimension} features")
    s = _slots(ctx)
    enc = [_load_vector(ctx, b) for b in model.blobs]
    extra = np.zeros(len(x)) if noise is None else np.asarray(noise, dtype=np.float64)
    out = []
    for start in range(0, len(x), s):
        block = np.zeros((s, x.shape[1]))
        rows = x[start : start + s]
        block[: len(rows)] = rows
        acc = enc[0] * block[:, 0].tolist()
        for j in range(1, model.dimension):
            acc = acc + enc[j] * block[:, j].tolist()
        fresh = np.zeros(s)
        fresh[: len(rows)] = extra[start : start + s]
        acc = acc + enc[-1] + ts.ckks_vector(ctx, fresh.tolist())
        out.append(acc.serialize())
    return out


def decrypt_scores(ctx: ts.Context, blobs: Sequence[bytes], count: int) -> F64:
    """The bank decrypts the scores of the first `count` records."""
    return decrypt_values(ctx, blobs, count)


# ---- templates -------------------------------------------------------------------------------

_DEPS = ("sandbox._runner", "sandbox._dp", "sandbox._table", "sandbox._templates", "sandbox._blobstore")


def _context_input(inputs: Mapping[str, Any]) -> tuple[ts.Context, bytes]:
    raw = inputs.get("context")
    if not isinstance(raw, bytes):
        raise InvalidParameters("context", "the job needs the requester's public context")
    return load_public_context(raw), raw


def _encrypted_sum(ctx: ComputeContext) -> Ciphertexts:
    he, raw = _context_input(ctx.inputs)
    data, p = ctx.data, ctx.params
    mask = data.select(p["where"])
    n = int(mask.sum())
    if n < ctx.policy.min_group_size:
        raise GroupTooSmall(ctx.policy.min_group_size)
    values = []
    eps = p["epsilon"]
    share = None if eps is None else eps / (len(p["items"]) + 1)
    for name in p["items"]:
        item = data.schema[name]
        if item.identifier or not item.numeric:
            raise InvalidParameters("items", f"{name!r} is not a numeric item")
        total = float(data.numeric(name)[mask].sum())
        if share is not None:
            lo, hi = item.bounds()
            sens = max(abs(lo), abs(hi))
            total = snapping_laplace(
                total, sensitivity=sens, epsilon=share, bound=ctx.policy.max_rows * sens, rng=ctx.rng
            )
        values.append(total)
    count = float(n)
    if share is not None:
        count = snapping_laplace(
            count, sensitivity=1.0, epsilon=share, bound=ctx.policy.max_rows, rng=ctx.rng
        )
    values.append(count)
    return Ciphertexts(tuple(encrypt_values(he, values)), len(values), blob_digest(raw))


def _encrypted_scores(ctx: ComputeContext) -> Ciphertexts:
    he, raw = _context_input(ctx.inputs)
    data, p = ctx.data, ctx.params
    weights = ctx.inputs.get("weights")
    if not isinstance(weights, tuple) or len(weights) != len(p["features"]) + 1:
        raise InvalidParameters("weights", "need one encrypted weight per feature and one for the bias")
    ids = data.column(p["subject_item"])
    if not data.schema[p["subject_item"]].identifier:
        raise InvalidParameters("subject_item", "must be an identifier item")
    row_of = {str(s): r for r, s in enumerate(ids)}
    missing = sum(1 for s in p["subjects"] if s not in row_of)
    if missing:
        raise InvalidParameters("subjects", f"{missing} named subjects are not in this dataset")
    rows = np.fromiter((row_of[s] for s in p["subjects"]), dtype=np.int64, count=len(p["subjects"]))
    for name in p["features"]:
        item = data.schema[name]
        if item.identifier or not (item.numeric or item.type == "bool"):
            raise InvalidParameters("features", f"{name!r} is not a numeric item")
    x = np.column_stack([data.numeric(f)[rows] for f in p["features"]])
    std = p["noise_std"]
    noise = gaussian_noise(std, len(rows), ctx.rng) if std else None
    blobs = score_encrypted(he, EncryptedModel(weights), x, noise=noise)
    return Ciphertexts(tuple(blobs), len(rows), blob_digest(raw))


HE_TEMPLATES: tuple[Template, ...] = (
    Template(
        "he.encrypted_sum",
        "1",
        (
            Param("items", "items", max_length=4095),
            Param("epsilon", "number", required=False, minimum=1e-3, maximum=10.0),
            Param("where", "where", required=False, default=(), max_length=8),
        ),
        OutputRule.CIPHERTEXT,
        _encrypted_sum,
        lambda p: PrivacyCost(p["epsilon"] or 0.0),
        output_size=lambda p: len(p["items"]) + 1,
        dependencies=_DEPS,
        description="Sums of numeric items and the count, optionally DP-noised, encrypted for the requester.",
    ),
    Template(
        "he.encrypted_scores",
        "1",
        (
            Param("features", "items", max_length=256),
            Param("subject_item", "item"),
            Param("subjects", "items", max_length=100_000),
            Param("noise_std", "number", required=False, default=0.0, minimum=0.0, maximum=1e6),
        ),
        OutputRule.CIPHERTEXT,
        _encrypted_scores,
        output_size=lambda p: len(p["subjects"]),
        dependencies=_DEPS,
        description="Linear scores of the named subjects under the requester's encrypted model.",
    ),
)
