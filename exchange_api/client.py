"""A small HTTP client of the exchange that signs every request with the organisation's key."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from keys import OrgKeys, SigningKey, sign_request

__all__ = ["ApiProblem", "ExchangeClient"]


class ApiProblem(Exception):
    """Raised when the exchange answers with a problem document; `code` is its stable code."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        fields = "; ".join(f"{e.get('loc')}: {e.get('message')}" for e in problem.get("errors") or ())
        detail = f"{problem.get('detail')} ({fields})" if fields else problem.get("detail")
        super().__init__(f"{status} {problem.get('code')}: {detail}")
        self.status = status
        self.code = str(problem.get("code", f"http.{status}"))
        self.problem = problem


class ExchangeClient:
    """Signs and sends requests for one organisation.

    `org_keys` is the organisation's `keys.OrgKeys` (its current signing key is used) or a bare
    `keys.SigningKey`. `http` lets tests pass a `starlette.testclient.TestClient`.
    """

    def __init__(
        self,
        base_url: str,
        org_keys: OrgKeys | SigningKey,
        *,
        http: httpx.Client | None = None,
        timeout: float = 30.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._clock = clock
        self._key: SigningKey = org_keys.signer if isinstance(org_keys, OrgKeys) else org_keys
        self.base_url = base_url.rstrip("/")
        self._http = http if http is not None else httpx.Client(timeout=timeout)

    @property
    def key_id(self) -> str:
        """The `keyid` this client signs with (register it with the organisation)."""
        return self._key.key_id

    @property
    def did(self) -> str:
        """The did:key to give the bureau at admission."""
        return self._key.verify_key.did

    def close(self) -> None:
        """Close the underlying HTTP client."""
        self._http.close()

    def __enter__(self) -> ExchangeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ raw
    def signed_headers(self, method: str, url: str, body: bytes = b"") -> dict[str, str]:
        """The signature headers for one request (a fresh nonce each time)."""
        created = int(self._clock()) if self._clock is not None else None
        return sign_request(method, url, body, self._key, self._key.key_id, created=created)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one signed request and return the raw response."""
        url = httpx.URL(
            self.base_url + path, params={k: v for k, v in (params or {}).items() if v is not None}
        )
        body = b"" if json_body is None else json.dumps(json_body, ensure_ascii=False).encode()
        all_headers = self.signed_headers(method, str(url), body)
        if json_body is not None:
            all_headers["Content-Type"] = "application/json"
        if idempotency_key is not None:
            all_headers["Idempotency-Key"] = idempotency_key
        all_headers.update(headers or {})
        return self._http.request(method, url, content=body, headers=all_headers)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one signed request; return the JSON body, or raise `ApiProblem`."""
        response = self.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"code": f"http.{response.status_code}", "detail": response.text}
            raise ApiProblem(response.status_code, problem)
        return response.json()

    def post(self, path: str, body: Any, *, idempotency_key: str | None = None) -> Any:
        """A state-changing POST with an `Idempotency-Key` (a fresh one unless given)."""
        return self.call("POST", path, json_body=body, idempotency_key=idempotency_key or str(uuid.uuid4()))

    # ------------------------------------------------------------------ operations
    def me(self) -> Any:
        """The calling organisation."""
        return self.call("GET", "/orgs/me")

    def admit(self, org: dict[str, Any]) -> Any:
        """Admit an organisation (the bureau's client)."""
        return self.post("/orgs", org)

    def register(self, entry: dict[str, Any]) -> Any:
        """Register a catalogue entry (a department's client)."""
        return self.post("/catalog/resources", entry)

    def publish_version(self, code: str, entry: dict[str, Any]) -> Any:
        """Publish a new version of `code`."""
        return self.post(f"/catalog/resources/{code}/versions", entry)

    def withdraw_resource(self, code: str, reason: str) -> Any:
        """Withdraw `code`."""
        return self.post(f"/catalog/resources/{code}/withdraw", {"reason": reason})

    def resource(self, code: str) -> Any:
        """One catalogue entry."""
        return self.call("GET", f"/catalog/resources/{code}")

    def search(self, q: str | None = None, **filters: Any) -> Any:
        """One page of catalogue search results."""
        return self.call("GET", "/catalog/resources", params={"q": q, **filters})

    def catalog_jsonld(self) -> Any:
        """The catalogue as DCAT 3 JSON-LD."""
        return self.call("GET", "/catalog.jsonld")

    def apply(self, application: dict[str, Any]) -> Any:
        """Apply for a resource."""
        return self.post("/applications", application)

    def application(self, app_id: str) -> Any:
        """One application."""
        return self.call("GET", f"/applications/{app_id}")

    def applications(self, **filters: Any) -> Any:
        """One page of applications."""
        return self.call("GET", "/applications", params=filters)

    def review(self, app_id: str) -> Any:
        """Take an application under review (provider)."""
        return self.post(f"/applications/{app_id}/review", {})

    def approve(self, app_id: str, decision: dict[str, Any]) -> Any:
        """Approve an application (provider)."""
        return self.post(f"/applications/{app_id}/approve", decision)

    def reject(self, app_id: str, reason: str) -> Any:
        """Reject an application with a reason (provider)."""
        return self.post(f"/applications/{app_id}/reject", {"reason": reason})

    def withdraw_application(self, app_id: str, reason: str | None = None) -> Any:
        """Withdraw one's own application."""
        return self.post(f"/applications/{app_id}/withdraw", {"reason": reason})

    def grant(self, grant_id: str) -> Any:
        """One grant."""
        return self.call("GET", f"/grants/{grant_id}")

    def revoke(self, grant_id: str, reason: str) -> Any:
        """Revoke a grant (provider)."""
        return self.post(f"/grants/{grant_id}/revoke", {"reason": reason})
