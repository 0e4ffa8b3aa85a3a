"""Chain: one connection to one chain, whatever the backend — reads, fees, nonces, sending, receipts, logs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger._abi import ContractAbi, checksum
from ledger._backends import Backend, JsonRpcError, TesterBackend, TransportError, revert_data
from ledger._signing import SignedTx, Signer
from ledger._types import Event, Log, Receipt, TxRequest, TxResult
from ledger.errors import (
    ContractRevert,
    LedgerError,
    NonceConflict,
    ReceiptTimeout,
    RpcError,
    TransactionRejected,
    UnknownRevert,
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


class _Account:
    """Nonce state of one signer: the next nonce to use, reserved and committed under ``lock``."""

    __slots__ = ("lock", "next_nonce")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_nonce: int | None = None


class _FeeTooLow(Exception):
    pass


class _StaleNonce(Exception):
    pass


_KNOWN = ("already known", "known transaction", "already imported", "already exists", "already in")
_NONCE_LOW = ("nonce too low", "nonce is too low", "oldnonce", "nonce_too_low")
_FEE_LOW = (
    "less than block base fee",
    "fee cap",
    "feecap",
    "underpriced",
    "price too low",
    "below configured",
)


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _to_bytes(address: str | None) -> bytes:
    return bytes.fromhex(address[2:]) if address else b""


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
        self._accounts: dict[str, _Account] = {}
        self._accounts_lock = threading.Lock()
        self._fee_lock = threading.Lock()
        self._fees_at: float | None = None
        self._fees_value: tuple[int, int] = (0, 0)
        self._tip: int | None = None
        self._web3: Web3 | None = None
        try:
            self.chain_id: int = int(self.rpc("eth_chainId", []), 16)
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
        return isinstance(self.backend, TesterBackend) or self.client_version.lower().startswith("anvil")

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

    def _batch_fees(self, total_gas: int) -> tuple[int, int]:
        """Fees for a pipelined batch: enough headroom for the base fee to keep rising while it is mined.

        Full blocks raise the base fee by 12.5% each; a batch fills about total_gas / gas_limit
        blocks, so the usual 2x headroom is multiplied by 1.125 per block the batch may fill. Only
        the base fee and tip are paid; the headroom must merely be covered by the balance.
        """
        max_fee, tip = self.fees()
        if max_fee == 0:
            return max_fee, tip
        blocks = -(-total_gas // max(self.block_gas_limit, 1))
        base = (max_fee - tip) // 2
        return int(2 * base * 1.125 ** (blocks + 1)) + tip, tip

    def _account(self, address: str) -> _Account:
        key = address.lower()
        account = self._accounts.get(key)
        if account is None:
            with self._accounts_lock:
                account = self._accounts.setdefault(key, _Account())
        return account

    def _reserve_nonce(self, account: _Account, address: str) -> int:
        if account.next_nonce is None:
            account.next_nonce = self.nonce(address, "pending")
        return account.next_nonce

    def forget_nonces(self) -> None:
        """Re-read every signer's nonce from the chain before its next transaction."""
        for account in list(self._accounts.values()):
            with account.lock:
                account.next_nonce = None

    # ------------------------------------------------------------------------------ sending

    def _sign(
        self, signer: Signer, request: TxRequest, nonce: int, gas: int, fees: tuple[int, int]
    ) -> SignedTx:
        return signer.sign_type2(
            chain_id=self.chain_id,
            nonce=nonce,
            max_priority_fee=fees[1],
            max_fee=fees[0],
            gas=gas,
            to=_to_bytes(request.to),
            value=request.value,
            data=request.data,
        )

    def _known(self, tx_hash: str) -> bool:
        return self.rpc("eth_getTransactionByHash", [tx_hash]) is not None

    def _judge_send_error(self, exc: JsonRpcError, signed: SignedTx, retried: bool) -> None:
        """Return if the node already has this exact transaction; raise what the refusal means otherwise."""
        message = exc.message.lower()
        if any(k in message for k in _KNOWN):
            return
        if any(k in message for k in _NONCE_LOW) or "replacement" in message:
            # The bytes were sent before (a retry after a transport error), or another transaction
            # holds the nonce: only the node can tell which.
            if self._known(signed.hash_hex):
                return
            if not retried and "replacement" not in message:
                raise _StaleNonce
            raise NonceConflict(
                f"another transaction took nonce {signed.nonce} of {signed.sender}; "
                f"{signed.hash_hex} will never be mined ({exc.message})"
            )
        if any(k in message for k in _FEE_LOW):
            raise _FeeTooLow
        raise TransactionRejected(
            f"{self.name} refused transaction {signed.hash_hex} from {signed.sender}: {exc.message}"
        )

    def broadcast(self, signed: SignedTx) -> None:
        """Send signed bytes, re-sending the same bytes after transport errors (never re-signing).

        A node answering that it already knows the transaction (or that its nonce is used, when the
        node has this very transaction) counts as success: the first attempt arrived. A refusal
        raises TransactionRejected or NonceConflict.
        """
        try:
            self._broadcast(signed)
        except _FeeTooLow:
            raise TransactionRejected(
                f"{self.name} refused {signed.hash_hex}: fee below the base fee"
            ) from None
        except _StaleNonce:
            raise NonceConflict(f"nonce {signed.nonce} of {signed.sender} is already used") from None

    def _broadcast(self, signed: SignedTx) -> None:
        raw_hex = "0x" + signed.raw.hex()
        retried = False
        last: TransportError | None = None
        for attempt in range(self.retry.attempts):
            try:
                self.backend.request("eth_sendRawTransaction", [raw_hex])
                return
            except TransportError as exc:
                last, retried = exc, True
                if attempt + 1 < self.retry.attempts:
                    self._sleep(self.retry.delay(attempt))
            except JsonRpcError as exc:
                self._judge_send_error(exc, signed, retried)
                return
        raise Unreachable(
            f"{self.name} did not accept {signed.hash_hex} after {self.retry.attempts} attempts ({last}); "
            "it may still be mined: look it up by hash before sending again"
        )

    def _sign_and_send(self, signer: Signer, request: TxRequest, gas: int) -> SignedTx:
        account = self._account(signer.address)
        with account.lock:
            fees = self.fees()
            for _ in range(3):
                nonce = self._reserve_nonce(account, signer.address)
                signed = self._sign(signer, request, nonce, gas, fees)
                try:
                    self._broadcast(signed)
                except _FeeTooLow:
                    # Never accepted, so re-signing with the same nonce cannot double-send.
                    fees = self.fees(refresh=True)
                    continue
                except _StaleNonce:
                    # The key was used elsewhere; this transaction was refused outright,
                    # so a fresh nonce is safe.
                    account.next_nonce = None
                    continue
                account.next_nonce = nonce + 1
                return signed
            raise TransactionRejected(
                f"{self.name} kept refusing {request.label or 'a transaction'} from {signer.address}"
            )

    def send(self, signer: Signer, request: TxRequest, *, timeout: float | None = None) -> Receipt:
        """Sign ``request`` locally, send it and wait for its receipt.

        Raises the typed ContractRevert when the gas estimate or the mined transaction reverts,
        TransactionRejected when the node refuses it, ReceiptTimeout when it is not mined in time.
        """
        gas = request.gas or self.estimate_gas(signer.address, request)
        signed = self._sign_and_send(signer, request, gas)
        tx_hash = signed.hash_hex
        receipt = self._gather_receipts([tx_hash], timeout=timeout, signed={tx_hash: signed}).get(tx_hash)
        if receipt is None:
            raise ReceiptTimeout(f"{tx_hash} was not mined in time on {self.name}", tx_hash=tx_hash)
        if not receipt.status:
            raise self._explain_failure(signer.address, request, gas, receipt)
        return receipt

    def send_many(
        self,
        signer: Signer,
        requests: Sequence[TxRequest],
        *,
        batch_size: int = 100,
        timeout: float | None = None,
    ) -> list[TxResult]:
        """Pipelined sending: estimate, sign and broadcast in JSON-RPC batches, then gather the receipts.

        Returns one TxResult per request, in order. A request whose estimate reverts is not sent
        (its result carries the typed error); one the node refuses has its nonce filled by a
        zero-value self-transfer so the later transactions still get mined.
        """
        n = len(requests)
        results: list[TxResult | None] = [None] * n
        gas: list[int | None] = [r.gas for r in requests]
        to_estimate = [i for i in range(n) if gas[i] is None]
        for chunk in _chunks(to_estimate, batch_size):
            answers = self._batch(
                [("eth_estimateGas", [self._call_object(signer.address, requests[i])]) for i in chunk]
            )
            for i, answer in zip(chunk, answers, strict=True):
                if isinstance(answer, JsonRpcError):
                    results[i] = TxResult(requests[i], error=self._translate(answer, "eth_estimateGas"))
                else:
                    gas[i] = self._gas_limit(int(answer, 16))
        sendable = [i for i in range(n) if results[i] is None]
        signed: dict[int, SignedTx] = {}
        account = self._account(signer.address)
        with account.lock:
            fees = self._batch_fees(sum(gas[i] or 0 for i in sendable))
            first = nonce = self._reserve_nonce(account, signer.address)
            for i in sendable:
                signed[i] = self._sign(signer, requests[i], nonce, gas[i] or 0, fees)
                nonce += 1
            refused: list[int] = []
            for chunk in _chunks(sendable, batch_size):
                for i, error in zip(chunk, self._broadcast_batch([signed[i] for i in chunk]), strict=True):
                    if error is not None:
                        results[i] = TxResult(requests[i], tx_hash=signed[i].hash_hex, error=error)
                        refused.append(signed[i].nonce)
            account.next_nonce = nonce
            self._fill_gaps(signer, account, refused, first, nonce)
        waiting = {signed[i].hash_hex: i for i in sendable if results[i] is None}
        receipts = self._gather_receipts(
            list(waiting), timeout=timeout, signed={signed[i].hash_hex: signed[i] for i in waiting.values()}
        )
        failed: list[int] = []
        for tx_hash, i in waiting.items():
            receipt = receipts.get(tx_hash)
            if receipt is None:
                error = ReceiptTimeout(f"no receipt for {tx_hash} yet", tx_hash=tx_hash)
                results[i] = TxResult(requests[i], tx_hash=tx_hash, error=error)
            elif not receipt.status:
                failed.append(i)
                results[i] = TxResult(requests[i], tx_hash=tx_hash, receipt=receipt)
            else:
                results[i] = TxResult(requests[i], tx_hash=tx_hash, receipt=receipt)
        for i in failed:
            done = results[i]
            assert done is not None and done.receipt is not None
            error = self._explain_failure(signer.address, requests[i], gas[i] or 0, done.receipt)
            results[i] = TxResult(requests[i], tx_hash=done.tx_hash, receipt=done.receipt, error=error)
        return [r for r in results if r is not None]

    def _broadcast_batch(self, batch: Sequence[SignedTx]) -> list[LedgerError | None]:
        """Send a batch of signed transactions; re-send the same batch after a transport error."""
        calls = [("eth_sendRawTransaction", ["0x" + s.raw.hex()]) for s in batch]
        last: TransportError | None = None
        for attempt in range(self.retry.attempts):
            try:
                answers = self.backend.batch(calls)
            except TransportError as exc:
                last = exc
                if attempt + 1 < self.retry.attempts:
                    self._sleep(self.retry.delay(attempt))
                continue
            out: list[LedgerError | None] = []
            for signed, answer in zip(batch, answers, strict=True):
                if not isinstance(answer, JsonRpcError):
                    out.append(None)
                    continue
                try:
                    self._judge_send_error(answer, signed, retried=attempt > 0)
                    out.append(None)
                except (_FeeTooLow, _StaleNonce):
                    out.append(
                        TransactionRejected(f"{self.name} refused {signed.hash_hex}: {answer.message}")
                    )
                except LedgerError as error:
                    out.append(error)
            return out
        raise Unreachable(f"{self.name} did not accept a batch of {len(batch)} transactions ({last})")

    def _fill_gaps(self, signer: Signer, account: _Account, refused: list[int], first: int, end: int) -> None:
        """Give refused nonces a zero-value self-transfer so later nonces are not stuck behind a gap."""
        if not refused:
            return
        refused_set = set(refused)
        # Refused nonces at the end leave no gap: they are simply reused.
        while end - 1 in refused_set and end > first:
            end -= 1
            refused_set.discard(end)
        account.next_nonce = end
        filler = TxRequest(to=signer.address, data=b"", label="nonce gap filler")
        fees = self.fees(refresh=True)
        for nonce in sorted(refused_set):
            self.broadcast(self._sign(signer, filler, nonce, 21_000, fees))

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

    def _gather_receipts(
        self, hashes: Sequence[str], *, timeout: float | None, signed: Mapping[str, SignedTx] | None = None
    ) -> dict[str, Receipt]:
        """Receipts of ``hashes`` (in sending order), polled in batches; missing ones are left out.

        One sender's transactions are mined in nonce order, so only the oldest ``window`` pending
        hashes are asked for each round. When nothing is mined for a while, the oldest pending
        transaction is looked up: if the node dropped it, the same signed bytes in ``signed`` are
        broadcast again (never re-signed); if it is still waiting on Anvil, a block is mined.
        """
        got: dict[str, Receipt] = {}
        pending = list(hashes)
        now = time.monotonic()
        deadline = now + (self.receipt_timeout if timeout is None else timeout)
        last_progress = now
        delay = 0.001
        window = 500
        while pending:
            chunk = pending[:window]
            answers = self._batch([("eth_getTransactionReceipt", [h]) for h in chunk])
            found = 0
            for tx_hash, answer in zip(chunk, answers, strict=True):
                if isinstance(answer, dict) and answer.get("blockNumber"):
                    got[tx_hash] = self._parse_receipt(answer)
                    found += 1
            if found:
                pending = [h for h in pending if h not in got]
            now = time.monotonic()
            if not pending or now > deadline:
                break
            if found:
                last_progress, delay = now, 0.001
                continue
            if now - last_progress > 0.25 and self._unstick(pending, signed):
                last_progress = now
                continue
            # Polling: a block arrives every few seconds on Besu, at once on automining dev chains.
            self._sleep(delay)
            delay = min(delay * 2, 0.5)
        return got

    def _unstick(self, pending: Sequence[str], signed: Mapping[str, SignedTx] | None) -> bool:
        """Help transactions that stopped moving; True when something was done."""
        oldest = pending[0]
        if signed is not None and oldest in signed and not self._known(oldest):
            # Dropped from the pool (Anvil drops transactions its automine raced over): the same
            # bytes again, so at most one of the copies can ever be mined.
            for start in range(0, len(pending), 100):
                batch = [signed[h] for h in pending[start : start + 100] if h in signed]
                self._broadcast_batch(batch)
            return True
        if self._nudge_automine:
            # Anvil's automine can leave ready transactions pending when many arrive at once and
            # mines again only when another arrives (foundry-rs/foundry#10122); an empty evm_mine
            # includes them.
            self.rpc("evm_mine", [])
            return True
        return False

    def wait_for_receipt(self, tx_hash: str, *, timeout: float | None = None) -> Receipt:
        """The receipt of ``tx_hash`` once mined; ReceiptTimeout after ``timeout`` seconds."""
        receipt = self._gather_receipts([tx_hash], timeout=timeout).get(tx_hash)
        if receipt is None:
            raise ReceiptTimeout(
                f"{tx_hash} was not mined within the time allowed on {self.name}", tx_hash=tx_hash
            )
        return receipt

    def _explain_failure(self, sender: str, request: TxRequest, gas: int, receipt: Receipt) -> ContractRevert:
        """Why a mined transaction failed: replay it on the state before its block and decode the revert."""
        call = self._call_object(sender, request)
        call["gas"] = hex(gas)
        try:
            self.rpc("eth_call", [call, hex(max(receipt.block_number - 1, 0))])
        except ContractRevert as error:
            return error.with_tx_hash(receipt.tx_hash)
        except LedgerError:
            pass
        # The replay passed: out of gas, or state changed by an earlier transaction in the same block.
        return UnknownRevert({"gasUsed": receipt.gas_used, "gasLimit": gas}, tx_hash=receipt.tx_hash)

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
        if isinstance(self.backend, TesterBackend):
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
