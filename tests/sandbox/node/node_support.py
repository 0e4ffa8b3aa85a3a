"""Helpers of the node suite (a uniquely named module: test folders have no packages, one conftest each).

A `World` is a chain with the contracts deployed and the demo's cast admitted; `World.resource`
registers a department's synthetic dataset in the catalogue (hashes on chain) and `World.grant`
has a requester apply for it and the department approve with real template digests.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

import ledger
import sandbox as sb
from ledger.ids import org_id, resource_id
from sandbox import node as sn
from tdex.demo.cast import Member, make_cast
from tdex.node_chain import LedgerGrantChecker, digest_bytes

DAY = 86_400
REGISTRY = sb.default_registry()
_jobs = itertools.count(1)


def digest(name: str) -> str:
    """The registered digest of template `name`."""
    return REGISTRY.digest_of(name)


def deadline(hours: float = 1.0) -> dt.datetime:
    """A job deadline `hours` from now."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)


def job_id(prefix: str = "job") -> str:
    """A fresh job id."""
    return f"{prefix}-{next(_jobs)}-{np.random.default_rng().integers(1 << 30)}"


@dataclass
class Resource:
    """A registered catalogue resource with its dataset file, entry and table."""

    code: str
    provider: str
    table: sb.Table
    entry: dict[str, Any]
    binding: sn.CatalogueBinding
    policy: sn.DatasetPolicy
    source: Path


@dataclass
class World:
    """A chain, the deployment and the cast; resources and grants made so far."""

    chain: ledger.Chain
    deployment: ledger.Deployment
    cast: dict[str, Member]
    root: Path
    resources: dict[str, Resource] = field(default_factory=dict)

    def directory(self, handles: Sequence[str] | None = None) -> sn.Directory:
        """Member directory of the cast (or of some of its members)."""
        chosen = handles or list(self.cast)
        return sn.Directory([self.cast[h].keys.identity for h in chosen])

    def resource(
        self, provider: str, code: str, table: sb.Table, *, k: int = 10, fmt: str = "csv"
    ) -> Resource:
        """Register `table` as catalogue resource `code` of `provider` and write its source file."""
        dept = self.cast[provider]
        entry = sn.entry_for_schema(
            code, f"{code} (test)", table.schema, {"name": provider, "uscc": dept.uscc}
        )
        binding = sn.entry_binding(entry)
        self.deployment.catalog.register(
            dept.signer,
            resource_id(code),
            ledger.ShareType.CONDITIONAL,
            ledger.OpenType.ON_APPLICATION,
            bytes.fromhex(binding.metadata_hash[2:]),
            bytes.fromhex(binding.schema_hash[2:]),
        )
        source = self.root / f"{code.replace('/', '_')}.{fmt}"
        sn.write_source(table, source)
        res = Resource(code, provider, table, entry, binding, sn.policy_for_schema(table.schema, k), source)
        self.resources[code] = res
        return res

    def ingest(self, code: str, data_dir: Path) -> sn.DatasetRecord:
        """Ingest a registered resource into a node's data folder (encrypted for its provider)."""
        res = self.resources[code]
        holder = self.cast[res.provider].keys.encryption.public_key
        return sn.ingest(sn.DatasetStore(data_dir), res.source, res.entry, res.policy, holder)

    def grant(
        self,
        requester: str,
        code: str,
        templates: Sequence[str],
        *,
        uses: int = 10,
        epsilon: float = 2.0,
        days: int = 10,
    ) -> int:
        """`requester` applies for `code` with `templates`; the provider approves; the grant id."""
        res = self.resources[code]
        grants = self.deployment.grants
        now = self.chain.timestamp()
        outcome = grants.apply(
            self.cast[requester].signer,
            resource_id(code),
            b"\x01" * 32,
            b"\x02" * 32,
            now + 30 * DAY,
            [digest_bytes(digest(t)) for t in templates],
        )
        grants.approve(
            self.cast[res.provider].signer,
            outcome.application_id,
            now + days * DAY,
            uses,
            sn.micro_epsilon(epsilon),
            b"\x03" * 32,
        )
        return outcome.application_id

    def service(self, provider: str, data_dir: Path, **kwargs: Any) -> sn.NodeService:
        """A node service for `provider` over this chain, trusting the whole cast."""
        dept = self.cast[provider]
        checker = LedgerGrantChecker(self.deployment, dept.signer)
        return sn.NodeService(dept.keys, data_dir, checker, self.directory(), **kwargs)

    def org_ref(self, handle: str) -> bytes:
        """The chain's id of a cast member."""
        return org_id(self.cast[handle].uscc)


def build_world(target: str, root: Path) -> World:
    """Deploy on `target` ("eth-tester" or an RPC URL) and admit the demo's cast."""
    chain = ledger.connect(target)
    cast = make_cast()
    chain.fund([m.keys.account_address for m in cast.values()])
    bureau = cast["bureau"]
    admin = ledger.Admin(org_id(bureau.uscc), bureau.keys.account_address, int(bureau.capabilities))
    deployment = ledger.deploy(chain, bureau.signer, [admin])
    for member in cast.values():
        if member is not bureau:
            deployment.consortium.propose_admission(
                bureau.signer,
                org_id(member.uscc),
                member.keys.account_address,
                member.role,
                member.capabilities,
            )
    return World(chain, deployment, cast, root)


def in_process_client(service: sn.NodeService, name: str) -> sn.NodeClient:
    """A `NodeClient` over the node's Starlette app in this process (no socket)."""
    url = f"http://{name}.node"
    http = httpx.Client(base_url=url, transport=sn.ASGITransport(sn.create_app(service)))
    return sn.NodeClient(url, name=name, http=http)


def sign_job(
    world: World, requester: str, node: str, grant_id: int, code: str, template: str, **kw: Any
) -> dict[str, Any]:
    """A job signed by `requester` for `node`."""
    payload = sn.job_payload(
        job_id=kw.pop("job_id", None) or job_id(),
        node=node,
        grant_id=grant_id,
        resource_code=code,
        template=digest(template),
        params=kw.pop("params", {}),
        not_after=kw.pop("not_after", None) or deadline(),
        **kw,
    )
    return world.cast[requester].keys.sign_document(payload)


def register_table(n: int = 600, seed: int = 11) -> sb.Table:
    """A small enterprise register (categories for districts and industries, bounded numbers)."""
    return sb.enterprises(n, seed)


def split_credit(n: int, parts: int, seed: int) -> tuple[list[sb.Table], sb.Table]:
    """`parts` disjoint credit tables of the same items (horizontal partition) and a held-out test table."""
    full = sb.credit_table(n, seed)
    test_rows = np.arange(int(n * 0.8), n)
    pieces = [np.arange(k, int(n * 0.8), parts) for k in range(parts)]
    return [take(full, idx) for idx in pieces], take(full, test_rows)


def take(table: sb.Table, rows: np.ndarray) -> sb.Table:
    """The rows `rows` of `table` as a new table (test data preparation only)."""
    cols: dict[str, Any] = {}
    for item in table.schema.items:
        col = table.column(item.name)[rows]
        cols[item.name] = [item.categories[int(c)] for c in col] if item.type == "category" else col.tolist()
    return sb.Table.from_columns(table.schema, cols)
