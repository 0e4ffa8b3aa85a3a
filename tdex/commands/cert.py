"""`tdex cert`: issue, verify, suspend, reinstate, revoke and inspect electronic certificates (电子证照).

Exit status: 0 when the operation succeeded (for `verify`: the proof and every check that
applies passed), 1 when it did not (the reason is printed with its error code), 2 for unusable
input. Where things live (read here, in one place):

- keystores: `--dir`, else `$TDEX_HOME`, else `./var/keys`; passphrase `$TDEX_KEYSTORE_PASSPHRASE`;
- issuer state and published status lists: `--state-dir`, else `$TDEX_CERT_DIR`, else `./var/certs`
  (`<dir>/<org>/issuer.json`, `<dir>/<org>/status/<purpose>.json`);
- the subject-reference secret of the deployment: `$TDEX_SUBJECT_SECRET` (at least 16 bytes);
- the chain: `--rpc URL` with the contract addresses from `--registry`/`--credit-ledger`, the
  ledger manifest (`--manifest`), or `<state-dir>/deployment.json` written by `tdex cert deploy`.

The chain adapters at the bottom (`ChainAnchors`, `anchor_issued`, `publish_status_change`) are
what the demo and the exchange use to connect `credentials` to `ledger`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from credentials import (
    CertificateIssuer,
    CertificateStatus,
    CredentialsError,
    IssuedCertificate,
    StatusChange,
    StatusListUpdate,
    Verifier,
    chain_account,
    parse_time,
)
from exchange_api.chain_anchors import ChainAnchors
from keys import KeysError, Keystore, OrgKeys, parse_json
from tdex.commands.keys import keystore_root, read_passphrase

if TYPE_CHECKING:
    import ledger

NAME = "cert"
app = typer.Typer(
    help="Electronic certificates (电子证照) as W3C Verifiable Credentials.", no_args_is_help=True
)

STATE_ENV = "TDEX_CERT_DIR"
SECRET_ENV = "TDEX_SUBJECT_SECRET"  # noqa: S105 - the variable's name, not a secret
DEFAULT_STATE = Path("var/certs")
DEPLOYMENT_KIND = "tdex.credentials-deployment"
# A status change costs about 38k gas per certificate: 500 per transaction stay well inside a 30M
# block gas limit (the contract itself accepts up to 1,000).
STATUS_BATCH = 500

_ORG = typer.Option(..., "--org", help="The issuing organisation (its keystore name).")
_DIR = typer.Option(None, "--dir", help="Keystore folder (default: $TDEX_HOME or ./var/keys).")
_STATE = typer.Option(
    None, "--state-dir", help="Issuer state folder (default: $TDEX_CERT_DIR or ./var/certs)."
)
_RPC = typer.Option(None, "--rpc", help="JSON-RPC URL of the chain (anchors are read or written there).")
_MANIFEST = typer.Option(None, "--manifest", help="Ledger deployment manifest (Consortium, contracts).")
_REGISTRY = typer.Option(
    None, "--registry", help="CertificateRegistry address (else manifest/deployment.json)."
)
_JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
_FILE = typer.Argument(..., help="A credential (JSON).")
_REASON = typer.Option(..., "--reason", help="Why (kept off chain; its hash is anchored).")
_KDF = typer.Option("moderate", "--kdf-profile", hidden=True)
_DEPLOY_MANIFEST = typer.Option(..., "--manifest", help="Ledger manifest (gives the Consortium).")
_SUBJECT = typer.Option(..., "--subject", help="JSON file of the subject's claims (with uscc).")
_CREDENTIAL_OUT = typer.Option(None, "--out", "-o", help="Write the credential here (default: stdout).")
_STATUS_LISTS = typer.Option([], "--status-list", help="A status list credential; repeatable.")
_TRUSTED = typer.Option([], "--trusted-issuer", help="Accept only these issuer DIDs; repeatable.")


# --------------------------------------------------------------------------------- helpers


def fail(message: str, status: int = 1) -> typer.Exit:
    """Print `message` on stderr and return the Exit to raise."""
    typer.echo(message, err=True)
    return typer.Exit(status)


def print_json(value: Any) -> None:
    """Print `value` as indented, sorted JSON (UTF-8 kept)."""
    typer.echo(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


def state_dir(option: Path | None) -> Path:
    """The issuer state folder: the option, else $TDEX_CERT_DIR, else ./var/certs."""
    if option is not None:
        return option
    env = os.environ.get(STATE_ENV)
    return Path(env) if env else DEFAULT_STATE


def subject_secret() -> bytes:
    """The deployment's subject-reference secret from $TDEX_SUBJECT_SECRET (exit 2 when unset or short)."""
    value = os.environ.get(SECRET_ENV, "").encode("utf-8")
    if len(value) < 16:
        raise fail(f"error: set ${SECRET_ENV} to the deployment's subject-reference secret (16+ bytes)", 2)
    return value


