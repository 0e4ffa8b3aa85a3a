"""CKKS: only public contexts reach nodes, encrypted sums and scores are right, contexts stored by hash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tenseal as ts

import sandbox as sb
from sandbox.errors import (
    BlobCorrupt,
    BlobMissing,
    ContextInvalid,
    GroupTooSmall,
    InvalidParameters,
    OutputRuleViolated,
    PrivateContext,
)


@pytest.fixture(scope="module")
def requester() -> ts.Context:
    return sb.create_context()


@pytest.fixture(scope="module")
def public(requester: ts.Context) -> bytes:
    return sb.public_context_bytes(requester)


@pytest.fixture(scope="module")
def firms() -> list[sb.Table]:
    return [sb.credit_table(300, seed) for seed in (1, 2, 3)]


def _run(
    runner: sb.Runner,
    registry: sb.TemplateRegistry,
    name: str,
    params: dict[str, Any],
    inputs: dict[str, Any],
    data: sb.Table,
    acc: sb.BudgetAccountant | None = None,
) -> sb.RunResult:
    digest = registry.digest_of(name)
    return runner.run(
        sb.RunRequest("g", digest, params, frozenset({digest}), inputs),
        data,
        sb.ResourcePolicy(min_group_size=10),
        acc or sb.BudgetAccountant("g", 10),
    )


def test_public_context_round_trips_without_secret_key(requester: ts.Context, public: bytes) -> None:
    """The serialised public copy loads, is public, encrypts, and cannot decrypt."""
    ctx = sb.load_public_context(public)
    assert ctx.is_public() and not ctx.is_private()
    blob = sb.encrypt_values(ctx, [1.5, 2.5])
    assert np.allclose(sb.decrypt_values(requester, blob, 2), [1.5, 2.5], atol=1e-6)
    with pytest.raises(ContextInvalid):
        sb.decrypt_values(ctx, blob, 2)


def test_a_private_context_is_refused_by_nodes(
    requester: ts.Context, runner: sb.Runner, registry: sb.TemplateRegistry, firms: list[sb.Table]
) -> None:
    """A context carrying the secret key raises PrivateContext, directly and inside a job."""
    private = requester.serialize(save_secret_key=True)
    with pytest.raises(PrivateContext) as exc:
        sb.load_public_context(private)
    assert exc.value.code == "sandbox.private_context"
    with pytest.raises(PrivateContext):
        _run(runner, registry, "he.encrypted_sum", {"items": ["employees"]}, {"context": private}, firms[0])


def test_garbage_and_non_ckks_contexts_are_refused() -> None:
    """Bytes that are not a context, or a BFV context, are ContextInvalid."""
    with pytest.raises(ContextInvalid):
        sb.load_public_context(b"not a context")
    bfv = ts.context(ts.SCHEME_TYPE.BFV, 8192, plain_modulus=1032193)
    bfv.make_context_public()
    with pytest.raises(ContextInvalid):
        sb.load_public_context(bfv.serialize())
    with pytest.raises(ContextInvalid):
        sb.create_context(sb.CkksParams(coeff_mod_bit_sizes=(60, 60, 60, 60)))


def test_cross_department_encrypted_sum(
    requester: ts.Context,
    public: bytes,
    runner: sb.Runner,
    registry: sb.TemplateRegistry,
    firms: list[sb.Table],
) -> None:
    """Three nodes encrypt local sums, the aggregator adds ciphertexts, only the requester decrypts."""
    items = ["employees", "arrears_months"]
    parts = [
        list(
            _run(runner, registry, "he.encrypted_sum", {"items": items}, {"context": public}, t).output.blobs
        )
        for t in firms
    ]
    aggregator = sb.load_public_context(public)
    total = sb.add_ciphertexts(aggregator, parts)
    got = sb.decrypt_values(requester, total, 3)
    expected = [sum(t.numeric(i).sum() for t in firms) for i in items] + [sum(len(t) for t in firms)]
    assert np.allclose(got, expected, rtol=1e-6)


def test_encrypted_sum_with_dp_noise_is_charged(
    public: bytes, runner: sb.Runner, registry: sb.TemplateRegistry, firms: list[sb.Table]
) -> None:
    """A DP-noised encrypted sum costs its ε; a selection below k is refused."""
    acc = sb.BudgetAccountant("g", 1.0)
    _run(
        runner,
        registry,
        "he.encrypted_sum",
        {"items": ["employees"], "epsilon": 0.5},
        {"context": public},
        firms[0],
        acc,
    )
    assert acc.epsilon_spent == 0.5
    where = [{"item": "uscc", "op": "eq", "value": str(firms[0].column("uscc")[0])}]
    with pytest.raises(GroupTooSmall):
        _run(
            runner,
            registry,
            "he.encrypted_sum",
            {"items": ["employees"], "where": where},
            {"context": public},
            firms[0],
        )


def test_encrypted_credit_scoring(
    requester: ts.Context,
    public: bytes,
    runner: sb.Runner,
    registry: sb.TemplateRegistry,
    firms: list[sb.Table],
) -> None:
    """The bank's encrypted model scores the named firms; decrypted scores equal the plaintext scores."""
    rng = np.random.default_rng(5)
    w, b = rng.normal(size=len(sb.CREDIT_FEATURES)), 0.25
    model = sb.encrypt_model(sb.load_public_context(public), w, b)
    table = firms[1]
    subjects = [str(s) for s in table.column("uscc")[[5, 0, 17]]]
    params = {"features": list(sb.CREDIT_FEATURES), "subject_item": "uscc", "subjects": subjects}
    result = _run(
        runner, registry, "he.encrypted_scores", params, {"context": public, "weights": model.blobs}, table
    )
    scores = sb.decrypt_scores(requester, result.output.blobs, len(subjects))
    x = np.column_stack([table.numeric(f) for f in sb.CREDIT_FEATURES])[[5, 0, 17]]
    assert np.allclose(scores, x @ w + b, atol=1e-3)
    assert result.output.values == 3


