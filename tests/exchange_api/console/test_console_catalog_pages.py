"""The catalogue pages: search, an entry with its versions, applying through the page."""

from __future__ import annotations

import re

from api_support import TEMPLATE, World, entry
from console_support import csrf_of, sign_in

from exchange_api.console.catalog import template_choices

CODE = "301001/000001"


def _register(world: World, code: str = CODE, member: str = "dept_a", **changes: object) -> None:
    world[member].client.register(entry(code, **changes))


def _apply_form(page: str, **changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "csrf": csrf_of(page),
        "purpose": "小微企业信用贷款风险评估",
        "requested_items": ["企业名称", "注册资本"],
        "computation_kinds": ["aggregate"],
        "templates": [template_choices()[0][0]],
        "other_templates": "",
        "duration_days": "90",
    }
    form.update(changes)
    return form


def test_search_finds_an_entry_by_a_chinese_word(world: World) -> None:
    """A Chinese word of the name finds the entry; an unrelated word finds nothing."""
    _register(world)
    _register(world, "301001/000002", name="道路运输许可", summary="运输许可证照信息")
    sign_in(world.http, world["bank"].key)
    page = world.http.get("/console/catalog", params={"q": "登记"})
    assert page.status_code == 200
    assert 'data-code="301001/000001"' in page.text and 'data-code="301001/000002"' not in page.text
    assert "企业登记基础信息" in page.text and "有条件共享" in page.text
    assert "仅用于信用评估" in page.text  # the conditions are shown with the result
    assert 'href="/console/catalog/301001/000001"' in page.text
    assert 'data-testid="catalog-empty"' in world.http.get("/console/catalog", params={"q": "气象"}).text


def test_filters_and_cursor_pagination(world: World) -> None:
    """The share-type filter narrows the list and a next link continues after the first page."""
    for n in range(1, 23):
        _register(world, f"301001/{n:06d}", share_type="unconditional", share_conditions=None)
    _register(world, "301001/000099")
    sign_in(world.http, world["bank"].key)
    conditional = world.http.get("/console/catalog", params={"share_type": "conditional"})
    assert conditional.text.count('data-testid="catalog-row"') == 1
    first = world.http.get("/console/catalog", params={"share_type": "unconditional", "q": ""})
    assert first.text.count('data-testid="catalog-row"') == 20
    found = re.search(r'href="([^"]+)" class="button" data-testid="catalog-next"', first.text)
    assert found, "no next link"
    second = world.http.get(found.group(1).replace("&amp;", "&"))
    assert second.text.count('data-testid="catalog-row"') == 2
    assert 'data-testid="catalog-next"' not in second.text


def test_detail_shows_fields_and_versions(world: World) -> None:
    """An entry's page shows its fields and every version with its hash and anchored state."""
    _register(world)
    world["dept_a"].client.publish_version(
        CODE, {k: v for k, v in entry(name="企业登记信息（第二版）").items() if k != "code"}
    )
    world.relay.drain()
    versions = world["bank"].client.call("GET", f"/catalog/resources/{CODE}/versions")
    sign_in(world.http, world["bank"].key)
    page = world.http.get(f"/console/catalog/{CODE}")
    assert page.status_code == 200
    assert "企业登记信息（第二版）" in page.text
    assert page.text.count('data-testid="version-row"') == 2
    for v in versions:
        assert v["metadata_hash"] in page.text
    assert "已上链" in page.text
    assert 'data-testid="apply-form"' in page.text


