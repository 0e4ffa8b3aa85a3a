"""The node's HTTP interface (Starlette): jobs, federated sessions, blobs, receipts — never a row.

Routes::

    GET  /health                               liveness and who this node is
    GET  /node                                 identity, dataset records (no rows), template digests
    GET  /templates                            template descriptors with digests
    GET  /datasets                             dataset records (no rows)
    GET|HEAD /blobs/{digest}   PUT /blobs/{digest}?kind=he-context|blob   (contexts, ciphertexts)
    POST /jobs                                 {"job": <signed job>} → receipt and sealed output
    POST /fl/sessions                          {"job": <signed training job>} → session id
    POST /fl/sessions/{id}/share-keys          RoundConfig → ShareKeys
    POST /fl/sessions/{id}/masked-input        {"delivery", "template", "params"} → MaskedInput
    POST /fl/sessions/{id}/unmask              UnmaskRequest → UnmaskResponse
    POST /fl/sessions/{id}/finish              {"outcome"} → receipt
    GET  /receipts?job_id=&after=&limit=       signed receipts, oldest first

Every error is an RFC 9457 problem (`sandbox.node._problems`). The service's calls block (chain,
compute), so they run in the thread pool.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox._messages import RoundConfig, SharesDelivery, UnmaskRequest
from sandbox.errors import InvalidParameters, SandboxError
from sandbox.node._problems import MEDIA_TYPE, problem_body
from sandbox.node._service import MAX_BLOB_BYTES, NodeService
from sandbox.node._sessions import SessionManager

__all__ = ["create_app"]

log = logging.getLogger("tdex.node")
_MAX_JSON = 64 * 1024 * 1024
Handler = Callable[[Request], Awaitable[Response]]


async def _json(request: Request) -> Any:
    body = await request.body()
    if len(body) > _MAX_JSON:
        raise InvalidParameters("body", f"at most {_MAX_JSON} bytes")
    try:
        return json.loads(body)
    except ValueError:
        raise InvalidParameters("body", "must be JSON") from None


def _field(body: Any, name: str) -> Any:
    if not isinstance(body, dict) or name not in body:
        raise InvalidParameters(name, "required")
    return body[name]


def create_app(service: NodeService) -> Starlette:
    """The Starlette application of one department node."""
    sessions = SessionManager(service)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "node": service.node_id, "did": service.identity.did})

    async def node(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(service.describe))

    async def templates(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(service.templates))

    async def datasets(request: Request) -> Response:
        records = await run_in_threadpool(service.datasets.records)
        return JSONResponse([r.to_dict() for r in records])

    async def blob(request: Request) -> Response:
        digest = request.path_params["digest"]
        if request.method == "HEAD":
            present = await run_in_threadpool(service.has_blob, digest)
            return Response(status_code=200 if present else 404)
        if request.method == "GET":
            # Blobs are what requesters uploaded: public contexts and ciphertexts, never data.
            data = await run_in_threadpool(service.blobs.get, digest)
            return Response(data, media_type="application/octet-stream")
        if int(request.headers.get("content-length") or 0) > MAX_BLOB_BYTES:
            raise InvalidParameters("blob", f"at most {MAX_BLOB_BYTES} bytes")
        data = await request.body()
        kind = request.query_params.get("kind", "blob")
        stored = await run_in_threadpool(lambda: service.put_blob(digest, data, kind=kind))
        return JSONResponse({"digest": stored}, status_code=201)

    async def jobs(request: Request) -> Response:
        body = await _json(request)
        outcome = await run_in_threadpool(service.run_job, _field(body, "job"))
        return JSONResponse(outcome.to_json())

    async def open_session(request: Request) -> Response:
        body = await _json(request)
        return JSONResponse(await run_in_threadpool(sessions.open, _field(body, "job")), status_code=201)

    async def share_keys(request: Request) -> Response:
        config = RoundConfig.from_dict(await _json(request))
        out = await run_in_threadpool(sessions.share_keys, request.path_params["sid"], config)
        return JSONResponse(out.to_dict())

    async def masked_input(request: Request) -> Response:
        body = await _json(request)
        delivery = SharesDelivery.from_dict(_field(body, "delivery"))
        template, params = _field(body, "template"), _field(body, "params")
        if not isinstance(template, str) or not isinstance(params, dict):
            raise InvalidParameters("template", "template is a digest and params an object")
        out = await run_in_threadpool(
            sessions.masked_input, request.path_params["sid"], delivery, template, params
        )
        return JSONResponse(out.to_dict())

    async def unmask(request: Request) -> Response:
        req = UnmaskRequest.from_dict(await _json(request))
        out = await run_in_threadpool(sessions.unmask, request.path_params["sid"], req)
        return JSONResponse(out.to_dict())

    async def finish(request: Request) -> Response:
        body = await _json(request)
        outcome = body.get("outcome", "completed") if isinstance(body, dict) else "completed"
        receipt = await run_in_threadpool(
            lambda: sessions.finish(request.path_params["sid"], outcome=str(outcome))
        )
        return JSONResponse({"receipt": receipt})

    async def receipts(request: Request) -> Response:
        q = request.query_params
        try:
            after, limit = int(q.get("after", "0")), min(int(q.get("limit", "100")), 1000)
        except ValueError:
            raise InvalidParameters("after", "after and limit are integers") from None
        docs = await run_in_threadpool(
            lambda: service.receipts.list(job_id=q.get("job_id"), after=after, limit=limit)
        )
        return JSONResponse({"receipts": docs})

    async def sandbox_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SandboxError)
        body = problem_body(exc, request.url.path)
        return JSONResponse(body, status_code=body["status"], media_type=MEDIA_TYPE)

    async def internal_error(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s", request.url.path, exc_info=exc)
        body = {
            "type": "urn:tdex:problem:sandbox.error",
            "title": "Internal error",
            "status": 500,
            "detail": "the node failed; nothing was released",
            "code": "sandbox.error",
            "instance": request.url.path,
        }
        return JSONResponse(body, status_code=500, media_type=MEDIA_TYPE)

    routes = [
        Route("/health", health),
        Route("/node", node),
        Route("/templates", templates),
        Route("/datasets", datasets),
        Route("/blobs/{digest}", blob, methods=["GET", "HEAD", "PUT"]),
        Route("/jobs", jobs, methods=["POST"]),
        Route("/fl/sessions", open_session, methods=["POST"]),
        Route("/fl/sessions/{sid}/share-keys", share_keys, methods=["POST"]),
        Route("/fl/sessions/{sid}/masked-input", masked_input, methods=["POST"]),
        Route("/fl/sessions/{sid}/unmask", unmask, methods=["POST"]),
        Route("/fl/sessions/{sid}/finish", finish, methods=["POST"]),
        Route("/receipts", receipts),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={SandboxError: sandbox_error, Exception: internal_error},
    )
    app.state.service = service
    app.state.sessions = sessions
    return app
