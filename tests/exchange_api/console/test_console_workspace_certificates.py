"""The enterprise workspace's certificates and credit attestations: its own, with their status."""

from __future__ import annotations

import re

from api_support import World
from certificates_support import CreditCentre, Market, event_kinds
from console_support import sign_in


def _rows(page: str, testid: str) -> list[str]:
    return re.findall(rf'<tr data-testid="{testid}".*?</tr>', page, flags=re.S)


def test_workspace_shows_the_enterprises_licence_as_valid(world: World) -> None:
    """The enterprise's registered licence is a certificate-row with a valid badge."""
    market = Market(world)
    issued = market.licence(world["logistics"].uscc)
    page = sign_in(world.http, world["logistics"].key, "/console/workspace?lang=en")
    rows = _rows(page, "certificate-row")
    assert len(rows) == 1
    assert issued.credential["id"] in rows[0]
    assert "BusinessLicenceCredential" in rows[0]
    assert 'class="badge ok" data-testid="certificate-status">valid<' in rows[0]
    assert "某市市场监督管理局" in rows[0]


def test_workspace_shows_a_suspended_licence_as_suspended(world: World) -> None:
    """After the issuer suspends the licence the badge says suspended (here in Chinese)."""
    market = Market(world)
    issued = market.licence(world["logistics"].uscc)
    market.suspend(issued)
    page = sign_in(world.http, world["logistics"].key, "/console/workspace?lang=zh-CN")
    rows = _rows(page, "certificate-row")
    assert len(rows) == 1
    assert 'class="badge warn" data-testid="certificate-status">已暂停<' in rows[0]


def test_workspace_hides_other_enterprises_certificates(world: World) -> None:
    """The bank's workspace shows none of the logistics company's certificates."""
    market = Market(world)
    issued = market.licence(world["logistics"].uscc)
    page = sign_in(world.http, world["bank"].key, "/console/workspace?lang=en")
    assert _rows(page, "certificate-row") == []
    assert issued.credential["id"] not in page
    assert 'data-testid="no-certificates"' in page


def test_workspace_view_writes_no_lookup_event(world: World) -> None:
    """Showing the enterprise its own certificates records no look-up."""
    market = Market(world)
    market.licence(world["logistics"].uscc)
    sign_in(world.http, world["logistics"].key, "/console/workspace")
    assert "certificate.looked_up" not in event_kinds(world)


def test_workspace_lists_the_attestations_about_the_enterprise(world: World) -> None:
    """A credit attestation about the enterprise is an attestation-row with threshold, attester and badge."""
    centre = CreditCentre(world)
    doc = centre.attest(world["logistics"].uscc, threshold=650)
    other = centre.attest(world["bank"].uscc, threshold=600)
    page = sign_in(world.http, world["logistics"].key, "/console/workspace?lang=en")
    rows = _rows(page, "attestation-row")
    assert len(rows) == 1
    assert doc["id"] in rows[0] and other["id"] not in page
    assert "score ≥ 650" in rows[0]
    assert "信用中心" in rows[0]
    assert f"registered by {centre.org_id}" in rows[0]
    assert 'class="badge ok" data-testid="attestation-status">valid<' in rows[0]
