"""HTTP request signatures: the RFC 9421 B.2.6 vector, RFC 9530 digest, and every typed failure."""

from __future__ import annotations

import pytest

from keys import (
    Ed25519SigningKey,
    InMemoryReplayCache,
    SigningKey,
    Suite,
    VerifyKey,
    content_digest,
    sign_request,
    verify_request,
)
from keys._encoding import b64url_decode
from keys._httpsig import signature_base
from keys.errors import (
    ContentDigestMismatch,
    RequestReplayed,
    RequestSignatureExpired,
    RequestSignatureInvalid,
    RequestSignatureMissing,
    UnknownKeyId,
)

NOW = 1_740_816_000
URI = "https://exchange.example/api/v1/applications?resource=R-1"
BODY = b'{"purpose":"credit scoring"}'
KEYS = {Suite.INTL: SigningKey.generate("intl"), Suite.GM: SigningKey.generate("gm")}


def _resolver(key: SigningKey) -> object:
    def resolve(key_id: str) -> VerifyKey | None:
        return key.verify_key if key_id == "org-a" else None

    return resolve


def _signed(suite: Suite, **overrides: object) -> dict[str, str]:
    args: dict[str, object] = {"created": NOW, "nonce": "n-1"}
    args.update(overrides)
    return sign_request("POST", URI, BODY, KEYS[suite], "org-a", **args)  # type: ignore[arg-type]


def _verify(suite: Suite, headers: dict[str, str], **overrides: object) -> object:
    args: dict[str, object] = {
        "method": "POST",
        "target_uri": URI,
        "headers": headers,
        "body": BODY,
        "resolve_key": _resolver(KEYS[suite]),
        "now": NOW + 10,
        "replay_cache": InMemoryReplayCache(),
    }
    args.update(overrides)
    return verify_request(**args)  # type: ignore[arg-type]


def test_rfc9530_content_digest_example() -> None:
    """The RFC 9530 example body `{"hello": "world"}` has the RFC's sha-256 digest."""
    assert content_digest(b'{"hello": "world"}') == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"


def test_rfc9421_b26_ed25519_vector() -> None:
    """The signature base and Ed25519 signature of RFC 9421 appendix B.2.6 are reproduced exactly."""
    key = Ed25519SigningKey(b64url_decode("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU"))
    assert key.verify_key.public_bytes == b64url_decode("JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs")
    base = signature_base(
        ["date", "@method", "@path", "@authority", "content-type", "content-length"],
        [("created", 1618884473), ("keyid", "test-key-ed25519")],
        method="POST",
        target_uri="http://example.com/foo?param=Value&Pet=dog",
        headers={
            "Host": "example.com",
            "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
            "Content-Type": "application/json",
            "Content-Length": "18",
        },
    )
    assert base.decode() == (
        '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
        '"@method": POST\n'
        '"@path": /foo\n'
        '"@authority": example.com\n'
        '"content-type": application/json\n'
        '"content-length": 18\n'
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length")'
        ';created=1618884473;keyid="test-key-ed25519"'
    )
    import base64

    assert base64.b64encode(key.sign(base)).decode() == (
        "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
    )


def test_round_trip(suite: Suite) -> None:
    """A signed request verifies and reports key id, time and nonce."""
    headers = _signed(suite)
    assert set(headers) == {"Content-Digest", "Signature-Input", "Signature"}
    assert headers["Signature-Input"].startswith('sig1=("@method" "@target-uri" "content-digest");created=')
    verified = _verify(suite, headers)
    assert (verified.key_id, verified.created, verified.nonce) == ("org-a", NOW, "n-1")  # type: ignore[attr-defined]


def test_header_names_are_case_insensitive(suite: Suite) -> None:
    """Lower-case header names, as ASGI servers deliver them, verify too."""
    headers = {k.lower(): v for k, v in _signed(suite).items()}
    _verify(suite, headers)


@pytest.mark.parametrize("missing", ["Signature", "Signature-Input", "Content-Digest"])
def test_missing_headers(missing: str) -> None:
    """Each missing header raises `RequestSignatureMissing`."""
    headers = _signed(Suite.INTL)
    del headers[missing]
    with pytest.raises(RequestSignatureMissing) as info:
        _verify(Suite.INTL, headers)
    assert info.value.code == "keys.http.missing"


def test_missing_nonce_parameter() -> None:
    """A signature without a nonce parameter raises `RequestSignatureMissing`."""
    headers = _signed(Suite.INTL)
    headers["Signature-Input"] = headers["Signature-Input"].replace(';nonce="n-1"', "")
    with pytest.raises(RequestSignatureMissing):
        _verify(Suite.INTL, headers)


