"""The catalogue over HTTP: registration, validation, versions, withdrawal, search, DCAT."""

from __future__ import annotations

from api_support import World, entry


def test_register_and_read(world: World) -> None:
    """A department registers an entry; any member reads it with its version hash and pending anchor."""
    dept = world["dept_a"].client
    created = dept.register(entry())
    assert created["code"] == "301001/000001"
    assert created["current_version"]["version"] == 1
    assert created["current_version"]["anchor"]["status"] == "pending"
    read = world["bank"].client.resource("301001/000001")
    assert read["provider"]["id"] == world["dept_a"].org_id
    assert read["current_version"]["metadata_hash"] == created["current_version"]["metadata_hash"]
    world.relay.drain()
    anchored = world["bank"].client.resource("301001/000001")
    assert anchored["current_version"]["anchor"]["status"] == "anchored"


import pytest  # noqa: E402
from api_support import application  # noqa: E402

from exchange_api._crypto import record_hash  # noqa: E402
from exchange_api.client import ApiProblem  # noqa: E402


def _problem(call: object) -> ApiProblem:
    with pytest.raises(ApiProblem) as caught:
        call()  # type: ignore[operator]
    return caught.value


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"share_type": "conditional", "share_conditions": None}, "/share_conditions"),
        ({"share_type": "not_shareable", "share_conditions": "", "share_methods": []}, "/share_conditions"),
        ({"share_type": "unconditional", "share_conditions": "须经审批"}, "/share_conditions"),
        ({"share_methods": []}, "/share_methods"),
        (
            {"share_type": "not_shareable", "open_type": "open", "share_conditions": "《统计法》第九条"},
            "/open_type",
        ),
        (
            {"code": "302001/000001", "classification": {"category": "3", "item": "01", "catalog": "001"}},
            "/code",
        ),
        (
            {"items": [{"name": "x", "data_type": "string"}, {"name": "x", "data_type": "date"}]},
            "/items/1/name",
        ),
        ({"related_codes": ["abc"]}, "/related_codes/0"),
        ({"related_codes": ["301001/000001"]}, "/related_codes/0"),
    ],
)
def test_catalogue_rules_are_422(world: World, changes: dict[str, object], loc: str) -> None:
    """Each broken catalogue rule is refused with `catalog.invalid_entry` naming the field."""
    problem = _problem(lambda: world["dept_a"].client.register(entry(**changes)))
    assert (problem.status, problem.code) == (422, "catalog.invalid_entry")
    assert loc in [e["loc"] for e in problem.problem["errors"]]


@pytest.mark.parametrize(
    "changes",
    [
        {"share_type": "sometimes"},
        {"format": "papyrus"},
        {"update_cycle": "hourly"},
        {"data_grade": "secret"},
        {"code": "9X/1"},
        {"items": []},
        {"name": ""},
        {"release_date": "yesterday"},
        {"surprise": 1},
    ],
)
def test_field_errors_are_422(world: World, changes: dict[str, object]) -> None:
    """An unknown enum, a malformed code or a missing field is `exchange.invalid_input`."""
    problem = _problem(lambda: world["dept_a"].client.register(entry(**changes)))
    assert (problem.status, problem.code) == (422, "exchange.invalid_input")


def test_only_departments_register(world: World) -> None:
    """An enterprise may not register catalogue entries."""
    problem = _problem(lambda: world["bank"].client.register(entry()))
    assert (problem.status, problem.code) == (403, "auth.forbidden")


def test_duplicate_code_is_409(world: World) -> None:
    """A code is registered once."""
    world["dept_a"].client.register(entry())
    problem = _problem(lambda: world["dept_b"].client.register(entry()))
    assert (problem.status, problem.code) == (409, "catalog.duplicate_code")


def test_versions_chain_their_hashes(world: World) -> None:
    """A new version keeps the old one and names its metadata hash; each hash is the record's hash."""
    dept = world["dept_a"].client
    v1 = dept.register(entry())
    v2 = dept.publish_version(
        "301001/000001", {k: v for k, v in entry(name="企业登记信息（新）").items() if k != "code"}
    )
    assert v2["current_version"]["version"] == 2
    assert v2["current_version"]["previous_hash"] == v1["current_version"]["metadata_hash"]
    versions = dept.call("GET", "/catalog/resources/301001/000001/versions")
    assert [v["version"] for v in versions] == [1, 2]
    record = dept.call("GET", "/catalog/resources/301001/000001/versions/1")
    assert record_hash(record) == v1["current_version"]["metadata_hash"]
    assert record["name"] == "企业登记基础信息"
    world.relay.drain()
    kinds = [e["kind"] for e in world.chain.effects if e["payload"].get("code") == "301001/000001"]
    assert kinds == ["catalog.register", "catalog.publish_version"]
    published = next(e for e in world.chain.effects if e["kind"] == "catalog.publish_version")
    assert published["inputs"]["version_hash"].startswith("0x")  # the previous version's chain hash