def read_json(path: Path) -> Any:
    """Strictly parsed JSON from `path` (exit 2 naming the file when it cannot be read)."""
    try:
        return parse_json(path.read_bytes())
    except OSError as exc:
        raise fail(f"error: {path}: {exc.strerror or exc}", 2) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise fail(f"error: {path}: not JSON ({exc})", 2) from None


def write_json(path: Path, value: Any) -> None:
    """Write `value` as JSON to `path` through a temporary file (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_org(org: str, directory: Path | None, kdf_profile: str = "moderate") -> OrgKeys:
    """The organisation's private keys (passphrase from the environment or a prompt)."""
    store = Keystore(keystore_root(directory), kdf_profile=kdf_profile)
    try:
        store.identity(org)  # names a missing keystore before any prompt
        return store.load(org, read_passphrase(confirm=False))
    except KeysError as exc:
        raise fail(f"error [{exc.code}]: {exc}") from None


def parse_when(value: str | None, what: str) -> datetime | None:
    """An option holding an RFC 3339 time with a zone (exit 2 when malformed)."""
    if value is None:
        return None
    try:
        return parse_time(value, what)
    except CredentialsError as exc:
        raise fail(f"error: {what}: {exc}", 2) from None


@contextmanager
def connect(rpc: str) -> Iterator[ledger.Chain]:
    """The chain at `rpc` (tests replace this function to share one in-process chain)."""
    import ledger

    with ledger.connect(rpc) as chain:
        yield chain


def contract_address(
    name: str, chain: ledger.Chain, explicit: str | None, manifest: Path | None, state: Path
) -> str:
    """Where contract `name` is: the explicit option, else the ledger manifest, else deployment.json."""
    if explicit:
        return explicit
    if manifest is not None:
        import ledger

        try:
            loaded = ledger.Manifest.load(manifest)
        except ledger.LedgerError as exc:
            raise fail(f"error [{exc.code}]: {exc}", 2) from None
        if name in loaded.contracts:
            return loaded.address(name)
    deployment = state / "deployment.json"
    if deployment.exists():
        data = read_json(deployment)
        if data.get("kind") == DEPLOYMENT_KIND and data.get("chain_id") == chain.chain_id and name in data:
            return str(data[name])
    raise fail(f"error: no {name} address: pass it, or run `tdex cert deploy` for chain {chain.chain_id}", 2)


def chain_signer(keys: OrgKeys) -> ledger.Signer:
    """The organisation's chain account as a ledger signer."""
    import ledger

    return ledger.Signer(keys.export_account_key())


# ------------------------------------------------------------------------- chain adapters

# `ChainAnchors` (read only) lives in `exchange_api.chain_anchors`, so the exchange wires it too.


def anchor_issued(
    registry: ledger.CertificateRegistry, signer: ledger.Signer, issued: IssuedCertificate
) -> None:
    """Anchor a newly issued certificate in the registry."""
    a = issued.anchor
    registry.anchor(signer, a.anchor_id, a.subject_ref, a.document_hash, a.valid_from, a.valid_until)


