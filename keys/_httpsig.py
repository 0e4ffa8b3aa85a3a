"""HTTP request signatures in the spirit of RFC 9421, with RFC 9530 `Content-Digest` and a replay window.

A signed request carries::

    Content-Digest: sha-256=:<base64 SHA-256(body)>:
    Signature-Input: sig1=("@method" "@target-uri" "content-digest")
                     ;created=…;keyid="…";nonce="…";alg="ed25519"   (one line on the wire)
    Signature: sig1=:<base64 signature>:

The signature base is built exactly as RFC 9421 section 2.5 says (tested against its B.2.6
Ed25519 example). Verification checks, in order: headers present, digest, time window, key,
signature, and only then the nonce, so an unauthenticated request cannot burn someone's nonce.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from keys._encoding import b64d, b64e
from keys._signing import SigningKey, VerifyKey
from keys.errors import (
    ContentDigestMismatch,
    RequestReplayed,
    RequestSignatureExpired,
    RequestSignatureInvalid,
    RequestSignatureMissing,
    SignatureInvalid,
    UnknownKeyId,
)

__all__ = [
    "REQUIRED_COMPONENTS",
    "InMemoryReplayCache",
    "ReplayCache",
    "VerifiedRequest",
    "content_digest",
    "sign_request",
    "signature_base",
    "verify_request",
]

REQUIRED_COMPONENTS = ("@method", "@target-uri", "content-digest")
_LABEL = "sig1"
_ALG_NAMES = {"Ed25519": "ed25519", "SM2": "sm2-sm3"}

Params = Sequence[tuple[str, int | str]]


class ReplayCache(Protocol):
    """Remembers (key id, nonce) pairs until they leave the acceptance window."""

    def check_and_store(self, key: str, expires_at: float, now: float) -> bool:
        """Store `key` until `expires_at` and return True, or return False if it is already stored."""
        ...


class InMemoryReplayCache:
    """A thread-safe in-process `ReplayCache`; use a shared store when several processes verify."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._expiry: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def check_and_store(self, key: str, expires_at: float, now: float) -> bool:
        with self._lock:
            while self._expiry and self._expiry[0][0] < now:
                _, old = heapq.heappop(self._expiry)
                if self._seen.get(old, now + 1) < now:
                    del self._seen[old]
            if key in self._seen:
                return False
            self._seen[key] = expires_at
            heapq.heappush(self._expiry, (expires_at, key))
            return True

    def __len__(self) -> int:
        return len(self._seen)


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    """What a verified request signature established: which key signed, when, with which nonce."""

    key_id: str
    key: VerifyKey
    created: int
    nonce: str
    label: str


def content_digest(body: bytes) -> str:
    """The RFC 9530 `Content-Digest` value of `body`, `sha-256=:<base64>:`."""
    return f"sha-256=:{b64e(hashlib.sha256(body).digest())}:"


def _sf_string(value: str) -> str:
    if not (value.isascii() and value.isprintable()):  # printable ASCII: 0x20-0x7E
        raise ValueError("structured-field strings must be printable ASCII")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _serialize_params(components: Sequence[str], params: Params) -> str:
    inner = "(" + " ".join(_sf_string(c) for c in components) + ")"
    rendered = "".join(
        f";{name}={value}" if isinstance(value, int) else f";{name}={_sf_string(value)}"
        for name, value in params
    )
    return inner + rendered


def _component_value(name: str, method: str, target_uri: str, headers: Mapping[str, str]) -> str:
    if name == "@method":
        return method.upper()
    if name == "@target-uri":
        return target_uri
    if not name.startswith("@"):
        value = None
        for key, given in headers.items():  # the last of case-variants wins, as in a lowered dict
            if key.lower() == name:
                value = given
        if value is None:
            raise RequestSignatureMissing(f"covered header {name!r} is absent from the request")
        return " ".join(value.strip().split("\n")).strip()
    parts = urlsplit(target_uri)
    if name == "@authority":
        host = (parts.hostname or "").lower()
        default = {"http": 80, "https": 443}.get(parts.scheme.lower())
        return host if parts.port in (None, default) else f"{host}:{parts.port}"
    if name == "@scheme":
        return parts.scheme.lower()
    if name == "@path":
        return parts.path or "/"
    if name == "@query":
        return "?" + parts.query
    if name == "@request-target":
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    raise RequestSignatureInvalid(f"unsupported derived component {name!r}")


def signature_base(
    components: Sequence[str], params: Params, *, method: str, target_uri: str, headers: Mapping[str, str]
) -> bytes:
    """The RFC 9421 signature base for the covered `components` and signature `params`."""
    lines = [f'"{c}": {_component_value(c, method, target_uri, headers)}' for c in components]
    lines.append(f'"@signature-params": {_serialize_params(components, params)}')
    return "\n".join(lines).encode("utf-8")