@pytest.mark.parametrize("offset", [-301, 301])
def test_outside_the_window_is_expired(offset: int) -> None:
    """`created` more than 300 s before or after now raises `RequestSignatureExpired`."""
    with pytest.raises(RequestSignatureExpired) as info:
        _verify(Suite.INTL, _signed(Suite.INTL), now=NOW + offset)
    assert info.value.code == "keys.http.expired"


def test_replay_is_refused_within_the_window(suite: Suite) -> None:
    """The same (key id, nonce) twice in the window raises `RequestReplayed`; a new nonce passes."""
    cache = InMemoryReplayCache()
    _verify(suite, _signed(suite), replay_cache=cache)
    with pytest.raises(RequestReplayed) as info:
        _verify(suite, _signed(suite), replay_cache=cache)
    assert info.value.code == "keys.http.replayed"
    _verify(suite, _signed(suite, nonce="n-2"), replay_cache=cache)


def test_replay_cache_forgets_after_the_window() -> None:
    """Entries expire, so the cache stays bounded by the traffic of one window."""
    cache = InMemoryReplayCache()
    assert cache.check_and_store("k", expires_at=100, now=0)
    assert not cache.check_and_store("k", expires_at=100, now=50)
    assert cache.check_and_store("other", expires_at=300, now=200)
    assert len(cache) == 1
    assert cache.check_and_store("k", expires_at=400, now=200)


def test_changed_body_is_a_bad_digest() -> None:
    """A body that does not match `Content-Digest` raises `ContentDigestMismatch`."""
    with pytest.raises(ContentDigestMismatch) as info:
        _verify(Suite.INTL, _signed(Suite.INTL), body=BODY + b" ")
    assert info.value.code == "keys.http.bad_digest"


def test_recomputed_digest_without_resigning_is_a_bad_signature() -> None:
    """Swapping body and digest together still fails: the digest is covered by the signature."""
    headers = _signed(Suite.INTL)
    headers["Content-Digest"] = content_digest(b"{}")
    with pytest.raises(RequestSignatureInvalid) as info:
        _verify(Suite.INTL, headers, body=b"{}")
    assert info.value.code == "keys.http.bad_signature"


@pytest.mark.parametrize(
    "change",
    [{"method": "PUT"}, {"target_uri": URI.replace("R-1", "R-2")}],
    ids=["method", "target-uri"],
)
def test_changed_method_or_uri_is_a_bad_signature(suite: Suite, change: dict[str, str]) -> None:
    """Another method or target URI than signed raises `RequestSignatureInvalid`."""
    with pytest.raises(RequestSignatureInvalid):
        _verify(suite, _signed(suite), **change)


def test_changed_created_is_a_bad_signature() -> None:
    """Editing the `created` parameter breaks the signature."""
    headers = _signed(Suite.INTL)
    headers["Signature-Input"] = headers["Signature-Input"].replace(f"created={NOW}", f"created={NOW + 1}")
    with pytest.raises(RequestSignatureInvalid):
        _verify(Suite.INTL, headers)


def test_unknown_key() -> None:
    """A key id the resolver does not know raises `UnknownKeyId`."""
    headers = sign_request("POST", URI, BODY, KEYS[Suite.INTL], "stranger", created=NOW, nonce="n")
    with pytest.raises(UnknownKeyId) as info:
        _verify(Suite.INTL, headers)
    assert info.value.code == "keys.http.unknown_key"


def test_signature_must_cover_the_required_components() -> None:
    """A signature that omits `content-digest` is refused."""
    headers = _signed(Suite.INTL)
    headers["Signature-Input"] = headers["Signature-Input"].replace(' "content-digest"', "")
    with pytest.raises(RequestSignatureInvalid):
        _verify(Suite.INTL, headers)


def test_key_of_another_algorithm_is_refused() -> None:
    """An `alg` that does not match the resolved key's algorithm is refused."""
    headers = _signed(Suite.INTL)
    with pytest.raises(RequestSignatureInvalid):
        _verify(Suite.INTL, headers, resolve_key=_resolver(KEYS[Suite.GM]))


def test_replay_is_not_recorded_for_a_bad_signature() -> None:
    """A forged request does not burn the nonce of the genuine one."""
    cache = InMemoryReplayCache()
    with pytest.raises(RequestSignatureInvalid):
        _verify(Suite.INTL, _signed(Suite.INTL), method="DELETE", replay_cache=cache)
    _verify(Suite.INTL, _signed(Suite.INTL), replay_cache=cache)


def test_malformed_signature_header() -> None:
    """Garbage in `Signature-Input` raises `RequestSignatureInvalid`."""
    headers = _signed(Suite.INTL)
    headers["Signature-Input"] = "sig1=(((("
    with pytest.raises(RequestSignatureInvalid):
        _verify(Suite.INTL, headers)