def anchor_list_updates(
    registry: ledger.CertificateRegistry, signer: ledger.Signer, updates: tuple[StatusListUpdate, ...]
) -> None:
    """Anchor new status-list versions."""
    for update in updates:
        registry.anchor_status_list(signer, update.list_id, update.version, update.list_hash)


def publish_status_change(
    registry: ledger.CertificateRegistry, signer: ledger.Signer, change: StatusChange
) -> None:
    """Record status changes on chain (one batch per status and reason) and anchor the new list versions."""
    from ledger import CertificateStatus as ChainStatus

    groups: dict[tuple[CertificateStatus, bytes], list[bytes]] = {}
    for anchor_id, status, why in change.changes:
        groups.setdefault((status, why), []).append(anchor_id)
    for (status, why), ids in groups.items():
        chain_status = ChainStatus[status.name]
        reason = why if status is not CertificateStatus.ACTIVE else bytes(32)
        for start in range(0, len(ids), STATUS_BATCH):
            registry.set_status_batch(signer, ids[start : start + STATUS_BATCH], chain_status, reason)
    anchor_list_updates(registry, signer, change.list_updates)


# ---------------------------------------------------------------------------- issuer state


def _issuer(
    keys: OrgKeys, org: str, state: Path, base_url: str | None, account: str | None
) -> tuple[CertificateIssuer, bool, str]:
    path = state / org / "issuer.json"
    saved = read_json(path) if path.exists() else None
    url = base_url or (saved or {}).get("base_url") or f"https://certs.tdex.example/status/{org}"
    if saved is not None and saved.get("chain_account") != account:
        # The list versions are numbered on chain from the first one: an issuer is either always
        # anchored on one chain account or never, or the chain and the files disagree.
        raise fail(
            f"error: {path} belongs to an issuer with chain account {saved.get('chain_account')}, "
            f"not {account}: use the same --rpc for every operation of this issuer"
        )
    try:
        issuer = CertificateIssuer(
            keys.signer,
            name=org,
            status_base_url=url,
            subject_secret=subject_secret(),
            chain_account=account,
            state=(saved or {}).get("issuer"),
        )
    except CredentialsError as exc:
        raise fail(f"error [{exc.code}]: {exc}") from None
    return issuer, saved is None, url


def _save(issuer: CertificateIssuer, org: str, state: Path, base_url: str) -> None:
    record = {
        "base_url": base_url,
        "chain_account": issuer.issuer.get("chainAccount"),
        "issuer": issuer.to_state(),
    }
    write_json(state / org / "issuer.json", record)
    for url, credential in issuer.status_list_credentials().items():
        write_json(state / org / "status" / f"{url.rsplit('/', 1)[-1]}.json", credential)


def status_documents(state: Path, extra: list[Path]) -> dict[str, Mapping[str, Any]]:
    """Status list credentials by id: every `<state>/*/status/*.json`, then the files given."""
    found: dict[str, Mapping[str, Any]] = {}
    for path in [*sorted(state.glob("*/status/*.json")), *extra]:
        document = read_json(path)
        if isinstance(document, dict) and isinstance(document.get("id"), str):
            found[document["id"]] = document
    return found


#: Fetching a status list over HTTP(S): a short timeout and a size cap (a list of 131,072 entries
#: is a few hundred bytes gzipped; 16 MiB bounds any honest list).
STATUS_FETCH_TIMEOUT_S = 5.0
STATUS_FETCH_MAX_BYTES = 16 * 1024 * 1024


