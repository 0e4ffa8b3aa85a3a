"""Ledger client throughput on Anvil against a plain web3.py loop writing the same call, same node, same run.

The call is ``AuditAnchor.anchor(logId, treeSize, rootHash)`` (a new storage slot and an event,
about 90k gas), sent by a LOG_OPERATOR admin:

- ``raw_web3_tx_per_s``: web3.py ``build_transaction`` + eth-account ``sign_transaction`` +
  ``send_raw_transaction`` + ``wait_for_transaction_receipt``, one transaction at a time;
- ``client_tx_per_s``: ``Deployment.anchor.anchor`` one at a time (estimate, sign, send, receipt,
  decoded event);
- ``client_pipelined_tx_per_s``: ``Chain.send_many`` of prepared ``anchor`` calls (estimates,
  signing and sending in JSON-RPC batches of 100, receipts gathered after).
"""

from __future__ import annotations

import os
import time
from typing import Any

from eth_hash.auto import keccak

import ledger

SEQUENTIAL_TXS = int(os.environ.get("TDEX_BENCH_LEDGER_SEQ", "300"))
PIPELINED_TXS = int(os.environ.get("TDEX_BENCH_LEDGER_PIPE", "3000"))


def _raw_web3(
    chain: ledger.Chain, dep: ledger.Deployment, signer: ledger.Signer, n: int, tag: bytes
) -> float:
    from web3.types import TxParams

    w3 = chain.web3
    contract = w3.eth.contract(address=dep.anchor.address, abi=dep.anchor.abi.abi)
    key = signer.export_private_key()
    log_id = keccak(b"bench-raw-" + tag)
    root = keccak(b"root")
    nonce = w3.eth.get_transaction_count(signer.address)  # type: ignore[arg-type]
    chain.forget_nonces()
    started = time.perf_counter()
    for i in range(n):
        params: TxParams = {"from": signer.address, "nonce": nonce + i}  # type: ignore[typeddict-item]
        tx = contract.functions.anchor(log_id, i + 1, root).build_transaction(params)
        signed = w3.eth.account.sign_transaction(tx, key)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:  # pragma: no cover - a broken run
            raise RuntimeError(f"raw web3 anchor {i} failed")
    return n / (time.perf_counter() - started)


def _client_sequential(dep: ledger.Deployment, signer: ledger.Signer, n: int) -> float:
    log_id = keccak(b"bench-client")
    root = keccak(b"root")
    started = time.perf_counter()
    for i in range(n):
        dep.anchor.anchor(signer, log_id, i + 1, root)
    return n / (time.perf_counter() - started)


def _client_pipelined(chain: ledger.Chain, dep: ledger.Deployment, signer: ledger.Signer, n: int) -> float:
    log_id = keccak(b"bench-pipelined")
    root = keccak(b"root")
    started = time.perf_counter()
    requests = [dep.anchor.prepare_anchor(log_id, i + 1, root) for i in range(n)]
    results = chain.send_many(signer, requests)
    elapsed = time.perf_counter() - started
    failed = [r for r in results if not r.ok]
    if failed:  # pragma: no cover - a broken run
        raise RuntimeError(f"{len(failed)} pipelined anchors failed, first: {failed[0].error}")
    return n / elapsed


def run() -> dict[str, Any]:
    """Measure on a fresh Anvil node; returns {"name", "figures", "peer"}."""
    with ledger.connect("anvil") as chain:
        operator = ledger.Signer.generate()
        chain.fund(operator.address)
        admin = ledger.Admin(keccak(b"bench-bureau"), operator.address, ledger.Capability.LOG_OPERATOR)
        dep = ledger.deploy(chain, operator, [admin])
        # Warm both paths (imports, connection set-up, first estimates) outside the timed loops.
        _raw_web3(chain, dep, operator, 5, b"warm")
        dep.anchor.anchor(operator, keccak(b"warm"), 1, keccak(b"root"))
        raw = _raw_web3(chain, dep, operator, SEQUENTIAL_TXS, b"timed")
        client = _client_sequential(dep, operator, SEQUENTIAL_TXS)
        pipelined = _client_pipelined(chain, dep, operator, PIPELINED_TXS)
        gas = dep.anchor.anchor(operator, keccak(b"gas"), 1, keccak(b"root")).receipt.gas_used
    figures = {
        "raw_web3_tx_per_s": round(raw, 1),
        "client_tx_per_s": round(client, 1),
        "client_pipelined_tx_per_s": round(pipelined, 1),
        "client_vs_raw": round(client / raw, 2),
        "pipelined_vs_raw": round(pipelined / raw, 2),
        "sequential_txs": SEQUENTIAL_TXS,
        "pipelined_txs": PIPELINED_TXS,
        "anchor_gas_used": gas,
        "cpus": os.cpu_count() or 0,
    }
    return {
        "name": "ledger",
        "figures": figures,
        "peer": (
            "plain web3.py loop on the same Anvil node in the same run: build_transaction + "
            "eth-account sign_transaction (coincurve) + send_raw_transaction + wait_for_transaction_receipt"
        ),
    }
