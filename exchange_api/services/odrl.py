"""ODRL 2.2 documents: the Offer a catalogue entry makes and the Agreement a grant is."""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["ODRL_CONTEXT", "PROFILE", "agreement", "offer", "request_policy"]

ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
# The profile names the shape (and its version) of our policies, as ODRL profiles do.
PROFILE = "urn:tdex:odrl-profile:1"


def party(uscc: str) -> str:
    """The ODRL party id of an organisation: its unified social credit code as a URN."""
    return f"urn:uscc:{uscc}"


def target(code: str, version: int | None = None) -> str:
    """The ODRL asset id of a catalogue entry (optionally one version of it)."""
    base = f"urn:tdex:resource:{code}"
    return base if version is None else f"{base}:v{version}"


def offer(code: str, provider_uscc: str, share_type: str, conditions: str | None) -> dict[str, Any]:
    """The Offer of an entry: use permitted (with its conditions) or, if not shareable, prohibited."""
    policy: dict[str, Any] = {
        "@type": "Offer",
        "uid": f"urn:tdex:offer:{code}",
        "profile": PROFILE,
        "assigner": party(provider_uscc),
        "target": target(code),
    }
    if share_type == "not_shareable":
        policy["prohibition"] = [{"action": "use"}]
        policy["description"] = conditions
    elif share_type == "conditional":
        # The conditions are the provider's stated text; approval turns them into an Agreement.
        policy["permission"] = [{"action": "use", "duty": [{"action": "obtainConsent"}]}]
        policy["description"] = conditions
    else:
        policy["permission"] = [{"action": "use"}]
    return policy


def request_policy(
    code: str, version: int, applicant_uscc: str, purpose: str, templates: list[str], expiry: dt.datetime
) -> dict[str, Any]:
    """What an application asks for, as an ODRL Request (its hash goes on chain with the application)."""
    return {
        "@context": ODRL_CONTEXT,
        "@type": "Request",
        "uid": f"urn:tdex:request:{code}:v{version}:{applicant_uscc}:{expiry.isoformat()}",
        "profile": PROFILE,
        "assignee": party(applicant_uscc),
        "target": target(code, version),
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {"leftOperand": "purpose", "operator": "eq", "rightOperand": purpose},
                    {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": expiry.isoformat()},
                    {
                        "leftOperand": "tdex:template",
                        "operator": "isAnyOf",
                        "rightOperand": sorted(templates),
                    },
                ],
            }
        ],
    }


def agreement(
    *,
    grant_id: str,
    code: str,
    version: int,
    provider_uscc: str,
    grantee_uscc: str,
    purpose: str,
    expires_at: dt.datetime,
    max_uses: int,
    privacy_budget: str,
    templates: list[str],
    conditions: str | None,
) -> dict[str, Any]:
    """The Agreement of a grant; its canonical JSON hash is anchored on chain with the grant."""
    doc: dict[str, Any] = {
        "@context": ODRL_CONTEXT,
        "@type": "Agreement",
        "uid": f"urn:tdex:agreement:{grant_id}",
        "profile": PROFILE,
        "assigner": party(provider_uscc),
        "assignee": party(grantee_uscc),
        "target": target(code, version),
        "permission": [
            {
                "action": "use",
                "constraint": [
                    {"leftOperand": "purpose", "operator": "eq", "rightOperand": purpose},
                    {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": expires_at.isoformat()},
                    {"leftOperand": "count", "operator": "lteq", "rightOperand": max_uses},
                    {"leftOperand": "tdex:privacyBudget", "operator": "lteq", "rightOperand": privacy_budget},
                    {
                        "leftOperand": "tdex:template",
                        "operator": "isAnyOf",
                        "rightOperand": sorted(templates),
                    },
                ],
            }
        ],
        "prohibition": [{"action": "distribute"}, {"action": "reproduce"}],
    }
    if conditions:
        doc["description"] = conditions
    return doc