def sign_request(
    method: str,
    target_uri: str,
    body: bytes,
    key: SigningKey,
    key_id: str,
    created: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Sign a request; returns the `Content-Digest`, `Signature-Input` and `Signature` headers to add."""
    digest_value = content_digest(body)
    params: list[tuple[str, int | str]] = [
        ("created", int(time.time()) if created is None else int(created)),
        ("keyid", key_id),
        ("nonce", secrets.token_urlsafe(16) if nonce is None else nonce),
        ("alg", _ALG_NAMES[key.algorithm]),
    ]
    base = signature_base(
        REQUIRED_COMPONENTS,
        params,
        method=method,
        target_uri=target_uri,
        headers={"content-digest": digest_value},
    )
    return {
        "Content-Digest": digest_value,
        "Signature-Input": f"{_LABEL}={_serialize_params(REQUIRED_COMPONENTS, params)}",
        "Signature": f"{_LABEL}=:{b64e(key.sign(base))}:",
    }


# A small RFC 8941 reader for exactly what these headers carry: a dictionary of inner lists of
# strings with integer/string/token parameters, or of byte sequences.
_KEY = r"[a-z*][a-z0-9_\-.*]*"
_STRING = r'"(?:[^"\\]|\\["\\])*"'
_PARAM = rf";\s*({_KEY})(?:=({_STRING}|-?\d{{1,15}}|[A-Za-z*][A-Za-z0-9:/!#$%&'*+\-.^_`|~]*|\?[01]))?"
_MEMBER = re.compile(rf"\s*({_KEY})=(\((?:\s*{_STRING})*\s*\)|:[A-Za-z0-9+/=]*:)((?:{_PARAM})*)\s*(?:,|$)")
_PARAM_RE = re.compile(_PARAM)
_STRING_RE = re.compile(_STRING)
_ESCAPE_RE = re.compile(r"\\([\"\\])")


def _unquote(text: str) -> str:
    inner = text[1:-1]
    return _ESCAPE_RE.sub(r"\1", inner) if "\\" in inner else inner


def _parse_dictionary(value: str) -> dict[str, tuple[str, list[tuple[str, int | str]]]]:
    result: dict[str, tuple[str, list[tuple[str, int | str]]]] = {}
    pos = 0
    while pos < len(value):
        match = _MEMBER.match(value, pos)
        if match is None or match.end() == pos:
            raise RequestSignatureInvalid("malformed Signature/Signature-Input header")
        params: list[tuple[str, int | str]] = []
        for pm in _PARAM_RE.finditer(match.group(3)):
            raw = pm.group(2) or "?1"
            params.append(
                (
                    pm.group(1),
                    _unquote(raw) if raw.startswith('"') else int(raw) if raw.lstrip("-").isdigit() else raw,
                )
            )
        result[match.group(1)] = (match.group(2), params)
        pos = match.end()
    return result


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise RequestSignatureMissing(f"request has no {name} header")


def verify_request(
    method: str,
    target_uri: str,
    headers: Mapping[str, str],
    body: bytes,
    resolve_key: Callable[[str], VerifyKey | None],
    now: float | None,
    replay_cache: ReplayCache,
    window_s: int = 300,
) -> VerifiedRequest:
    """Verify a request signed by `sign_request`; raises a `RequestSignatureError` subclass.

    `resolve_key(key_id)` returns the signer's current key or None; `now` is Unix seconds
    (None: the system clock). `created` must be within `window_s` of `now` on either side.
    """
    moment = time.time() if now is None else now
    sig_input = _header(headers, "signature-input")
    sig_header = _header(headers, "signature")
    digest_header = _header(headers, "content-digest")

    inputs = _parse_dictionary(sig_input)
    signatures = _parse_dictionary(sig_header)
    chosen = None
    for label, (inner, params) in inputs.items():
        if not inner.startswith("("):
            continue
        components = [_unquote(c) for c in _STRING_RE.findall(inner)]
        if set(REQUIRED_COMPONENTS) <= set(components):
            chosen = (label, components, params)
            break
    if chosen is None:
        raise RequestSignatureInvalid(f"no signature covers {', '.join(REQUIRED_COMPONENTS)}")
    label, components, params = chosen
    if label not in signatures or not signatures[label][0].startswith(":"):
        raise RequestSignatureMissing(f"Signature header has no value for label {label!r}")
    param_map = dict(params)
    for required in ("created", "keyid", "nonce"):
        if required not in param_map:
            raise RequestSignatureMissing(f"signature parameters lack {required!r}")
    created, key_id, nonce = param_map["created"], param_map["keyid"], param_map["nonce"]
    if not isinstance(created, int) or not isinstance(key_id, str) or not isinstance(nonce, str):
        raise RequestSignatureInvalid("created must be an integer, keyid and nonce strings")

    digests = _parse_dictionary(digest_header)
    if "sha-256" not in digests:
        raise RequestSignatureMissing("Content-Digest has no sha-256 member")
    try:
        claimed = b64d(digests["sha-256"][0][1:-1])
    except ValueError:
        raise ContentDigestMismatch("Content-Digest sha-256 value is not base64") from None
    if not hmac.compare_digest(claimed, hashlib.sha256(body).digest()):
        raise ContentDigestMismatch("Content-Digest does not match the body")

    if abs(moment - created) > window_s:
        raise RequestSignatureExpired(
            f"signature created at {created} is outside ±{window_s}s of {int(moment)}"
        )
    expires = param_map.get("expires")
    if isinstance(expires, int) and moment > expires:
        raise RequestSignatureExpired(f"signature expired at {expires}")

    try:
        key = resolve_key(key_id)
    except KeyError:
        key = None
    if key is None:
        raise UnknownKeyId(f"no key for keyid {key_id!r}")
    alg = param_map.get("alg")
    if alg is not None and alg != _ALG_NAMES.get(key.algorithm):
        raise RequestSignatureInvalid(f"alg {alg!r} does not match the {key.algorithm} key {key_id!r}")

    try:
        signature = b64d(signatures[label][0][1:-1])
    except ValueError:
        raise RequestSignatureInvalid("Signature value is not base64") from None
    base = signature_base(components, params, method=method, target_uri=target_uri, headers=headers)
    try:
        key.verify(signature, base)
    except SignatureInvalid:
        raise RequestSignatureInvalid(f"request signature by {key_id!r} does not verify") from None

    if not replay_cache.check_and_store(f"{key_id}\x00{nonce}", created + window_s, moment):
        raise RequestReplayed(f"nonce {nonce!r} of {key_id!r} was already used")
    return VerifiedRequest(key_id=key_id, key=key, created=created, nonce=nonce, label=label)
