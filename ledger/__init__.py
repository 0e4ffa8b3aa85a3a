"""The ledger client: one API over eth-tester, a local Anvil node and any JSON-RPC chain (Besu QBFT)."""

from __future__ import annotations

from ledger._chain import Chain, RetryPolicy
from ledger._connect import connect
from ledger._contract import ContractClient
from ledger._signing import SignedTx, Signer
from ledger._types import Event, Log, Receipt, TxRequest, TxResult

__all__ = [
    "Chain",
    "ContractClient",
    "Event",
    "Log",
    "Receipt",
    "RetryPolicy",
    "SignedTx",
    "Signer",
    "TxRequest",
    "TxResult",
    "connect",
]