def fetch_status_list(url: str, *, timeout: float = STATUS_FETCH_TIMEOUT_S) -> Mapping[str, Any]:
    """GET a status list credential from an http(s) URL; StatusListUnavailable (with why) on failure.

    The document is returned unverified: the Verifier checks its proof, its issuer (that of the
    credential), its purpose and its window.
    """
    import httpx

    from credentials.errors import StatusListUnavailable

    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream(
                "GET", url, headers={"Accept": "application/vc+ld+json, application/json"}
            ) as response,
        ):
            if response.status_code != 200:
                raise StatusListUnavailable(f"status list {url}: HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > STATUS_FETCH_MAX_BYTES:
                    raise StatusListUnavailable(
                        f"status list {url}: larger than {STATUS_FETCH_MAX_BYTES} bytes"
                    )
    except httpx.HTTPError as exc:
        raise StatusListUnavailable(f"status list {url} could not be fetched: {exc!r}") from None
    try:
        document = parse_json(bytes(body))
    except (KeysError, ValueError) as exc:
        raise StatusListUnavailable(f"status list {url} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise StatusListUnavailable(f"status list {url} is not a JSON object")
    return document


def status_resolver(
    local: Mapping[str, Mapping[str, Any]], *, fetch: bool = True, raise_on_failure: bool = True
) -> Callable[[str], Mapping[str, Any] | None]:
    """Status lists from the local documents (by id), else fetched when the URL is http(s).

    A failed fetch raises StatusListUnavailable with its reason (the status check fails with it),
    or, with ``raise_on_failure=False``, gives None (the Verifier then skips the check).
    """
    from credentials.errors import StatusListUnavailable

    def resolve(url: str) -> Mapping[str, Any] | None:
        document = local.get(url)
        if document is not None or not fetch or not url.startswith(("http://", "https://")):
            return document
        try:
            return fetch_status_list(url)
        except StatusListUnavailable:
            if raise_on_failure:
                raise
            return None

    return resolve


# ------------------------------------------------------------------------------- commands


@app.command("issue")
def issue(
    org: str = _ORG,
    kind: str = typer.Option("business-licence", "--type", help="business-licence or food-operation-permit."),
    subject: Path = _SUBJECT,
    valid_from: str | None = typer.Option(None, "--valid-from", help="RFC 3339 time (default: now)."),
    valid_until: str | None = typer.Option(
        None, "--valid-until", help="RFC 3339 time (default: the type's)."
    ),
    out: Path | None = _CREDENTIAL_OUT,
    base_url: str | None = typer.Option(
        None, "--status-base-url", help="Where the status lists are published."
    ),
    rpc: str | None = _RPC,
    manifest: Path | None = _MANIFEST,
    registry: str | None = _REGISTRY,
    directory: Path | None = _DIR,
    state_option: Path | None = _STATE,
    kdf_profile: str = _KDF,
) -> None:
    """Issue a certificate signed with ORG's key; with --rpc, anchor it in the CertificateRegistry."""
    state = state_dir(state_option)
    claims = read_json(subject)
    keys = load_org(org, directory, kdf_profile)
    start, end = parse_when(valid_from, "--valid-from"), parse_when(valid_until, "--valid-until")
    with _maybe_chain(rpc) as chain:
        account = chain_account(chain.chain_id, keys.account_address) if chain is not None else None
        issuer, fresh, url = _issuer(keys, org, state, base_url, account)
        try:
            issued = issuer.issue(kind, claims, valid_from=start, valid_until=end)
            first_lists = issuer.publish_all() if fresh else ()
        except CredentialsError as exc:
            raise fail(f"error [{exc.code}]: {exc}") from None
        if chain is not None:
            facade = _registry(chain, registry, manifest, state)
            signer = chain_signer(keys)
            anchor_list_updates(facade, signer, first_lists)
            anchor_issued(facade, signer, issued)
        _save(issuer, org, state, url)
    if out is not None:
        write_json(out, issued.credential)
        typer.echo(f"issued {issued.credential['id']} -> {out}", err=True)
    else:
        print_json(issued.credential)


def _change(
    action: CertificateStatus,
    file: Path,
    org: str,
    reason: str,
    rpc: str | None,
    manifest: Path | None,
    registry: str | None,
    directory: Path | None,
    state_option: Path | None,
    kdf_profile: str,
) -> None:
    state = state_dir(state_option)
    credential = read_json(file)
    keys = load_org(org, directory, kdf_profile)
    with _maybe_chain(rpc) as chain:
        account = chain_account(chain.chain_id, keys.account_address) if chain is not None else None
        issuer, fresh, url = _issuer(keys, org, state, None, account)
        if fresh:
            raise fail(f"error: {org} has issued nothing from {state}", 1)
        try:
            change = issuer.change_status([(credential, action, reason)])
        except CredentialsError as exc:
            raise fail(f"error [{exc.code}]: {exc}") from None
        if chain is not None:
            publish_status_change(_registry(chain, registry, manifest, state), chain_signer(keys), change)
        _save(issuer, org, state, url)
    typer.echo(f"{credential.get('id')}: {action.value}")


@app.command("suspend")
def suspend(
    file: Path = _FILE,
    org: str = _ORG,
    reason: str = _REASON,
    rpc: str | None = _RPC,
    manifest: Path | None = _MANIFEST,
    registry: str | None = _REGISTRY,
    directory: Path | None = _DIR,
    state_option: Path | None = _STATE,
    kdf_profile: str = _KDF,
) -> None:
    """Suspend a certificate ORG issued (暂停): its status list and, with --rpc, the registry."""
    _change(
        CertificateStatus.SUSPENDED,
        file,
        org,
        reason,
        rpc,
        manifest,
        registry,
        directory,
        state_option,
        kdf_profile,
    )


@app.command("reinstate")
def reinstate(
    file: Path = _FILE,
    org: str = _ORG,
    reason: str = _REASON,
    rpc: str | None = _RPC,
    manifest: Path | None = _MANIFEST,
    registry: str | None = _REGISTRY,
    directory: Path | None = _DIR,
    state_option: Path | None = _STATE,
    kdf_profile: str = _KDF,
) -> None:
    """Lift a suspension."""
    _change(
        CertificateStatus.ACTIVE,
        file,
        org,
        reason,
        rpc,
        manifest,
        registry,
        directory,
        state_option,
        kdf_profile,
    )


@app.command("revoke")
def revoke(
    file: Path = _FILE,
    org: str = _ORG,
    reason: str = _REASON,
    rpc: str | None = _RPC,
    manifest: Path | None = _MANIFEST,
    registry: str | None = _REGISTRY,
    directory: Path | None = _DIR,
    state_option: Path | None = _STATE,
    kdf_profile: str = _KDF,
) -> None:
    """Revoke a certificate ORG issued (吊销); final."""
    _change(
        CertificateStatus.REVOKED,
        file,
        org,
        reason,
        rpc,
        manifest,
        registry,
        directory,
        state_option,
        kdf_profile,
    )


@app.command("verify")
def verify(
    file: Path = _FILE,
    as_json: bool = _JSON,
    rpc: str | None = _RPC,
    manifest: Path | None = _MANIFEST,
    registry: str | None = _REGISTRY,
    status_list: list[Path] = _STATUS_LISTS,
    state_option: Path | None = _STATE,
    at: str | None = typer.Option(None, "--at", help="Verify as of this RFC 3339 time (default: now)."),
    trusted: list[str] = _TRUSTED,
    skip_status: bool = typer.Option(
        False, "--skip-status", help="Report an unobtainable status list as skipped."
    ),
    strict: bool = typer.Option(False, "--strict", help="Fail when a check that applies was skipped."),
) -> None:
    """Verify any VC 2.0 credential with an eddsa-jcs-2022 (or sm2-jcs-tdex-2026) did:key proof.

    Reports proof, schema, validity, status list and on-chain anchor separately; exit 0 only when
    the proof and every check that applies pass. A credential from outside the consortium is
    "not anchored", which is not a failure.
    """
    credential = read_json(file)
    lists = status_documents(state_dir(state_option), status_list)
    moment = parse_when(at, "--at")
    with _maybe_chain(rpc) as chain:
        anchors = None
        if chain is not None:
            anchors = ChainAnchors(_registry(chain, registry, manifest, state_dir(state_option)))
        verifier = Verifier(
            status_lists=status_resolver(lists, raise_on_failure=not skip_status),
            anchors=anchors,
            trusted_issuers=trusted or None,
            require_status=not skip_status,
            strict=strict,
        )
        report = verifier.verify(credential, at=moment)
    if as_json:
        print_json(report.to_json())
    else:
        typer.echo(f"credential {report.credential_id}")
        typer.echo(f"issuer     {report.issuer}")
        for check in report.checks:
            code = f" [{check.code}]" if check.code else ""
            typer.echo(f"  {check.check:9s} {check.outcome.value:15s}{code} {check.detail}")
        typer.echo("result: VALID" if report.ok else "result: NOT VALID")
    raise typer.Exit(0 if report.ok else 1)


@app.command("status")
def status(
    file: Path = _FILE,
    as_json: bool = _JSON,
    rpc: str | None = _RPC,
    manifest: Path | None = _MANIFEST,
    registry: str | None = _REGISTRY,
    status_list: list[Path] = _STATUS_LISTS,
    state_option: Path | None = _STATE,
) -> None:
    """Show a certificate's status: its status-list bits and, with --rpc, the registry's record."""
    from credentials import StatusList, parse_status_entry

    credential = read_json(file)
    lists = status_documents(state_dir(state_option), status_list)
    out: dict[str, Any] = {"credential": credential.get("id"), "lists": {}}
    try:
        entries = credential.get("credentialStatus") or []
        for raw in entries if isinstance(entries, list) else [entries]:
            entry = parse_status_entry(raw)
            document = lists.get(entry.list_url)
            if document is None:
                out["lists"][entry.purpose] = "list not available"
                continue
            bits = StatusList.decode(document["credentialSubject"]["encodedList"])
            out["lists"][entry.purpose] = "set" if bits[entry.index] else "clear"
        with _maybe_chain(rpc) as chain:
            if chain is not None:
                anchors = ChainAnchors(_registry(chain, registry, manifest, state_dir(state_option)))
                from credentials import CRYPTOSUITES, certificate_anchor_id

                suite = CRYPTOSUITES[credential["proof"]["cryptosuite"]].suite
                record = anchors.certificate(certificate_anchor_id(credential["id"], suite))
                out["registry"] = record.status.value if record else "not anchored"
    except (CredentialsError, KeyError, TypeError) as exc:
        raise fail(f"error: {exc}") from None
    if as_json:
        print_json(out)
    else:
        for purpose, value in out["lists"].items():
            typer.echo(f"{purpose:11s} {value}")
        if "registry" in out:
            typer.echo(f"{'registry':11s} {out['registry']}")


@app.command("deploy")
def deploy(
    org: str = typer.Option(..., "--org", help="The organisation paying for the deployment (any member)."),
    rpc: str = typer.Option(..., "--rpc", help="JSON-RPC URL of the chain."),
    manifest: Path = _DEPLOY_MANIFEST,
    directory: Path | None = _DIR,
    state_option: Path | None = _STATE,
    kdf_profile: str = _KDF,
) -> None:
    """Deploy CertificateRegistry and CreditLedger next to a ledger deployment; record their addresses."""
    import ledger

    keys = load_org(org, directory, kdf_profile)
    with connect(rpc) as chain:
        try:
            consortium = ledger.Manifest.load(manifest).address("Consortium")
            signer = chain_signer(keys)
            registry = ledger.CertificateRegistry.deploy(chain, signer, consortium)
            credit = ledger.CreditLedger.deploy(chain, signer, consortium)
        except ledger.LedgerError as exc:
            raise fail(f"error [{exc.code}]: {exc}") from None
        record = {
            "kind": DEPLOYMENT_KIND,
            "version": 1,
            "chain_id": chain.chain_id,
            "CertificateRegistry": registry.address,
            "CreditLedger": credit.address,
        }
    write_json(state_dir(state_option) / "deployment.json", record)
    print_json(record)


@contextmanager
def _maybe_chain(rpc: str | None) -> Iterator[ledger.Chain | None]:
    if rpc is None:
        yield None
        return
    with connect(rpc) as chain:
        yield chain


def _registry(
    chain: ledger.Chain, explicit: str | None, manifest: Path | None, state: Path
) -> ledger.CertificateRegistry:
    import ledger

    return ledger.CertificateRegistry(
        chain, contract_address("CertificateRegistry", chain, explicit, manifest, state)
    )
