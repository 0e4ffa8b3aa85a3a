"""Record an organisation's account-key rotation on chain (Consortium.rotateAccount, signed by the old key).

`keys` rotates and persists the keys first (the keystore is the commit point: a new key is never
lost); this module then tells the Consortium. If the chain step fails, the old key stays in the
keystore and `tdex keys record-rotation` sends it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ledger
from keys import OrgKeys


@dataclass(frozen=True)
class RecordedRotation:
    """The Consortium's view after a rotation: the organisation now acts through `new_account`."""

    old_account: str
    new_account: str
    tx_hash: str
    block_number: int


def record_account_rotation(
    org_keys: OrgKeys, old_address: str, rpc_url: str, manifest: Path
) -> RecordedRotation:
    """Send `rotateAccount(current account)` signed with the retired key `old_address`, and check it."""
    new_address = org_keys.account_address
    with ledger.connect(rpc_url) as chain:
        deployment = ledger.attach(chain, manifest)
        old = ledger.Signer(org_keys.export_account_key(old_address))
        receipt = deployment.consortium.rotate_account(old, new_address)
        member = deployment.consortium.member_of(new_address)
        if not member.is_active or member.account.lower() != new_address.lower():
            raise ledger.LedgerError(
                f"the Consortium does not show {new_address} as the organisation's account"
            )
        return RecordedRotation(old_address, new_address, receipt.tx_hash, receipt.block_number)