def test_apply_through_the_page_creates_an_application(world: World) -> None:
    """Posting the apply form creates a conditional application, visible through the API."""
    _register(world)
    sign_in(world.http, world["bank"].key)
    page = world.http.get(f"/console/catalog/{CODE}").text
    response = world.http.post(
        f"/console/catalog/{CODE}/apply", data=_apply_form(page), follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/workspace?notice=applied"
    apps = world["bank"].client.applications(**{"as": "applicant"})["items"]
    assert len(apps) == 1
    assert (apps[0]["resource_code"], apps[0]["state"]) == (CODE, "submitted")
    assert apps[0]["requested_items"] == ["企业名称", "注册资本"]
    assert apps[0]["templates"] == [template_choices()[0][0]]


def test_department_may_apply_with_a_typed_template(world: World) -> None:
    """Another department applies too; a digest typed in the free field is taken as a template."""
    _register(world)
    sign_in(world.http, world["dept_b"].key)
    page = world.http.get(f"/console/catalog/{CODE}").text
    assert 'data-testid="apply-form"' in page
    form = _apply_form(page, templates=[], other_templates=f"{TEMPLATE}\n")
    assert (
        world.http.post(f"/console/catalog/{CODE}/apply", data=form, follow_redirects=False).status_code
        == 303
    )
    apps = world["dept_b"].client.applications(**{"as": "applicant"})["items"]
    assert apps[0]["templates"] == [TEMPLATE]


def test_an_invalid_application_is_shown_inline(world: World) -> None:
    """A form missing items and templates is re-rendered with the problems; nothing is created."""
    _register(world)
    sign_in(world.http, world["bank"].key)
    page = world.http.get(f"/console/catalog/{CODE}").text
    response = world.http.post(
        f"/console/catalog/{CODE}/apply",
        data=_apply_form(page, requested_items=[], templates=[], purpose="我的用途"),
    )
    assert response.status_code == 422
    assert 'data-testid="form-errors"' in response.text and "requested_items" in response.text
    assert "我的用途" in response.text  # what was typed is kept
    assert world["bank"].client.applications(**{"as": "applicant"})["items"] == []


def test_not_shareable_has_no_form_and_says_why(world: World) -> None:
    """A not-shareable entry shows its basis and no apply form."""
    _register(world, share_type="not_shareable", share_conditions="《统计法》第二十五条", share_methods=[])
    sign_in(world.http, world["bank"].key)
    page = world.http.get(f"/console/catalog/{CODE}").text
    assert 'data-testid="apply-form"' not in page
    assert 'data-testid="cannot-apply"' in page and "《统计法》第二十五条" in page and "不予共享" in page


def test_provider_and_auditor_get_no_form(world: World) -> None:
    """The provider does not apply for its own entry and an auditor does not apply at all."""
    _register(world)
    sign_in(world.http, world["dept_a"].key)
    assert 'data-testid="apply-form"' not in world.http.get(f"/console/catalog/{CODE}").text
    world.http.cookies.clear()
    sign_in(world.http, world["auditor"].key)
    assert 'data-testid="apply-form"' not in world.http.get(f"/console/catalog/{CODE}").text


def test_apply_without_csrf_is_refused(world: World) -> None:
    """An apply post without the session's CSRF token is a 403 page and creates nothing."""
    _register(world)
    sign_in(world.http, world["bank"].key)
    page = world.http.get(f"/console/catalog/{CODE}").text
    form = _apply_form(page)
    del form["csrf"]
    response = world.http.post(f"/console/catalog/{CODE}/apply", data=form)
    assert response.status_code == 403 and "console.csrf" in response.text
    assert world["bank"].client.applications(**{"as": "applicant"})["items"] == []


def test_unknown_entry_is_a_404_page(world: World) -> None:
    """A code nobody registered is a readable 404 page."""
    sign_in(world.http, world["bank"].key)
    response = world.http.get("/console/catalog/301001/999999")
    assert response.status_code == 404
    assert 'data-testid="problem"' in response.text and "Traceback" not in response.text


def test_catalogue_pages_render_in_both_languages(world: World) -> None:
    """Search and detail render in Chinese by default and in English on request."""
    _register(world)
    sign_in(world.http, world["bank"].key)
    assert "数据资源目录" in world.http.get("/console/catalog").text
    assert "版本历史" in world.http.get(f"/console/catalog/{CODE}").text
    english = world.http.get(f"/console/catalog/{CODE}", params={"lang": "en"}).text
    assert "Version history" in english and "Conditional share" in english
    assert "Data-resource catalogue" in world.http.get("/console/catalog").text