def test_only_the_provider_changes_an_entry(world: World) -> None:
    """Another department may not publish a version or withdraw the entry."""
    world["dept_a"].client.register(entry())
    body = {k: v for k, v in entry().items() if k != "code"}
    problem = _problem(lambda: world["dept_b"].client.publish_version("301001/000001", body))
    assert (problem.status, problem.code) == (403, "catalog.not_provider")
    problem = _problem(lambda: world["dept_b"].client.withdraw_resource("301001/000001", "不再提供"))
    assert (problem.status, problem.code) == (403, "catalog.not_provider")


def test_withdrawal_keeps_history_and_cancels_waiting_applications(world: World) -> None:
    """A withdrawn entry stays readable, refuses new versions, and cancels pending applications."""
    world["dept_a"].client.register(entry())
    waiting = world["bank"].client.apply(application())
    withdrawn = world["dept_a"].client.withdraw_resource("301001/000001", "数据源停止采集")
    assert withdrawn["status"] == "withdrawn"
    assert world["bank"].client.application(waiting["id"])["state"] == "cancelled"
    body = {k: v for k, v in entry().items() if k != "code"}
    problem = _problem(lambda: world["dept_a"].client.publish_version("301001/000001", body))
    assert (problem.status, problem.code) == (409, "catalog.withdrawn")
    assert len(world["dept_a"].client.call("GET", "/catalog/resources/301001/000001/versions")) == 1
    problem = _problem(lambda: world["logistics"].client.apply(application()))
    assert (problem.status, problem.code) == (409, "catalog.withdrawn")


def test_unknown_entry_is_404(world: World) -> None:
    """An unknown code is 404."""
    problem = _problem(lambda: world["bank"].client.resource("301001/999999"))
    assert (problem.status, problem.code) == (404, "exchange.not_found")


def _seed(world: World) -> None:
    dept_a, dept_b = world["dept_a"].client, world["dept_b"].client
    dept_a.register(entry("301001/000001"))
    dept_a.register(entry("301001/000002", name="个体工商户登记信息", data_grade="important"))
    dept_b.register(
        entry(
            "201002/000001",
            name="城市交通流量监测数据",
            summary="主干道卡口实时车流量。",
            share_type="unconditional",
            share_conditions=None,
            update_cycle="realtime",
            items=[{"name": "卡口编号", "data_type": "string"}, {"name": "车流量", "data_type": "integer"}],
        )
    )


def test_search_full_text_and_filters(world: World) -> None:
    """Chinese full text finds entries by any two characters; filters narrow the results."""
    _seed(world)
    bank = world["bank"].client
    assert {r["code"] for r in bank.search("登记")["items"]} == {"301001/000001", "301001/000002"}
    assert [r["code"] for r in bank.search("交通流量")["items"]] == ["201002/000001"]
    assert [r["code"] for r in bank.search("登记", data_grade="important")["items"]] == ["301001/000002"]
    assert [r["code"] for r in bank.search(share_type="unconditional")["items"]] == ["201002/000001"]
    assert [r["code"] for r in bank.search(provider=world["dept_b"].org_id)["items"]] == ["201002/000001"]
    assert [r["code"] for r in bank.search(classification="2")["items"]] == ["201002/000001"]
    assert [r["code"] for r in bank.search(update_cycle="realtime")["items"]] == ["201002/000001"]
    assert bank.search("不存在的词语")["items"] == []


def test_search_pages_with_cursor_and_link(world: World) -> None:
    """Pages continue through the cursor given in the body and in the `Link` header."""
    _seed(world)
    bank = world["bank"].client
    first = bank.request("GET", "/catalog/resources", params={"limit": 2})
    assert first.status_code == 200
    assert 'rel="next"' in first.headers["link"]
    body = first.json()
    assert len(body["items"]) == 2
    second = bank.search(limit=2, cursor=body["next_cursor"])
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    seen = [r["code"] for r in body["items"] + second["items"]]
    assert sorted(seen) == ["201002/000001", "301001/000001", "301001/000002"]
    problem = _problem(lambda: bank.search(cursor="garbage"))
    assert (problem.status, problem.code) == (422, "exchange.invalid_cursor")


def test_dcat_export(world: World) -> None:
    """The catalogue exports as DCAT 3 JSON-LD with DCAT-AP mandatory properties and ODRL offers."""
    _seed(world)
    response = world["bank"].client.request("GET", "/catalog.jsonld")
    assert response.headers["content-type"].startswith("application/ld+json")
    doc = response.json()
    assert doc["@type"] == "dcat:Catalog" and doc["dct:title"] and doc["dct:description"]
    datasets = {d["dct:identifier"]: d for d in doc["dcat:dataset"]}
    assert set(datasets) == {"301001/000001", "301001/000002", "201002/000001"}
    for ds in datasets.values():
        assert ds["@type"] == "dcat:Dataset"
        assert ds["dct:title"]["@value"] and ds["dct:description"]["@value"]
        assert ds["dct:publisher"]["dct:identifier"]
        assert ds["odrl:hasPolicy"]["@type"] == "Offer"
    conditional = datasets["301001/000001"]["odrl:hasPolicy"]
    assert conditional["description"] == "仅用于信用评估，不得向第三方提供"
    assert datasets["201002/000001"]["dct:accrualPeriodicity"]["@id"].endswith("/CONT")
