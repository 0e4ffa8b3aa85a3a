"""Plain-web3 helpers for the contract tests: deploy on eth-tester, move time, decode custom errors."""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, cast

import eth_abi
from eth_tester.exceptions import TransactionFailed
from eth_utils import keccak
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD

from contracts import ARTIFACT_NAMES, load_artifact


class Role(IntEnum):
    NONE = 0
    ADMIN = 1
    DEPARTMENT = 2
    ENTERPRISE = 3
    AUDITOR = 4


class ShareType(IntEnum):
    UNCONDITIONAL = 0
    CONDITIONAL = 1
    NOT_SHAREABLE = 2


class OpenType(IntEnum):
    OPEN = 0
    ON_APPLICATION = 1
    NOT_OPEN = 2


GAS = 3_000_000
LOG_OPERATOR = 4
ALL_CAPABILITIES = 0xF


def b32(label: str) -> bytes:
    """Return a deterministic 32-byte value for a readable test label."""
    return keccak(text=label)


def _error_table() -> dict[bytes, tuple[str, list[str]]]:
    table: dict[bytes, tuple[str, list[str]]] = {}
    for name in ARTIFACT_NAMES:
        for item in load_artifact(name)["abi"]:
            if item["type"] == "error":
                types = [i["type"] for i in item["inputs"]]
                selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
                table[selector] = (item["name"], types)
    return table


ERRORS = _error_table()


def decode_error(data: str | bytes) -> tuple[str, tuple[Any, ...]]:
    """Return the name and decoded arguments of the custom error encoded in revert `data`."""
    raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else data
    name, types = ERRORS[raw[:4]]
    values = eth_abi.decode(types, raw[4:])
    return name, tuple(
        Web3.to_checksum_address(v) if t == "address" else v for t, v in zip(types, values, strict=True)
    )


def _revert_data(exc: BaseException) -> bytes:
    # web3's eth-tester provider raises eth-tester's TransactionFailed, whose cause carries the raw
    # revert bytes; a JSON-RPC node gives web3's ContractCustomError with hex `data` instead.
    seen: BaseException | None = exc
    while seen is not None:
        data = getattr(seen, "data", None)
        if isinstance(data, str) and data.startswith("0x"):
            return bytes.fromhex(data[2:])
        if seen.args and isinstance(seen.args[0], bytes):
            return seen.args[0]
        seen = seen.__cause__ or seen.__context__
    message = str(exc.args[0]) if exc.args else ""
    prefix = "execution reverted: "
    if message.startswith(prefix):
        value = ast.literal_eval(message[len(prefix) :])
        if isinstance(value, bytes):
            return value
    raise AssertionError(f"no revert data in {exc!r}")


def reverted(action: Callable[[], Any]) -> tuple[str, tuple[Any, ...]]:
    """Run `action`, which must revert with a custom error; return that error's name and arguments."""
    try:
        action()
    except (ContractCustomError, TransactionFailed) as exc:
        return decode_error(_revert_data(exc))
    raise AssertionError("expected a revert with a custom error, but the call succeeded")


