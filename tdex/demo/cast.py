"""Who is in the demo: the bureau, three departments, a bank, a logistics firm and an auditor."""

from __future__ import annotations

from dataclasses import dataclass

from keys import OrgKeys
from ledger import Capability, Role, Signer


@dataclass(frozen=True)
class Member:
    """One demo organisation: its names, USCC, role, capabilities and freshly generated keys."""

    handle: str
    name: str
    uscc: str
    role: Role
    capabilities: int
    keys: OrgKeys

    @property
    def signer(self) -> Signer:
        """The chain signer for this organisation's own account key."""
        return Signer(self.keys.export_account_key())


# (handle, Chinese name, USCC, role, capabilities). The codes pass the GB 32100 checks.
CAST: tuple[tuple[str, str, str, Role, int], ...] = (
    ("bureau", "市大数据管理局", "11330100000000019E", Role.ADMIN, Capability.LOG_OPERATOR),
    (
        "market",
        "市市场监督管理局",
        "113301000000000279",
        Role.DEPARTMENT,
        Capability.CERT_ISSUER | Capability.CREDIT_RECORDER,
    ),
    ("tax", "市税务局", "113301000000000354", Role.DEPARTMENT, Capability.CREDIT_RECORDER),
    ("hrss", "市人力资源和社会保障局", "11330100000000043Y", Role.DEPARTMENT, Capability.NONE),
    ("bank", "杭城商业银行股份有限公司", "91330100MA0000015W", Role.ENTERPRISE, Capability.NONE),
    ("logistics", "钱塘物流有限公司", "91330100MA0000023P", Role.ENTERPRISE, Capability.NONE),
    ("auditor", "市审计局", "11330100000000051R", Role.AUDITOR, Capability.WITNESS),
)


def make_cast() -> dict[str, Member]:
    """Generate every organisation's keys (in memory: the demo keeps no keystore on disk)."""
    return {
        handle: Member(handle, name, uscc, role, caps, OrgKeys.generate(handle, uscc=uscc))
        for handle, name, uscc, role, caps in CAST
    }
