"""Talking to department nodes over HTTP: a client, a federated `NodeHandle`, and a coordinator that
treats a node that stops answering as a dropout (recovered by secure aggregation) rather than a failure.

A problem body from a node comes back as the same `SandboxError` class the node raised; a node that
cannot be reached raises `NodeUnavailable`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
import httpx
import numpy as np

from keys import OrgKeys
from sandbox._canonical import digest_of
from sandbox._federated import FederatedCoordinator, FederatedModel, TrainingPlan
from sandbox._messages import (
    MaskedInput,
    PlainInput,
    RoundConfig,
    ShareKeys,
    SharesDelivery,
    UnmaskRequest,
    UnmaskResponse,
)
from sandbox._runner import Ciphertexts
from sandbox._secagg import SecAggCoordinator
from sandbox.errors import InvalidParameters, ProtocolViolation
from sandbox.node._problems import error_from_problem
from sandbox.node._receipts import verify_receipt
from sandbox.node.errors import NodeUnavailable, ReceiptInvalid

__all__ = [
    "ASGITransport",
    "HttpFederatedCoordinator",
    "HttpNodeHandle",
    "JobResult",
    "NodeClient",
    "check_receipts",
    "open_output",
]

F64 = np.ndarray


@dataclass(frozen=True)
class JobResult:
    """A node's answer to a job: the signed receipt and the sealed output or the ciphertexts."""

    receipt: dict[str, Any]
    sealed_output: bytes | None
    ciphertexts: Ciphertexts | None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> JobResult:
        """Parse the node's response body."""
        sealed = body.get("sealed_output")
        ct = body.get("ciphertexts")
        return cls(
            dict(body["receipt"]),
            base64.b64decode(sealed) if sealed else None,
            Ciphertexts(
                tuple(base64.b64decode(b) for b in ct["blobs"]), int(ct["values"]), str(ct["context_digest"])
            )
            if ct
            else None,
        )


def open_output(result: JobResult, requester: OrgKeys, job_id: str) -> dict[str, Any]:
    """The requester opens a sealed aggregate and checks it against the receipt's output digest."""
    if result.sealed_output is None:
        raise InvalidParameters("sealed_output", "this job released ciphertexts, not a sealed output")
    opened = json.loads(requester.open_sealed(result.sealed_output, aad=job_id.encode()))
    if digest_of(opened["output"]) != result.receipt["payload"]["output_digest"]:
        raise ReceiptInvalid("the opened output does not hash to the receipt's output digest")
    out: dict[str, Any] = opened
    return out