@dataclass
class Chain:
    """The four contracts deployed on one in-process chain, with the accounts that use them."""

    w3: Web3
    consortium: Contract
    catalog: Contract
    grants: Contract
    anchor: Contract
    admins: list[str]
    others: list[str]

    def send(self, fn: Any, sender: str) -> Any:
        """Send the contract call `fn` from `sender` and return its successful receipt."""
        # A fixed gas limit skips py-evm's gas-estimation search, which dominates test time.
        receipt = self.w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender, "gas": GAS}))
        assert receipt["status"] == 1
        return receipt

    def fails(self, fn: Any, sender: str) -> tuple[str, tuple[Any, ...]]:
        """Return the custom error (name, arguments) that calling `fn` from `sender` reverts with."""
        return reverted(lambda: fn.call({"from": sender}))

    def now(self) -> int:
        """Return the timestamp of the latest block."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def travel(self, seconds: int) -> None:
        """Mine a block whose timestamp is `seconds` after the latest one's; calls then see that time."""
        # eth-tester's time_travel(t) mines the block at t - 1 and leaves t for the pending block.
        self.w3.provider.ethereum_tester.time_travel(self.now() + seconds + 1)  # type: ignore[attr-defined]

    def events(self, contract: Contract, receipt: Any, name: str) -> list[Any]:
        """Return the decoded `name` events emitted by `contract` in `receipt`."""
        return list(contract.events[name]().process_receipt(receipt, errors=DISCARD))

    def admit(self, org: str, account: str, role: Role, capabilities: int = 0) -> None:
        """Admit `org` through proposals by as many bootstrap admins as the threshold needs."""
        deadline = self.now() + 3600
        fn = self.consortium.functions.proposeAdmission(b32(org), account, role, capabilities, deadline)
        self.send(fn, self.admins[0])
        proposal_id = self.consortium.functions.proposalCount().call()
        needed = self.consortium.functions.proposal(proposal_id).call()[6]
        for admin in self.admins[1:needed]:
            self.send(self.consortium.functions.vote(proposal_id), admin)

    def register(
        self, provider: str, code: bytes, share: ShareType, open_type: OpenType = OpenType.NOT_OPEN
    ) -> Any:
        """Register `code` from `provider` with metadata and schema hashes derived from the code."""
        meta, schema = keccak(b"meta" + code), keccak(b"schema" + code)
        fn = self.catalog.functions.register(code, share, open_type, meta, schema)
        return self.send(fn, provider)

    def apply(self, applicant: str, code: bytes, expiry: int, templates: Sequence[bytes]) -> int:
        """Apply for `code` from `applicant` and return the new application id."""
        fn = self.grants.functions.applyFor(code, b32("policy"), b32("purpose"), expiry, list(templates))
        self.send(fn, applicant)
        return int(self.grants.functions.applicationCount().call())


def _deploy(w3: Web3, name: str, sender: str, *args: Any) -> Contract:
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    tx = factory.constructor(*args).transact({"from": sender, "gas": 8_000_000})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    assert receipt["status"] == 1
    return cast(Contract, w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"]))


def deploy(admin_count: int = 2, threshold: int = 2, admin_caps: Sequence[int] | None = None) -> Chain:
    """Deploy the four contracts on a fresh eth-tester chain with `admin_count` bootstrap admins."""
    w3 = Web3(EthereumTesterProvider())
    accounts = [str(a) for a in w3.eth.accounts]
    admins, others = accounts[:admin_count], accounts[admin_count:]
    caps = list(admin_caps) if admin_caps is not None else [LOG_OPERATOR] + [0] * (admin_count - 1)
    orgs = [b32(f"admin-{i}") for i in range(admin_count)]
    consortium = _deploy(w3, "Consortium", admins[0], orgs, admins, caps, threshold)
    catalog = _deploy(w3, "DataCatalog", admins[0], consortium.address)
    grants = _deploy(w3, "AccessGrants", admins[0], consortium.address, catalog.address)
    anchor = _deploy(w3, "AuditAnchor", admins[0], consortium.address)
    return Chain(w3, consortium, catalog, grants, anchor, admins, others)


@dataclass
class Cast:
    """The deployed chain and the accounts of the members admitted on it."""

    chain: Chain
    bureau: str
    admin2: str
    dept: str
    dept2: str
    bank: str
    auditor: str
    outsider: str


def admit_cast(chain: Chain) -> Cast:
    """Admit two departments, a bank and an auditor by vote on `chain`; return who is who."""
    dept, dept2, bank, auditor, outsider = chain.others[:5]
    chain.admit("dept", dept, Role.DEPARTMENT)
    chain.admit("dept2", dept2, Role.DEPARTMENT)
    chain.admit("bank", bank, Role.ENTERPRISE)
    chain.admit("auditor", auditor, Role.AUDITOR)
    return Cast(chain, chain.admins[0], chain.admins[1], dept, dept2, bank, auditor, outsider)
