"""The tdex ledger client: one API over an in-process EVM, a local Anvil node and any JSON-RPC chain.

Typical use::

    import ledger

    with ledger.connect("anvil") as chain:              # or "eth-tester", or "http://besu:8545"
        bureau = ledger.Signer(bureau_key)               # each organisation signs with its own key
        chain.fund(bureau.address)                       # dev chains only
        dep = ledger.deploy(chain, bureau, [ledger.Admin(bureau_org_id, bureau.address)],
                            manifest_path="var/ledger/manifest.json")
        outcome = dep.consortium.propose_admission(bureau, dept_org_id, dept.address,
                                                   ledger.Role.DEPARTMENT)
        events = dep.events(from_block=0)                # typed, decoded, in chain order

``ledger.ids`` turns USCCs and catalogue codes into on-chain ids. Every error is a
``ledger.errors.LedgerError`` with a stable ``code``; a contract's custom error
comes back as its own class (``ledger.errors.revert_class("AccessGrantsGrantExpired")``) carrying
the decoded arguments. See docs/ledger.md.
"""

from __future__ import annotations

from ledger import errors, ids
from ledger._anchor import AnchorOutcome, AuditAnchor, Checkpoint
from ledger._catalog import DataCatalog, Resource, ResourceVersion, ShareTerms, VersionPublished
from ledger._certificates import Certificate, CertificateRegistry, CertificateStatus, StatusListVersion
from ledger._chain import Chain, RetryPolicy
from ledger._connect import connect
from ledger._consortium import DEFAULT_VOTING_PERIOD, Consortium, Member, Proposal, ProposalOutcome
from ledger._contract import ContractClient
from ledger._credit import CreditCategory, CreditDispute, CreditEventRecord, CreditEventStatus, CreditLedger
from ledger._deploy import CONTRACT_NAMES, Admin, DeployedContract, Deployment, Manifest, attach, deploy
from ledger._enums import (
    ApplicationStatus,
    Capability,
    GrantStatus,
    MemberStatus,
    OpenType,
    ProposalKind,
    ProposalStatus,
    Role,
    ShareType,
)
from ledger._grants import AccessGrants, Application, ApplicationOutcome, Consumption, Grant
from ledger._signing import SignedTx, Signer
from ledger._types import Event, Log, Receipt, TxRequest, TxResult
from ledger.errors import ContractRevert, LedgerError

__all__ = [
    "CONTRACT_NAMES",
    "DEFAULT_VOTING_PERIOD",
    "AccessGrants",
    "Admin",
    "AnchorOutcome",
    "Application",
    "ApplicationOutcome",
    "ApplicationStatus",
    "AuditAnchor",
    "Capability",
    "Certificate",
    "CertificateRegistry",
    "CertificateStatus",
    "Chain",
    "Checkpoint",
    "Consortium",
    "Consumption",
    "ContractClient",
    "ContractRevert",
    "CreditCategory",
    "CreditDispute",
    "CreditEventRecord",
    "CreditEventStatus",
    "CreditLedger",
    "DataCatalog",
    "DeployedContract",
    "Deployment",
    "Event",
    "Grant",
    "GrantStatus",
    "LedgerError",
    "Log",
    "Manifest",
    "Member",
    "MemberStatus",
    "OpenType",
    "Proposal",
    "ProposalKind",
    "ProposalOutcome",
    "ProposalStatus",
    "Receipt",
    "Resource",
    "ResourceVersion",
    "RetryPolicy",
    "Role",
    "ShareTerms",
    "ShareType",
    "SignedTx",
    "Signer",
    "StatusListVersion",
    "TxRequest",
    "TxResult",
    "VersionPublished",
    "attach",
    "connect",
    "deploy",
    "errors",
    "ids",
]
