"""Chain: one connection to one chain, whatever the backend — reads, fees, nonces, sending, receipts, logs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger._abi import ContractAbi, checksum
from ledger._backends import Backend, JsonRpcError, TesterBackend, TransportError, revert_data
from ledger._sending import Sender
from ledger._signing import SignedTx, Signer
from ledger._types import Event, Log, Receipt, TxRequest, TxResult
from ledger.errors import (
    LedgerError,
    RpcError,
    Unreachable,
    Unsupported,
    decode_revert,
)

if TYPE_CHECKING:
    from web3 import Web3

    from ledger._anvil import AnvilProcess

__all__ = ["Chain", "RetryPolicy"]

ETHER = 10**18
_ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry after transport errors (the request may not have arrived)."""

    attempts: int = 5
    first_delay: float = 0.05
    max_delay: float = 2.0

    def delay(self, attempt: int) -> float:
        """Pause before retry number ``attempt`` (0-based), doubling up to ``max_delay``."""
        return min(self.first_delay * (2**attempt), self.max_delay)


class Chain:
    """A connection to one chain through one backend; make one with ``ledger.connect``.

    Thread-safe: requests may come from several threads; each signer's nonces are allocated under
    that signer's lock, so concurrent sends never reuse or skip a nonce.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        kind: str,
        name: str,
        anvil: AnvilProcess | None = None,
        poa: bool | None = None,
        retry: RetryPolicy | None = None,
        receipt_timeout: float = 120.0,
        gas_margin: float = 1.2,
        fee_ttl: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.backend = backend
        self.kind = kind
        self.name = name
        self.retry = retry or RetryPolicy()
        self.receipt_timeout = receipt_timeout
        self.gas_margin = gas_margin
        self.fee_ttl = fee_ttl
        self._sleep = sleep
        self._anvil = anvil
        self._abis: dict[str, ContractAbi] = {}
        self._fee_lock = threading.Lock()
        self._fees_at: float | None = None
        self._fees_value: tuple[int, int] = (0, 0)
        self._tip: int | None = None
        self._web3: Web3 | None = None
        try:
            self.chain_id: int = int(self.rpc("eth_chainId", []), 16)
        except Unreachable as exc:
            raise Unreachable(f"no chain answers at {name}; is the node running? ({exc})") from exc
        except RpcError as exc:
            # Something answered HTTP but not JSON-RPC (a web page, a proxy error).
            raise Unreachable(f"no Ethereum JSON-RPC node answers at {name}: {exc}") from exc
        genesis = self.rpc("eth_getBlockByNumber", ["0x0", False]) or {}
        self.genesis_hash: str = genesis.get("hash", "")
        try:
            self.client_version: str = str(self.rpc("web3_clientVersion", []))
        except RpcError:
            self.client_version = "unknown"
        extra = genesis.get("extraData", "0x") or "0x"
        # Clique/QBFT/IBFT keep validator data in extraData, longer than the 32 bytes Ethereum allows.
        self.poa: bool = poa if poa is not None else (len(extra) - 2) // 2 > 32
        latest = self.rpc("eth_getBlockByNumber", ["latest", False]) or {}
        self.block_gas_limit: int = int(latest.get("gasLimit", hex(30_000_000)), 16)
        self._nudge_automine = self.client_version.lower().startswith("anvil")
        self._sender = Sender(self)

    # ------------------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close connections and stop the Anvil node this chain started (if any)."""
        try:
            self.backend.close()
        finally:
            if self._anvil is not None:
                self._anvil.stop()
                self._anvil = None

    def __repr__(self) -> str:
        return f"Chain({self.kind}, {self.name}, chain_id={self.chain_id})"

    @property
    def is_dev(self) -> bool:
        """Whether this is a development chain (eth-tester or Anvil) with dev funding and time travel."""
        return self.client_version.lower().startswith(("anvil", "eth-tester"))

    @property
    def anvil_pid(self) -> int | None:
        """Process id of the Anvil node this chain started, None otherwise."""
        return self._anvil.pid if self._anvil is not None else None

    @property
    def web3(self) -> Web3:
        """A web3.py ``Web3`` on the same chain (PoA middleware injected when needed), for anything else."""
        if self._web3 is None:
            from web3 import Web3
            from web3.middleware import ExtraDataToPOAMiddleware

            if isinstance(self.backend, TesterBackend):
                from web3.providers.eth_tester import EthereumTesterProvider

                w3 = Web3(EthereumTesterProvider(self.backend.tester))
            else:
                w3 = Web3(Web3.HTTPProvider(self.name))
            if self.poa:
                w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
            self._web3 = w3
        return self._web3

    # ------------------------------------------------------------------------------ raw access

    def rpc(self, method: str, params: list[Any]) -> Any:
        """One JSON-RPC request, retried on transport errors (use only for reads and idempotent calls)."""
        last: TransportError | None = None
        for attempt in range(self.retry.attempts):
            try:
                return self.backend.request(method, params)
            except TransportError as exc:
                last = exc
                if attempt + 1 < self.retry.attempts:
                    self._sleep(self.retry.delay(attempt))
            except JsonRpcError as exc:
                raise self._translate(exc, method) from None
        raise Unreachable(f"{self.name} did not answer {method} after {self.retry.attempts} attempts: {last}")

    def _batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """A batch of idempotent requests, retried whole on transport errors; errors stay in their slots."""
        last: TransportError | None = None
        for attempt in range(self.retry.attempts):
            try:
                return self.backend.batch(calls)
            except TransportError as exc:
                last = exc
                if attempt + 1 < self.retry.attempts:
                    self._sleep(self.retry.delay(attempt))
        raise Unreachable(f"{self.name} did not answer a batch after {self.retry.attempts} attempts: {last}")

    def _translate(self, exc: JsonRpcError, method: str) -> LedgerError:
        if method in ("eth_call", "eth_estimateGas"):
            data = revert_data(exc)
            if data is not None:
                return decode_revert(data)
        return RpcError(f"{method} failed on {self.name}: {exc.message}", rpc_code=exc.code, data=exc.data)

    def register_abi(self, address: str, abi: ContractAbi) -> None:
        """Decode the events of the contract at ``address`` in receipts and event queries from now on."""
        self._abis[address.lower()] = abi

    # ------------------------------------------------------------------------------ reads

    def block_number(self) -> int:
        """Number of the latest block."""
        return int(self.rpc("eth_blockNumber", []), 16)

    def block(self, number: int | str = "latest") -> dict[str, Any]:
        """The block header as the node reports it (JSON-RPC shape)."""
        tag = hex(number) if isinstance(number, int) else number
        block = self.rpc("eth_getBlockByNumber", [tag, False])
        if block is None:
            raise RpcError(f"{self.name} has no block {number}")
        return dict(block)

    def timestamp(self) -> int:
        """Timestamp of the latest block (what ``block.timestamp`` was when it was mined)."""
        return int(self.block()["timestamp"], 16)

    def balance(self, address: str) -> int:
        """Balance of ``address`` in wei."""
        return int(self.rpc("eth_getBalance", [address, "latest"]), 16)

    def code(self, address: str) -> bytes:
        """Runtime code at ``address`` (b"" for none)."""
        return bytes.fromhex(str(self.rpc("eth_getCode", [address, "latest"]))[2:])

    def nonce(self, address: str, block: str = "pending") -> int:
        """Transaction count of ``address`` as the node sees it."""
        return int(self.rpc("eth_getTransactionCount", [address, block]), 16)

    def call(self, to: str, data: bytes, *, sender: str | None = None, block: int | str = "latest") -> bytes:
        """Execute a read-only call; a revert raises its typed ContractRevert."""
        tag = hex(block) if isinstance(block, int) else block
        request = {"from": sender or _ZERO_ADDRESS, "to": to, "data": "0x" + data.hex()}
        return bytes.fromhex(str(self.rpc("eth_call", [request, tag]))[2:])

    def estimate_gas(self, sender: str, request: TxRequest) -> int:
        """The gas limit to send ``request`` with (estimate x margin); a revert raises its typed error."""
        return self._gas_limit(int(self.rpc("eth_estimateGas", [self._call_object(sender, request)]), 16))

    def _call_object(self, sender: str, request: TxRequest) -> dict[str, Any]:
        obj: dict[str, Any] = {"from": sender, "data": "0x" + request.data.hex()}
        if request.to:
            obj["to"] = request.to
        if request.value:
            obj["value"] = hex(request.value)
        return obj

    def _gas_limit(self, estimate: int) -> int:
        return min(int(estimate * self.gas_margin) + 5_000, self.block_gas_limit)

    # ------------------------------------------------------------------------------ fees and nonces

    def fees(self, *, refresh: bool = False) -> tuple[int, int]:
        """(max fee per gas, max priority fee per gas) for the next transactions.

        Twice the latest base fee plus the tip, so a transaction stays valid while the base fee rises
        for several blocks. Both are 0 on a chain whose base fee is 0 (Besu with ``zeroBaseFee``).
        """
        with self._fee_lock:
            now = time.monotonic()
            if refresh or self._fees_at is None or now - self._fees_at > self.fee_ttl:
                base = int(self.block().get("baseFeePerGas") or "0x0", 16)
                if base == 0:
                    self._fees_value = (0, 0)
                else:
                    if self._tip is None:
                        try:
                            self._tip = int(self.rpc("eth_maxPriorityFeePerGas", []), 16)
                        except RpcError:
                            self._tip = 10**9
                    self._fees_value = (2 * base + self._tip, self._tip)
                self._fees_at = now
            return self._fees_value

    # ------------------------------------------------------------------------------ receipts

    def _parse_receipt(self, raw: dict[str, Any]) -> Receipt:
        logs = tuple(self._parse_log(item) for item in raw.get("logs", ()))
        events = tuple(e for e in (self.decode_log(log) for log in logs) if e is not None)
        contract = raw.get("contractAddress")
        return Receipt(
            tx_hash=raw["transactionHash"],
            block_number=int(raw["blockNumber"], 16),
            status=int(raw.get("status", "0x1"), 16) == 1,
            gas_used=int(raw["gasUsed"], 16),
            contract_address=checksum(contract) if contract else None,
            logs=logs,
            events=events,
        )

    @staticmethod
    def _parse_log(raw: dict[str, Any]) -> Log:
        return Log(
            address=checksum(raw["address"]),
            topics=tuple(bytes.fromhex(t[2:]) for t in raw["topics"]),
            data=bytes.fromhex(raw["data"][2:]),
            block_number=int(raw["blockNumber"], 16),
            tx_hash=raw["transactionHash"],
            log_index=int(raw["logIndex"], 16),
        )

    def decode_log(self, log: Log) -> Event | None:
        """The decoded event of a log from a registered contract, None for anything else."""
        abi = self._abis.get(log.address.lower())
        if abi is None or not log.topics:
            return None
        event = abi.events.get(log.topics[0])
        if event is None:
            return None
        return Event(
            contract=abi.name,
            name=event.name,
            args=event.decode(log.topics, log.data),
            address=log.address,
            block_number=log.block_number,
            tx_hash=log.tx_hash,
            log_index=log.log_index,
        )

    # ------------------------------------------------------------------------------ sending

    def send(self, signer: Signer, request: TxRequest, *, timeout: float | None = None) -> Receipt:
        """Sign ``request`` locally as ``signer``, send it and wait for its receipt.

        Raises the typed ContractRevert when the gas estimate or the mined transaction reverts,
        TransactionRejected when the node refuses it, ReceiptTimeout when it is not mined in time.
        """
        return self._sender.send(signer, request, timeout=timeout)

    def send_many(
        self,
        signer: Signer,
        requests: Sequence[TxRequest],
        *,
        batch_size: int = 100,
        timeout: float | None = None,
        estimate: str = "each",
    ) -> list[TxResult]:
        """Pipelined sending: estimate, sign and broadcast in JSON-RPC batches, then gather the receipts.

        Returns one TxResult per request, in order. A request whose estimate reverts is not sent
        (its result carries the typed error); one the node refuses has its nonce filled by a
        zero-value self-transfer so the later transactions still get mined. A request with a
        ``gas`` limit is not estimated.

        ``estimate="once"`` estimates only the first request of each kind (same target, function
        and calldata length) and reuses its limit: less work for the node, but a call that needs
        more gas than its kind's first (a new storage slot where the first wrote an existing one)
        can run out of gas, and reverts are found when mined rather than before sending.
        """
        return self._sender.send_many(
            signer, requests, batch_size=batch_size, timeout=timeout, estimate=estimate
        )

    def broadcast(self, signed: SignedTx) -> None:
        """Send already signed bytes, re-sending the same bytes after transport errors."""
        self._sender.broadcast(signed)

    def wait_for_receipt(self, tx_hash: str, *, timeout: float | None = None) -> Receipt:
        """The receipt of ``tx_hash`` once mined; ReceiptTimeout after ``timeout`` seconds."""
        return self._sender.wait_for_receipt(tx_hash, timeout=timeout)

    def forget_nonces(self) -> None:
        """Re-read every signer's nonce from the chain before its next transaction."""
        self._sender.forget_nonces()

    # ------------------------------------------------------------------------------ logs

    def get_logs(
        self,
        from_block: int,
        to_block: int | None = None,
        *,
        addresses: Sequence[str] | None = None,
        topics: Sequence[Sequence[bytes]] | None = None,
        chunk_size: int = 2_000,
    ) -> list[Log]:
        """Raw logs in ``[from_block, to_block]`` (latest when None), fetched ``chunk_size`` blocks a time."""
        end = self.block_number() if to_block is None else to_block
        out: list[Log] = []
        start = max(from_block, 0)
        while start <= end:
            stop = min(start + chunk_size - 1, end)
            query: dict[str, Any] = {"fromBlock": hex(start), "toBlock": hex(stop)}
            if addresses:
                query["address"] = list(addresses)
            if topics:
                query["topics"] = [["0x" + t.hex() for t in alternatives] for alternatives in topics]
            out.extend(self._parse_log(item) for item in self.rpc("eth_getLogs", [query]) or ())
            start = stop + 1
        out.sort(key=lambda log: (log.block_number, log.log_index))
        return out

    def events(
        self,
        from_block: int,
        to_block: int | None = None,
        *,
        addresses: Sequence[str] | None = None,
        names: Sequence[str] | None = None,
        chunk_size: int = 2_000,
    ) -> list[Event]:
        """Decoded events of registered contracts in ``[from_block, to_block]``, in chain order.

        ``addresses`` defaults to every registered contract; ``names`` keeps only those events.
        """
        targets = list(addresses) if addresses else [a for a in self._abis]
        topics: list[list[bytes]] | None = None
        if names is not None:
            wanted: set[bytes] = set()
            for address in targets:
                abi = self._abis.get(address.lower())
                if abi is not None:
                    wanted.update(e.topic for e in abi.events.values() if e.name in names)
            unknown = set(names) - {
                e.name for a in targets if (abi := self._abis.get(a.lower())) for e in abi.events.values()
            }
            if unknown:
                raise KeyError(f"no registered contract emits {', '.join(sorted(unknown))}")
            topics = [sorted(wanted)]
        logs = self.get_logs(from_block, to_block, addresses=targets, topics=topics, chunk_size=chunk_size)
        return [e for e in (self.decode_log(log) for log in logs) if e is not None]

    # ------------------------------------------------------------------------------ dev chains

    def _require_dev(self, what: str) -> None:
        if not self.is_dev:
            raise Unsupported(
                f"{what} works only on a development chain (eth-tester or Anvil), not on {self.name}"
            )

    def dev_signer(self) -> Signer:
        """The prefunded development account of this chain (eth-tester's or Anvil's first account)."""
        self._require_dev("dev_signer")
        if self.client_version.lower().startswith("eth-tester"):
            # eth-tester's prefunded accounts have the private keys 1, 2, 3...
            return Signer((1).to_bytes(32, "big"))
        from ledger._anvil import ANVIL_DEV_KEY

        return Signer(ANVIL_DEV_KEY)

    def fund(self, addresses: str | Iterable[str], amount: int = 100 * ETHER) -> None:
        """Send ``amount`` wei from the dev account to each address (dev chains only)."""
        self._require_dev("fund")
        targets = [addresses] if isinstance(addresses, str) else list(addresses)
        requests = [
            TxRequest(to=checksum(a), data=b"", value=amount, gas=21_000, label="funding") for a in targets
        ]
        for result in self.send_many(self.dev_signer(), requests):
            result.unwrap()

    def advance_time(self, seconds: int) -> int:
        """Move the chain clock forward by ``seconds`` and mine a block; returns the new block timestamp."""
        self._require_dev("advance_time")
        self.rpc("evm_increaseTime", [int(seconds)])
        self.rpc("evm_mine", [])
        return self.timestamp()

    def mine(self) -> None:
        """Mine one empty block (dev chains)."""
        self._require_dev("mine")
        self.rpc("evm_mine", [])

    def snapshot(self) -> str:
        """Save the chain state; ``revert_to(snapshot)`` goes back to it (dev chains)."""
        self._require_dev("snapshot")
        return str(self.rpc("evm_snapshot", []))

    def revert_to(self, snapshot: str) -> None:
        """Go back to a saved state; nonces are re-read from the chain afterwards."""
        self._require_dev("revert_to")
        if self.rpc("evm_revert", [snapshot]) is False:
            raise RpcError(f"{self.name} has no snapshot {snapshot}")
        self.forget_nonces()
        with self._fee_lock:
            self._fees_at = None
