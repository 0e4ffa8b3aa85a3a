"""A generic client of one deployed contract: calls, transactions, prepared transactions and events by ABI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_utils import to_checksum_address

from ledger._abi import ContractAbi
from ledger._chain import Chain
from ledger._signing import Signer
from ledger._types import Event, Receipt, TxRequest

__all__ = ["ContractClient"]


class ContractClient:
    """Calls and transactions on the contract ``name`` at ``address``, encoded from its ABI.

    Creating a client registers the ABI with the chain, so receipts and event queries decode this
    contract's events from then on.
    """

    def __init__(
        self, chain: Chain, name: str, abi: Sequence[Mapping[str, Any]] | ContractAbi, address: str
    ) -> None:
        self.chain = chain
        self.abi = abi if isinstance(abi, ContractAbi) else ContractAbi(name, abi)
        self.name = name
        self.address = to_checksum_address(address)
        chain.register_abi(self.address, self.abi)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name} at {self.address})"

    def call(self, function: str, *args: Any, sender: str | None = None, block: int | str = "latest") -> Any:
        """Run a view function: None, one value, or a dict by output name; reverts raise typed errors."""
        fn = self.abi.function(function)
        output = self.chain.call(self.address, fn.encode(args), sender=sender, block=block)
        return fn.decode_output(output)

    def prepare(self, function: str, *args: Any, value: int = 0, gas: int | None = None) -> TxRequest:
        """A transaction calling ``function`` with pre-encoded calldata, for ``Chain.send``/``send_many``."""
        fn = self.abi.function(function)
        return TxRequest(
            to=self.address, data=fn.encode(args), value=value, gas=gas, label=f"{self.name}.{fn.name}"
        )

    def transact(
        self, signer: Signer, function: str, *args: Any, value: int = 0, gas: int | None = None
    ) -> Receipt:
        """Sign and send a call to ``function`` as ``signer`` and wait for it; reverts raise typed errors."""
        return self.chain.send(signer, self.prepare(function, *args, value=value, gas=gas))

    def simulate(self, signer: Signer | str, function: str, *args: Any, value: int = 0) -> Any:
        """Run a state-changing function as a call (nothing is sent) and return what it would return."""
        fn = self.abi.function(function)
        sender = signer if isinstance(signer, str) else signer.address
        request = {"from": sender, "to": self.address, "data": "0x" + fn.encode(args).hex()}
        if value:
            request["value"] = hex(value)
        output = bytes.fromhex(str(self.chain.rpc("eth_call", [request, "latest"]))[2:])
        return fn.decode_output(output)

    def events(
        self, from_block: int = 0, to_block: int | None = None, *, names: Sequence[str] | None = None
    ) -> list[Event]:
        """Decoded events of this contract in ``[from_block, to_block]``."""
        return self.chain.events(from_block, to_block, addresses=[self.address], names=names)
