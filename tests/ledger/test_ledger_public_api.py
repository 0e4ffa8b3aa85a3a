"""The public surface of ``ledger`` is locked: what ``__all__`` exports, documented."""

from __future__ import annotations

import ledger

EXPECTED = {
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
}


def test_all_is_locked() -> None:
    """Adding or removing a public name is a deliberate change to this list."""
    assert set(ledger.__all__) == EXPECTED


def test_public_names_are_documented() -> None:
    """Every exported class and function has a docstring."""
    for name in ledger.__all__:
        obj = getattr(ledger, name)
        if callable(obj) or isinstance(obj, type):
            assert obj.__doc__, name


def test_package_does_not_import_the_web_stack() -> None:
    """The ledger package never imports FastAPI, SQLAlchemy or the sandbox."""
    import subprocess
    import sys

    code = "import sys, ledger; print([m for m in ('fastapi', 'sqlalchemy', 'sandbox') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
