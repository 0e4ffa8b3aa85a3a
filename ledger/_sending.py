"""Sending for a Chain: one nonce sequence per signer, broadcast with safe retries, pipelining, receipts.

The rules that keep a transaction from being sent twice live here: a signed transaction's bytes are
kept and re-broadcast after transport errors (never re-signed with a new nonce); a node answering
that it knows the transaction, or that its nonce is used while it holds this very transaction,
counts as success; only a transaction the node refused outright is ever signed again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from ledger._backends import JsonRpcError, TransportError
from ledger._signing import SignedTx, Signer
from ledger._types import Receipt, TxRequest, TxResult
from ledger.errors import (
    ContractRevert,
    LedgerError,
    NonceConflict,
    ReceiptTimeout,
    RpcError,
    TransactionRejected,
    UnknownRevert,
    Unreachable,
    decode_revert,
)

if TYPE_CHECKING:
    from ledger._chain import Chain

__all__ = ["Sender"]


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


class _NonceTooHigh(Exception):
    pass


#: A batch slot whose transaction must be sent again once the nonce gap before it is filled.
_LATER = "later"

_KNOWN = ("already known", "known transaction", "already imported", "already exists", "already in")
_NONCE_LOW = ("nonce too low", "nonce is too low", "oldnonce", "nonce_too_low")
_NONCE_HIGH = ("nonce too high", "nonce is too high", "nonce_too_high")
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


class Sender:
    """The sending half of a Chain (``Chain.send``, ``send_many``, ``broadcast`` delegate here)."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self._accounts: dict[str, _Account] = {}
        self._accounts_lock = threading.Lock()
        self._can_trace = True

    def _batch_fees(self, total_gas: int) -> tuple[int, int]:
        """Fees for a pipelined batch: enough headroom for the base fee to keep rising while it is mined.

        Full blocks raise the base fee by 12.5% each; a batch fills about total_gas / gas_limit
        blocks, so the usual 2x headroom is multiplied by 1.125 per block the batch may fill. Only
        the base fee and tip are paid; the headroom must merely be covered by the balance.
        """
        max_fee, tip = self.chain.fees()
        if max_fee == 0:
            return max_fee, tip
        # Capped so that a very large batch does not ask for more than the balance can cover.
        blocks = min(-(-total_gas // max(self.chain.block_gas_limit, 1)), 16)
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
            account.next_nonce = self.chain.nonce(address, "pending")
        return account.next_nonce

    def forget_nonces(self) -> None:
        """Re-read every signer's nonce from the chain before its next transaction."""
        for account in list(self._accounts.values()):
            with account.lock:
                account.next_nonce = None

    def _sign(
        self, signer: Signer, request: TxRequest, nonce: int, gas: int, fees: tuple[int, int]
    ) -> SignedTx:
        return signer.sign_type2(
            chain_id=self.chain.chain_id,
            nonce=nonce,
            max_priority_fee=fees[1],
            max_fee=fees[0],
            gas=gas,
            to=_to_bytes(request.to),
            value=request.value,
            data=request.data,
        )

    def _known(self, tx_hash: str) -> bool:
        return self.chain.rpc("eth_getTransactionByHash", [tx_hash]) is not None

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
        if any(k in message for k in _NONCE_HIGH):
            # A node without a queue for future nonces (eth-tester) refuses a transaction whose
            # predecessor it refused; it can be sent again once the gap is filled.
            raise _NonceTooHigh
        if any(k in message for k in _FEE_LOW):
            raise _FeeTooLow
        raise TransactionRejected(
            f"{self.chain.name} refused transaction {signed.hash_hex} from {signed.sender}: {exc.message}"
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
                f"{self.chain.name} refused {signed.hash_hex}: fee below the base fee"
            ) from None
        except _StaleNonce:
            raise NonceConflict(f"nonce {signed.nonce} of {signed.sender} is already used") from None
        except _NonceTooHigh:
            raise TransactionRejected(
                f"{self.chain.name} refused {signed.hash_hex}: nonce {signed.nonce} is ahead"
            ) from None

    def _broadcast(self, signed: SignedTx) -> None:
        raw_hex = "0x" + signed.raw.hex()
        retried = False
        last: TransportError | None = None
        for attempt in range(self.chain.retry.attempts):
            try:
                self.chain.backend.request("eth_sendRawTransaction", [raw_hex])
                return
            except TransportError as exc:
                last, retried = exc, True
                if attempt + 1 < self.chain.retry.attempts:
                    self.chain._sleep(self.chain.retry.delay(attempt))
            except JsonRpcError as exc:
                self._judge_send_error(exc, signed, retried)
                return
        attempts = self.chain.retry.attempts
        raise Unreachable(
            f"{self.chain.name} did not accept {signed.hash_hex} after {attempts} attempts ({last}); "
            "it may still be mined: look it up by hash before sending again"
        )

    def _sign_and_send(self, signer: Signer, request: TxRequest, gas: int) -> SignedTx:
        account = self._account(signer.address)
        with account.lock:
            fees = self.chain.fees()
            for _ in range(3):
                nonce = self._reserve_nonce(account, signer.address)
                signed = self._sign(signer, request, nonce, gas, fees)
                try:
                    self._broadcast(signed)
                except _FeeTooLow:
                    # Never accepted, so re-signing with the same nonce cannot double-send.
                    fees = self.chain.fees(refresh=True)
                    continue
                except (_StaleNonce, _NonceTooHigh):
                    # The key was used elsewhere; this transaction was refused outright,
                    # so a fresh nonce is safe.
                    account.next_nonce = None
                    continue
                account.next_nonce = nonce + 1
                return signed
            raise TransactionRejected(
                f"{self.chain.name} kept refusing {request.label or 'a transaction'} from {signer.address}"
            )

    def send(self, signer: Signer, request: TxRequest, *, timeout: float | None = None) -> Receipt:
        """Sign ``request`` locally, send it and wait for its receipt.

        Raises the typed ContractRevert when the gas estimate or the mined transaction reverts,
        TransactionRejected when the node refuses it, ReceiptTimeout when it is not mined in time.
        """
        gas = request.gas or self.chain.estimate_gas(signer.address, request)
        signed = self._sign_and_send(signer, request, gas)
        tx_hash = signed.hash_hex
        receipt = self._gather_receipts([tx_hash], timeout=timeout, signed={tx_hash: signed}).get(tx_hash)
        if receipt is None:
            raise ReceiptTimeout(f"{tx_hash} was not mined in time on {self.chain.name}", tx_hash=tx_hash)
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
        estimate: str = "each",
    ) -> list[TxResult]:
        """See ``Chain.send_many``: estimate, sign, broadcast in batches, gather receipts."""
        if estimate not in ("each", "once"):
            raise ValueError(f"estimate must be 'each' or 'once', not {estimate!r}")
        results: list[TxResult | None] = [None] * len(requests)
        if estimate == "once":
            gas = self._estimate_once(signer, requests, results, batch_size)
        else:
            gas = self._estimate_all(signer, requests, results, batch_size)
        sendable = [i for i, done in enumerate(results) if done is None]
        signed = self._sign_and_broadcast_all(signer, requests, gas, sendable, results, batch_size)
        waiting = {signed[i].hash_hex: i for i in sendable if results[i] is None}
        receipts = self._gather_receipts(
            list(waiting), timeout=timeout, signed={signed[i].hash_hex: signed[i] for i in waiting.values()}
        )
        for tx_hash, i in waiting.items():
            receipt = receipts.get(tx_hash)
            error: LedgerError | None = None
            if receipt is None:
                error = ReceiptTimeout(f"no receipt for {tx_hash} yet", tx_hash=tx_hash)
            elif not receipt.status:
                error = self._explain_failure(signer.address, requests[i], gas[i], receipt)
            results[i] = TxResult(requests[i], tx_hash=tx_hash, receipt=receipt, error=error)
        return [r for r in results if r is not None]

    def _estimate_all(
        self, signer: Signer, requests: Sequence[TxRequest], results: list[TxResult | None], batch_size: int
    ) -> list[int]:
        """Gas limits for every request (batched estimates); a reverting estimate fills its result slot."""
        gas = [r.gas or 0 for r in requests]
        to_estimate = [i for i, r in enumerate(requests) if r.gas is None]
        for chunk in _chunks(to_estimate, batch_size):
            calls = [
                ("eth_estimateGas", [self.chain._call_object(signer.address, requests[i])]) for i in chunk
            ]
            for i, answer in zip(chunk, self.chain._batch(calls), strict=True):
                if isinstance(answer, JsonRpcError):
                    results[i] = TxResult(requests[i], error=self.chain._translate(answer, "eth_estimateGas"))
                else:
                    gas[i] = self.chain._gas_limit(int(answer, 16))
        return gas

    def _estimate_once(
        self, signer: Signer, requests: Sequence[TxRequest], results: list[TxResult | None], batch_size: int
    ) -> list[int]:
        """Estimate one request per (target, function, calldata length) and give its limit to the others.

        Saves the node one estimate per transaction. The estimate is that of the first request of
        each kind, plus the usual margin; a kind whose first request reverts is estimated one by one.
        """
        kinds: dict[tuple[str | None, bytes, int], list[int]] = {}
        for i, r in enumerate(requests):
            if r.gas is None:
                kinds.setdefault((r.to, r.data[:4], len(r.data)), []).append(i)
        firsts = [members[0] for members in kinds.values()]
        probe: list[TxResult | None] = [None] * len(requests)
        sampled = self._estimate_all(signer, [requests[i] for i in firsts], probe, batch_size)
        gas = [r.gas or 0 for r in requests]
        retry: list[int] = []
        for position, members in enumerate(kinds.values()):
            if probe[position] is None:
                for i in members:
                    gas[i] = sampled[position]
            else:
                retry.extend(members)
        if retry:
            slots: list[TxResult | None] = [None] * len(retry)
            each = self._estimate_all(signer, [requests[i] for i in retry], slots, batch_size)
            for position, i in enumerate(retry):
                results[i] = slots[position]
                gas[i] = each[position]
        return gas

    def _sign_and_broadcast_all(
        self,
        signer: Signer,
        requests: Sequence[TxRequest],
        gas: Sequence[int],
        sendable: Sequence[int],
        results: list[TxResult | None],
        batch_size: int,
    ) -> dict[int, SignedTx]:
        """Sign ``sendable`` with consecutive nonces and broadcast them; refusals fill their result slots."""
        signed: dict[int, SignedTx] = {}
        account = self._account(signer.address)
        with account.lock:
            fees = self._batch_fees(sum(gas[i] for i in sendable))
            first = nonce = self._reserve_nonce(account, signer.address)
            for i in sendable:
                signed[i] = self._sign(signer, requests[i], nonce, gas[i], fees)
                nonce += 1
            refused: list[int] = []
            later: list[int] = []
            for chunk in _chunks(sendable, batch_size):
                for i, error in zip(chunk, self._broadcast_batch([signed[i] for i in chunk]), strict=True):
                    if error == _LATER:
                        later.append(i)
                    elif isinstance(error, LedgerError):
                        results[i] = TxResult(requests[i], tx_hash=signed[i].hash_hex, error=error)
                        refused.append(signed[i].nonce)
            account.next_nonce = nonce
            self._fill_gaps(signer, account, refused, first, nonce)
            # Sent again, same bytes, now that the gaps before them are filled.
            for i, error in zip(later, self._broadcast_batch([signed[i] for i in later]), strict=True):
                if error is not None:
                    refusal = error if isinstance(error, LedgerError) else TransactionRejected(str(error))
                    results[i] = TxResult(requests[i], tx_hash=signed[i].hash_hex, error=refusal)
        return signed

    def _broadcast_batch(self, batch: Sequence[SignedTx]) -> list[LedgerError | str | None]:
        """Send a batch of signed transactions; re-send the same batch after a transport error.

        Each slot is None (accepted), ``_LATER`` (refused for a gap before it) or the refusal.
        """
        calls = [("eth_sendRawTransaction", ["0x" + s.raw.hex()]) for s in batch]
        last: TransportError | None = None
        for attempt in range(self.chain.retry.attempts):
            try:
                answers = self.chain.backend.batch(calls)
            except TransportError as exc:
                last = exc
                if attempt + 1 < self.chain.retry.attempts:
                    self.chain._sleep(self.chain.retry.delay(attempt))
                continue
            out: list[LedgerError | str | None] = []
            for signed, answer in zip(batch, answers, strict=True):
                if not isinstance(answer, JsonRpcError):
                    out.append(None)
                    continue
                try:
                    self._judge_send_error(answer, signed, retried=attempt > 0)
                    out.append(None)
                except _NonceTooHigh:
                    out.append(_LATER)
                except (_FeeTooLow, _StaleNonce):
                    out.append(
                        TransactionRejected(f"{self.chain.name} refused {signed.hash_hex}: {answer.message}")
                    )
                except LedgerError as error:
                    out.append(error)
            return out
        raise Unreachable(f"{self.chain.name} did not accept a batch of {len(batch)} transactions ({last})")

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
        fees = self.chain.fees(refresh=True)
        for nonce in sorted(refused_set):
            self.broadcast(self._sign(signer, filler, nonce, 21_000, fees))

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
        deadline = now + (self.chain.receipt_timeout if timeout is None else timeout)
        last_progress = now
        delay = 0.001
        window = 500
        while pending:
            chunk = pending[:window]
            answers = self.chain._batch([("eth_getTransactionReceipt", [h]) for h in chunk])
            found = 0
            for tx_hash, answer in zip(chunk, answers, strict=True):
                if isinstance(answer, dict) and answer.get("blockNumber"):
                    got[tx_hash] = self.chain._parse_receipt(answer)
                    found += 1
            if found:
                pending = [h for h in pending if h not in got]
            now = time.monotonic()
            if not pending or now > deadline:
                break
            if found:
                last_progress, delay = now, 0.001
                continue
            if now - last_progress > 0.25:
                # At most one look per quarter second at why nothing moves.
                last_progress = now
                if self._unstick(pending, signed):
                    continue
            # Polling: a block arrives every few seconds on Besu, at once on automining dev chains.
            self.chain._sleep(delay)
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
        if self.chain._nudge_automine:
            # Anvil's automine can leave ready transactions pending when many arrive at once and
            # mines again only when another arrives (foundry-rs/foundry#10122); an empty evm_mine
            # includes them.
            self.chain.rpc("evm_mine", [])
            return True
        return False

    def wait_for_receipt(self, tx_hash: str, *, timeout: float | None = None) -> Receipt:
        """The receipt of ``tx_hash`` once mined; ReceiptTimeout after ``timeout`` seconds."""
        receipt = self._gather_receipts([tx_hash], timeout=timeout).get(tx_hash)
        if receipt is None:
            raise ReceiptTimeout(
                f"{tx_hash} was not mined within the time allowed on {self.chain.name}", tx_hash=tx_hash
            )
        return receipt

    def _explain_failure(self, sender: str, request: TxRequest, gas: int, receipt: Receipt) -> ContractRevert:
        """Why a mined transaction failed: its trace's revert data, or a replay on the state before it."""
        if self._can_trace:
            try:
                trace = self.chain.rpc("debug_traceTransaction", [receipt.tx_hash, {"tracer": "callTracer"}])
            except RpcError:
                # Not offered (eth-tester; Besu without the DEBUG API): replay instead from now on.
                self._can_trace = False
            else:
                output = trace.get("output") if isinstance(trace, dict) else None
                if isinstance(output, str) and output.startswith("0x"):
                    return decode_revert(bytes.fromhex(output[2:]), tx_hash=receipt.tx_hash)
        call = self.chain._call_object(sender, request)
        call["gas"] = hex(gas)
        try:
            self.chain.rpc("eth_call", [call, hex(max(receipt.block_number - 1, 0))])
        except ContractRevert as error:
            return error.with_tx_hash(receipt.tx_hash)
        except LedgerError:
            pass
        # The replay passed: out of gas, or state changed by an earlier transaction in the same block.
        return UnknownRevert({"gasUsed": receipt.gas_used, "gasLimit": gas}, tx_hash=receipt.tx_hash)
