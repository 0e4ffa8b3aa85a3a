"""Ledger client throughput on Anvil against a plain web3.py loop writing the same call, same node, same run.

The call is ``AuditAnchor.anchor(logId, treeSize, rootHash)`` (new storage slots and an event,
about 100k gas), sent by a LOG_OPERATOR admin:

- ``raw_web3_tx_per_s``: web3.py ``build_transaction`` + eth-account ``sign_transaction`` +
  ``send_raw_transaction`` + ``wait_for_transaction_receipt``, one transaction at a time;
- ``client_tx_per_s``: ``Deployment.anchor.anchor`` one at a time (estimate, sign, send, receipt,
  decoded event);
- ``client_pipelined_tx_per_s``: ``Chain.send_many`` of prepared ``anchor`` calls (estimates,
  signing and sending in JSON-RPC batches of 100, receipts gathered after);
  ``client_pipelined_once_tx_per_s`` the same with ``estimate="once"``.

The machine is shared, so each figure is the median of several rounds, and the raw and client
loops alternate round by round; ``client_vs_raw`` is the median of the per-round ratios.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from eth_hash.auto import keccak

import ledger

ROUNDS = int(os.environ.get("TDEX_BENCH_LEDGER_ROUNDS", "3"))
SEQUENTIAL_TXS = int(os.environ.get("TDEX_BENCH_LEDGER_SEQ", "100"))
PIPELINED_TXS = int(os.environ.get("TDEX_BENCH_LEDGER_PIPE", "1000"))
ROOT = keccak(b"root")


def _raw_web3(
    chain: ledger.Chain, dep: ledger.Deployment, signer: ledger.Signer, n: int, log_id: bytes
) -> float:
    from web3.types import TxParams

    w3 = chain.web3
    contract = w3.eth.contract(address=dep.anchor.address, abi=dep.anchor.abi.abi)
    key = signer.export_private_key()
    nonce = w3.eth.get_transaction_count(signer.address)  # type: ignore[arg-type]
    started = time.perf_counter()
    for i in range(n):
        params: TxParams = {"from": signer.address, "nonce": nonce + i}  # type: ignore[typeddict-item]
        tx = contract.functions.anchor(log_id, i + 1, ROOT).build_transaction(params)
        signed = w3.eth.account.sign_transaction(tx, key)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        # Polled every millisecond like the client (web3's default 0.1 s would make the peer look slow).
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.001)
        if receipt["status"] != 1:  # pragma: no cover - a broken run
            raise RuntimeError(f"raw web3 anchor {i} failed")
    rate = n / (time.perf_counter() - started)
    # The raw loop used the signer's nonces behind the client's back.
    chain.forget_nonces()
    return rate


def _client_sequential(dep: ledger.Deployment, signer: ledger.Signer, n: int, log_id: bytes) -> float:
    started = time.perf_counter()
    for i in range(n):
        dep.anchor.anchor(signer, log_id, i + 1, ROOT)
    return n / (time.perf_counter() - started)


def _client_pipelined(
    chain: ledger.Chain, dep: ledger.Deployment, signer: ledger.Signer, n: int, log_id: bytes, estimate: str
) -> float:
    started = time.perf_counter()
    requests = [dep.anchor.prepare_anchor(log_id, i + 1, ROOT) for i in range(n)]
    results = chain.send_many(signer, requests, estimate=estimate)
    elapsed = time.perf_counter() - started
    failed = [r for r in results if not r.ok]
    if failed:  # pragma: no cover - a broken run
        raise RuntimeError(f"{len(failed)} pipelined anchors failed, first: {failed[0].error}")
    return n / elapsed


def run() -> dict[str, Any]:
    """Measure on a fresh Anvil node; returns {"name", "figures", "peer"}."""
    raw: list[float] = []
    client: list[float] = []
    ratios: list[float] = []
    pipelined: list[float] = []
    pipelined_once: list[float] = []
    with ledger.connect("anvil") as chain:
        operator = ledger.Signer.generate()
        chain.fund(operator.address)
        admin = ledger.Admin(keccak(b"bench-bureau"), operator.address, ledger.Capability.LOG_OPERATOR)
        dep = ledger.deploy(chain, operator, [admin])
        # Warm both paths (imports, connections, caches) outside the timed loops.
        _raw_web3(chain, dep, operator, 5, keccak(b"warm-raw"))
        _client_sequential(dep, operator, 5, keccak(b"warm-client"))
        for r in range(ROUNDS):
            pair = [
                ("raw", lambda r=r: _raw_web3(chain, dep, operator, SEQUENTIAL_TXS, keccak(b"raw-%d" % r))),
                (
                    "client",
                    lambda r=r: _client_sequential(dep, operator, SEQUENTIAL_TXS, keccak(b"client-%d" % r)),
                ),
            ]
            # Alternate which goes first so that neither always runs on the longer chain.
            rates = dict((name, measure()) for name, measure in (pair if r % 2 == 0 else pair[::-1]))
            raw.append(rates["raw"])
            client.append(rates["client"])
            ratios.append(rates["client"] / rates["raw"])
        for r in range(ROUNDS):
            pipelined.append(
                _client_pipelined(chain, dep, operator, PIPELINED_TXS, keccak(b"pipe-%d" % r), "each")
            )
            pipelined_once.append(
                _client_pipelined(chain, dep, operator, PIPELINED_TXS, keccak(b"once-%d" % r), "once")
            )
        gas = dep.anchor.anchor(operator, keccak(b"gas"), 1, ROOT).receipt.gas_used
    figures = {
        "raw_web3_tx_per_s": round(statistics.median(raw), 1),
        "client_tx_per_s": round(statistics.median(client), 1),
        "client_vs_raw": round(statistics.median(ratios), 2),
        "client_pipelined_tx_per_s": round(statistics.median(pipelined), 1),
        "client_pipelined_once_tx_per_s": round(statistics.median(pipelined_once), 1),
        "pipelined_vs_raw": round(statistics.median(pipelined) / statistics.median(raw), 2),
        "rounds": ROUNDS,
        "sequential_txs_per_round": SEQUENTIAL_TXS,
        "pipelined_txs_per_round": PIPELINED_TXS,
        "anchor_gas_used": gas,
        "cpus": os.cpu_count() or 0,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    return {
        "name": "ledger",
        "figures": figures,
        "peer": (
            "plain web3.py loop on the same Anvil node in the same run: build_transaction + "
            "eth-account sign_transaction (coincurve) + send_raw_transaction + wait_for_transaction_receipt"
        ),
    }