class ASGITransport(httpx.BaseTransport):
    """Serves a `NodeClient`'s requests from a node's app in this process, without a socket.

    For a demo on the in-process chain (which other processes cannot reach) and for tests; each
    request runs the app on a fresh event loop, so calls stay synchronous and in order.
    """

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Run one request through the app."""
        content = request.read()

        async def call() -> tuple[int, httpx.Headers, bytes]:
            inner = httpx.Request(request.method, request.url, headers=request.headers, content=content)
            response = await self._inner.handle_async_request(inner)
            return response.status_code, response.headers, await response.aread()

        status, headers, body = anyio.run(call)
        return httpx.Response(status, headers=headers, content=body, request=request)


class NodeClient:
    """A synchronous HTTP client of one node."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str | None = None,
        timeout: float = 300.0,
        http: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name or self.base_url
        # `http` lets tests put an in-process app (Starlette's TestClient) behind the same client.
        self._http = http or httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(timeout, connect=5.0))

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; typed errors for problem bodies, `NodeUnavailable` when nobody answers."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise NodeUnavailable(self.name, f"{type(exc).__name__}: {exc}") from None
        if response.status_code >= 400 and method != "HEAD":
            try:
                body = response.json()
            except ValueError:
                body = response.text
            raise error_from_problem(body, response.status_code)
        return response

    def post(self, path: str, body: Any) -> Any:
        """POST a JSON body; the decoded JSON answer."""
        return self.request("POST", path, json=body).json()

    def health(self) -> dict[str, Any]:
        """``GET /health``."""
        out: dict[str, Any] = self.request("GET", "/health").json()
        return out

    def describe(self) -> dict[str, Any]:
        """``GET /node``: identity, dataset records, template digests."""
        out: dict[str, Any] = self.request("GET", "/node").json()
        return out

    def put_blob(self, data: bytes, *, kind: str = "blob") -> str:
        """Upload a content-addressed blob once (skipped when the node already holds it)."""
        from sandbox._blobstore import blob_digest

        digest = blob_digest(data)
        if self.request("HEAD", f"/blobs/{digest}").status_code == 200:
            return digest
        self.request("PUT", f"/blobs/{digest}", params={"kind": kind}, content=data)
        return digest

    def run_job(self, signed_job: Mapping[str, Any]) -> JobResult:
        """``POST /jobs``."""
        return JobResult.from_json(self.post("/jobs", {"job": signed_job}))

    def open_session(self, signed_job: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /fl/sessions``: admit a training job; returns the session id."""
        out: dict[str, Any] = self.post("/fl/sessions", {"job": signed_job})
        return out

    def receipts(
        self, *, job_id: str | None = None, after: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]:
        """``GET /receipts``."""
        params: dict[str, Any] = {"after": after, "limit": limit}
        if job_id is not None:
            params["job_id"] = job_id
        out: list[dict[str, Any]] = self.request("GET", "/receipts", params=params).json()["receipts"]
        return out


class HttpNodeHandle:
    """`sandbox.NodeHandle` over HTTP: one node's side of one federated session."""

    def __init__(self, node_id: str, client: NodeClient, session_id: str) -> None:
        self.node_id = node_id
        self.client = client
        self.session_id = session_id

    def _path(self, action: str) -> str:
        return f"/fl/sessions/{self.session_id}/{action}"

    def share_keys(self, config: RoundConfig) -> ShareKeys:
        """Start a secure-aggregation round."""
        return ShareKeys.from_dict(self.client.post(self._path("share-keys"), config.to_dict()))

    def masked_input(self, delivery: SharesDelivery, template: str, params: Mapping[str, Any]) -> MaskedInput:
        """Run the round's template on the node and get its vector masked."""
        body = {"delivery": delivery.to_dict(), "template": template, "params": dict(params)}
        return MaskedInput.from_dict(self.client.post(self._path("masked-input"), body))

    def plain_input(self, round_id: str, template: str, params: Mapping[str, Any]) -> PlainInput:
        """Nodes over HTTP take part in secure aggregation only."""
        raise ProtocolViolation("department nodes only take part in secure aggregation")

    def unmask(self, request: UnmaskRequest) -> UnmaskResponse:
        """Get the node's shares for unmasking."""
        return UnmaskResponse.from_dict(self.client.post(self._path("unmask"), request.to_dict()))

    def finish(self, outcome: str = "completed") -> dict[str, Any]:
        """Close the session on the node; returns its signed receipt."""
        out: dict[str, Any] = self.client.post(self._path("finish"), {"outcome": outcome})["receipt"]
        return out


DropoutHook = Callable[[int, str, str], bool]


class HttpFederatedCoordinator(FederatedCoordinator):
    """`FederatedCoordinator` over node processes: a node that stops answering is a dropout.

    A node whose call raises `NodeUnavailable` is left out of that phase (secure aggregation then
    recovers its masks from the survivors' shares) and of every later round; any other error (a
    grant revoked on chain, a message refused) stops the training and is raised.
    """

    def __init__(
        self,
        nodes: Sequence[HttpNodeHandle],
        *,
        moments_template: str,
        update_template: str,
        dropout: DropoutHook | None = None,
    ) -> None:
        super().__init__(nodes, moments_template=moments_template, update_template=update_template)
        self.handles = {n.node_id: n for n in nodes}
        self._hook: DropoutHook = dropout or (lambda _r, _p, _n: False)
        self.dropped: set[str] = set()

    def _reach(self, round_index: int, phase: str, node_id: str, call: Callable[[], Any]) -> Any:
        if node_id in self.dropped or self._hook(round_index, phase, node_id):
            return None
        try:
            return call()
        except NodeUnavailable:
            self.dropped.add(node_id)
            return None

    def aggregate(
        self,
        round_index: int,
        template: str,
        params: Mapping[str, Any],
        dimension: int,
        plan: TrainingPlan,
        frac_bits: int = 24,
    ) -> tuple[F64, tuple[str, ...]]:
        """One secure-aggregation round over the nodes still answering."""
        if not plan.secure:
            raise ProtocolViolation("department nodes only take part in secure aggregation")
        ids = tuple(i for i in self.handles if i not in self.dropped)
        threshold = plan.threshold or len(self.handles) // 2 + 1
        config = RoundConfig(f"{self.training_id}/{round_index}", ids, threshold, dimension, frac_bits)
        coordinator = SecAggCoordinator(config)
        r = round_index
        shares: list[ShareKeys] = []
        for i in ids:
            s = self._reach(r, "share_keys", i, partial(self.handles[i].share_keys, config))
            if s is not None:
                shares.append(s)
        deliveries = coordinator.collect_shares(shares)
        masked: list[MaskedInput] = []
        for i, delivery in deliveries.items():
            call = partial(self.handles[i].masked_input, delivery, template, params)
            m = self._reach(r, "masked_input", i, call)
            if m is not None:
                masked.append(m)
        request = coordinator.collect_masked(masked)
        answers: list[UnmaskResponse] = []
        for i in request.survivors:
            a = self._reach(r, "unmask", i, partial(self.handles[i].unmask, request))
            if a is not None:
                answers.append(a)
        return coordinator.finish(answers), request.survivors

    def finish_sessions(self, outcome: str = "completed") -> dict[str, dict[str, Any]]:
        """Close the session on every node still answering; their signed receipts by node."""
        receipts: dict[str, dict[str, Any]] = {}
        for node_id, handle in self.handles.items():
            if node_id in self.dropped:
                continue
            try:
                receipts[node_id] = handle.finish(outcome)
            except NodeUnavailable:
                self.dropped.add(node_id)
        return receipts

    def train_and_finish(self, plan: TrainingPlan) -> tuple[FederatedModel, dict[str, dict[str, Any]]]:
        """Train; close every session as completed, or as failed when training raised."""
        try:
            model = self.train(plan)
        except BaseException:
            self.finish_sessions("failed")
            raise
        return model, self.finish_sessions("completed")


def check_receipts(receipts: Mapping[str, Mapping[str, Any]], identities: Mapping[str, Any]) -> None:
    """Verify each node's receipt against that node's identity (raises `ReceiptInvalid`)."""
    for node_id, receipt in receipts.items():
        verify_receipt(receipt, identities[node_id])
