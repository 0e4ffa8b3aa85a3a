"""E-certificates: issuance, full verification against the chain, status-list updates; raw Ed25519 as peer.

On a fresh Anvil node (eth-tester when the Anvil binary is missing), with one issuing department:

- ``issue_per_s``: `issue_business_licence` (USCC check, schema check, eddsa-jcs-2022 proof, status
  index, anchor values), CPU only;
- ``anchor_per_s``: those certificates anchored in the CertificateRegistry with pipelined
  transactions (`Chain.send_many`);
- ``verify_per_s``: `Verifier.verify_many` of the certificates with every check: proof, schema,
  validity, both status lists, and the anchor read from the chain (the certificate records in
  JSON-RPC batches of 200 `eth_call`s; the lists' latest anchored versions reused for one second,
  ``ChainAnchors(list_cache_s=1.0)``);
- ``verify_offline_per_s``: the same with the anchors in memory (the verifier's own cost);
- ``proof_verify_per_s``: the Data Integrity proof alone (JCS twice, SHA-256, Ed25519);
- ``raw_ed25519_verify_per_s`` (the peer): libsodium Ed25519 verify of the same hashData bytes,
  i.e. the floor any eddsa-jcs-2022 verifier pays;
- ``status_list_update_s``: suspend 1,000 certificates: flip 1,000 bits, re-sign the status list,
  record the changes on chain (batches of 500) and anchor the new list version;
  ``status_list_flip_s`` is the off-chain part alone.

Verification rates are the median of `TDEX_BENCH_CERT_ROUNDS` (5) passes over the same 1,000
certificates (`TDEX_BENCH_CERT_N`); issuance, anchoring and the status update are one pass each.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import base58

import ledger
from credentials import (
    CertificateIssuer,
    CertificateStatus,
    InMemoryAnchors,
    Verifier,
    chain_account,
    encoded_list_hash,
    issue_business_licence,
    status_list_id,
    verify_proof,
)
from keys import SigningKey
from ledger.ids import org_id
from tdex.commands.cert import ChainAnchors, anchor_list_updates, publish_status_change

COUNT = int(os.environ.get("TDEX_BENCH_CERT_N", "1000"))
ROUNDS = int(os.environ.get("TDEX_BENCH_CERT_ROUNDS", "5"))
FLIPS = 1000
USCC = "91110000600037341L"


def _connect() -> Any:
    try:
        return ledger.connect("anvil"), "anvil"
    except ledger.LedgerError:
        return ledger.connect("eth-tester"), "eth-tester"


def _rate(count: int, started: float) -> float:
    return count / max(time.perf_counter() - started, 1e-9)


def _median_rate(fn: Callable[[], object], count: int, rounds: int = ROUNDS) -> float:
    # Wall-clock rates on a shared machine swing from run to run: the median of a few full passes
    # over the same work is what is reported.
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        rates.append(_rate(count, started))
    return statistics.median(rates)


def run() -> dict[str, Any]:
    """Measure on a fresh local chain; returns {"name", "figures", "peer"}."""
    chain, backend = _connect()
    with chain:
        bureau, market = ledger.Signer.generate(), ledger.Signer.generate()
        chain.fund([bureau.address, market.address])
        dep = ledger.deploy(chain, bureau, [ledger.Admin(org_id("bench-bureau"), bureau.address)])
        dep.consortium.propose_admission(
            bureau,
            org_id("bench-market"),
            market.address,
            ledger.Role.DEPARTMENT,
            ledger.Capability.CERT_ISSUER,
        )
        registry = ledger.CertificateRegistry.deploy(chain, bureau, dep.consortium.address)
        key = SigningKey.generate("intl")
        issuer = CertificateIssuer(
            key,
            name="某市市场监督管理局",
            status_base_url="https://certs.tdex.example/status/market",
            subject_secret=b"bench-subject-secret-000",
            chain_account=chain_account(chain.chain_id, market.address),
            rng=random.Random(1),
        )
        anchor_list_updates(registry, market, issuer.publish_all())

        def licence(i: int) -> Any:
            return issue_business_licence(
                issuer,
                uscc=USCC,
                name=f"某某物流有限公司第{i}分公司",
                entity_type="有限责任公司分公司",
                legal_representative="张三",
                established_on=date(2019, 5, 20),
                domicile="某市某区物流园路1号",
                business_scope="道路普通货物运输；仓储服务（不含危险化学品）",
                registration_authority="某市市场监督管理局",
            )

        licence(-1)  # warm: imports, schema compilation
        started = time.perf_counter()
        issued = [licence(i) for i in range(COUNT)]
        issue_per_s = _rate(COUNT, started)

        started = time.perf_counter()
        requests = [
            registry.prepare_anchor(
                a.anchor.anchor_id, a.anchor.subject_ref, a.anchor.document_hash, a.anchor.valid_from, 0
            )
            for a in issued
        ]
        results = chain.send_many(market, requests)
        anchor_per_s = _rate(COUNT, started)
        if not all(r.ok for r in results):  # pragma: no cover - a broken run
            raise RuntimeError("some anchors failed")

        credentials = [a.credential for a in issued]
        lists = issuer.status_list_credentials()
        verifier = Verifier(status_lists=lists, anchors=ChainAnchors(registry, list_cache_s=1.0))
        reports = verifier.verify_many(credentials)
        verify_per_s = _median_rate(lambda: verifier.verify_many(credentials), COUNT)
        if not all(r.ok for r in reports):  # pragma: no cover - a broken run
            raise RuntimeError(f"verification failed: {next(r for r in reports if not r.ok).to_json()}")

        mirror = InMemoryAnchors(chain.chain_id)
        for url, document in lists.items():
            encoded = document["credentialSubject"]["encodedList"]
            mirror.anchor_status_list(
                market.address, status_list_id(url, "intl"), 1, encoded_list_hash(encoded, "intl")
            )
        for a in issued:
            mirror.anchor(market.address, a.anchor.anchor_id, a.anchor.subject_ref, a.anchor.document_hash,
                          a.anchor.valid_from, 0)  # fmt: skip
        offline = Verifier(status_lists=lists, anchors=mirror)
        assert all(r.ok for r in offline.verify_many(credentials))
        verify_offline_per_s = _median_rate(lambda: offline.verify_many(credentials), COUNT)
        proof_verify_per_s = _median_rate(lambda: [verify_proof(c) for c in credentials], COUNT)

        public = key.verify_key
        # The exact bytes each proof signs, from the verifier itself (VerifiedProof.hash_data).
        signed = [
            (base58.b58decode(c["proof"]["proofValue"][1:]), verify_proof(c)[0].hash_data)
            for c in credentials
        ]
        raw_verify_per_s = _median_rate(lambda: [public.verify(sig, msg) for sig, msg in signed], COUNT)

        targets = credentials[:FLIPS]
        started = time.perf_counter()
        change = issuer.change_status([(c, CertificateStatus.SUSPENDED, "bench") for c in targets])
        flipped = time.perf_counter()
        publish_status_change(registry, market, change)
        status_list_update_s = time.perf_counter() - started
        status_list_flip_s = flipped - started
        after = Verifier(status_lists=issuer.status_list_credentials(), anchors=ChainAnchors(registry))
        check = after.verify(targets[0])
        if check.ok or check.check("status").code != "credentials.status.suspended":  # pragma: no cover
            raise RuntimeError("the suspension did not show")
        anchor_gas = results[0].unwrap().gas_used
    figures = {
        "issue_per_s": round(issue_per_s, 1),
        "anchor_per_s": round(anchor_per_s, 1),
        "verify_per_s": round(verify_per_s, 1),
        "verify_offline_per_s": round(verify_offline_per_s, 1),
        "proof_verify_per_s": round(proof_verify_per_s, 1),
        "raw_ed25519_verify_per_s": round(raw_verify_per_s, 1),
        "proof_vs_raw": round(proof_verify_per_s / raw_verify_per_s, 3),
        "status_list_update_s": round(status_list_update_s, 3),
        "status_list_flip_s": round(status_list_flip_s, 3),
        "status_flips": len(targets),
        "certificates": COUNT,
        "rounds": ROUNDS,
        "anchor_gas_used": anchor_gas,
        "cpus": os.cpu_count() or 0,
    }
    return {
        "name": "cert",
        "figures": figures,
        "backend": backend,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "peer": "libsodium Ed25519 verify (PyNaCl bindings) of the same eddsa-jcs-2022 hashData, same run",
    }