def test_scoring_refuses_unknown_firms_and_wrong_models(
    public: bytes, runner: sb.Runner, registry: sb.TemplateRegistry, firms: list[sb.Table]
) -> None:
    """Firms not in the dataset, or a model of the wrong width, are invalid parameters."""
    model = sb.encrypt_model(sb.load_public_context(public), np.ones(3), 0.0)
    base = {"features": list(sb.CREDIT_FEATURES), "subject_item": "uscc"}
    with pytest.raises(InvalidParameters):
        _run(
            runner,
            registry,
            "he.encrypted_scores",
            {**base, "subjects": ["nobody"]},
            {"context": public, "weights": model.blobs},
            firms[0],
        )
    with pytest.raises(InvalidParameters):
        subjects = [str(firms[0].column("uscc")[0])]
        _run(
            runner,
            registry,
            "he.encrypted_scores",
            {**base, "subjects": subjects},
            {"context": public, "weights": model.blobs},
            firms[0],
        )


def test_ciphertexts_must_be_under_the_requesters_context(public: bytes, firms: list[sb.Table]) -> None:
    """The runner refuses a ciphertext output that names a different context than the job's."""

    def rogue(ctx: sb.ComputeContext) -> sb.Ciphertexts:
        return sb.Ciphertexts((b"x",), 1, "sha256:" + "0" * 64)

    t = sb.Template("rogue.he", "1", (), sb.OutputRule.CIPHERTEXT, rogue, output_size=lambda p: 1)
    runner = sb.Runner(sb.TemplateRegistry([t]))
    with pytest.raises(OutputRuleViolated):
        runner.run(
            sb.RunRequest("g", t.digest, {}, frozenset({t.digest}), {"context": public}),
            firms[0],
            sb.ResourcePolicy(),
            sb.BudgetAccountant("g", 1),
        )


def test_contexts_are_stored_once_by_hash(requester: ts.Context, public: bytes, tmp_path: Path) -> None:
    """The public context goes into the blob store under its SHA-256 and comes back verified."""
    store = sb.FilesystemBlobStore(tmp_path)
    digest = store.put(public)
    assert digest == sb.blob_digest(public) and store.put(public) == digest and digest in store
    assert len(list((tmp_path / "sha256").rglob("*"))) == 2  # one fan-out directory, one file
    assert sb.load_public_context(store.get(digest)).is_public()
    # Serialising again gives other bytes (SEAL re-randomises), so a requester serialises once
    # and refers to that digest from then on.
    assert sb.load_public_context(store.get(sb.store_public_context(store, requester))).is_public()


@pytest.mark.parametrize("kind", ["memory", "filesystem"])
def test_blob_store_detects_missing_and_corrupt_blobs(kind: str, tmp_path: Path) -> None:
    """Unknown digests are BlobMissing; bytes that no longer match their name are BlobCorrupt."""
    store: Any = sb.MemoryBlobStore() if kind == "memory" else sb.FilesystemBlobStore(tmp_path)
    digest = store.put(b"hello")
    assert store.put(b"hello") == digest and store.get(digest) == b"hello"
    with pytest.raises(BlobMissing) as missing:
        store.get(sb.blob_digest(b"other"))
    assert missing.value.code == "sandbox.blob_missing"
    if kind == "memory":
        store._blobs[digest] = b"tampered"
    else:
        (tmp_path / "sha256" / digest[7:9] / digest[7:]).write_bytes(b"tampered")
    with pytest.raises(BlobCorrupt) as corrupt:
        store.get(digest)
    assert corrupt.value.code == "sandbox.blob_corrupt"
    with pytest.raises(InvalidParameters):
        store.get("../../etc/passwd")
