"""Contract: the OpenAPI document is valid, and real answers of every documented operation match it.

Every documented operation is called for at least one success and one error; each answer's status must be
documented for the operation (or fall under ``default``) and its body must validate against the schema
the document gives for it. Every API route must be documented, and every documented path must exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.api.conftest import Api

VOLUMES_CSV = "agency_code,counter_code,field_code,month,count\nso-tu-phap,,ly-lich-tu-phap,2026-05,123\n"
BAD_CSV = "agency_code,field_code,month,count\nso-tu-phap,khong-co,2026-13,-4\nso-tai-chinh,doanh-nghiep,2026-05,x\n"


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class Contract:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.registry = Registry().with_resource(
            "urn:sipas-openapi", Resource.from_contents(doc, default_specification=DRAFT202012)
        )
        self.seen: dict[tuple[str, str], set[int]] = {}

    def _deref(self, node: dict[str, Any]) -> tuple[dict[str, Any], str]:
        ref = node.get("$ref")
        if ref is None:
            return node, ""
        target: Any = self.doc
        for part in ref.removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return target, ref.removeprefix("#")

    def check(self, path: str, method: str, reply: Any) -> None:
        operation = self.doc["paths"][path][method]
        status = str(reply.status_code)
        key = status if status in operation["responses"] else "default"
        if reply.status_code < 500 and reply.status_code not in (405, 413, 415):
            assert key != "default", f"{method.upper()} {path} answered {status}, which it does not document"
        documented, ref = self._deref(operation["responses"][key])
        content_type = reply.mimetype
        assert content_type in documented["content"], f"{method} {path} {status}: {content_type} not documented"
        if ref:
            location = f"urn:sipas-openapi#{ref}/content/{_pointer(content_type)}/schema"
        else:
            location = "urn:sipas-openapi#/" + _pointer(
                "paths", path, method, "responses", key, "content", content_type, "schema"
            )
        validator = Draft202012Validator(
            {"$ref": location}, registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        errors = sorted(validator.iter_errors(reply.get_json()), key=lambda e: list(e.path))
        assert not errors, f"{method.upper()} {path} {status}: " + "; ".join(
            f"{list(e.path)}: {e.message[:300]}" for e in errors[:5]
        )
        for header in documented.get("headers", {}):
            assert header in reply.headers, f"{method} {path} {status}: no {header} header"
        self.seen.setdefault((path, method), set()).add(reply.status_code)


@pytest.fixture
def contract(api: Api) -> Contract:
    reply = api.get("openapi.json")
    assert reply.status_code == 200
    return Contract(reply.get_json())


def test_the_document_is_valid_openapi_3_1(contract: Contract) -> None:
    validate(contract.doc)
    assert contract.doc["openapi"].startswith("3.1")


def test_every_api_route_is_documented_and_every_documented_path_exists(staff_app: Flask, contract: Contract) -> None:
    routes = set()
    for rule in staff_app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(p, m) for p, ops in contract.doc["paths"].items() for m in ops}
    assert routes == documented


def test_every_operation_answers_as_documented(
    api: Api, contract: Contract, token_for: Callable[[str], str], new_user: Callable[..., Any]
) -> None:
    from tests.api.conftest import user_token

    admin = token_for("system_admin")
    province = token_for("province_admin")
    viewer = token_for("agency_viewer")  # hoa-lu
    auditor = token_for("auditor")
    manager = token_for("agency_manager")  # so-tu-phap
    statistician = user_token(new_user("statistician", "so-tu-phap"))
    cases: list[tuple[str, str, str, str | None, int, dict[str, Any]]] = [
        ("/openapi.json", "get", "openapi.json", None, 200, {}),
        ("/agencies", "get", "agencies", admin, 200, {}),
        ("/agencies", "get", "agencies?per_page=2&page=3", viewer, 200, {}),
        ("/agencies", "get", "agencies", None, 401, {}),
        ("/agencies", "get", "agencies", "sipas_not-a-real-token", 401, {}),
        ("/agencies", "get", "agencies", auditor, 403, {}),
        ("/agencies", "get", "agencies?page=0", admin, 422, {}),
        ("/agencies/{code}", "get", "agencies/so-tu-phap", admin, 200, {}),
        ("/agencies/{code}", "get", "agencies/ninh-binh", province, 200, {}),
        ("/agencies/{code}", "get", "agencies/so-tu-phap", viewer, 404, {}),
        ("/agencies/{code}", "get", "agencies/so-tu-phap", auditor, 403, {}),
        ("/agencies/{code}", "get", "agencies/so-tu-phap?x=1", admin, 422, {}),
        ("/agencies/{code}", "get", "agencies/so-tu-phap", None, 401, {}),
        ("/agencies/{code}/counters", "get", "agencies/so-tu-phap/counters", manager, 200, {}),
        ("/agencies/{code}/counters", "get", "agencies/so-tu-phap/counters", viewer, 404, {}),
        ("/agencies/{code}/counters", "get", "agencies/so-tu-phap/counters?per_page=x", admin, 422, {}),
        ("/agencies/{code}/counters", "get", "agencies/so-tu-phap/counters", auditor, 403, {}),
        ("/agencies/{code}/counters", "get", "agencies/so-tu-phap/counters", None, 401, {}),
        ("/instruments", "get", "instruments", auditor, 200, {}),
        ("/instruments", "get", "instruments?code=sipas-2017", admin, 200, {}),
        ("/instruments", "get", "instruments?code=zzz", admin, 422, {}),
        ("/instruments", "get", "instruments", None, 401, {}),
        ("/indices", "get", "indices", viewer, 200, {}),
        ("/indices", "get", "indices?agency=so-tu-phap,so-tai-chinh&period=2026", admin, 200, {}),
        ("/indices", "get", "indices?agency=ninh-binh&period=2026-Q3&target=overall,q01", province, 200, {}),
        ("/indices", "get", "indices?agency=so-tu-phap&domain=counter&period=2026", manager, 200, {}),
        ("/indices", "get", "indices?agency=ninh-binh&domain=field&from=2026-01-01&to=2026-06-30", admin, 200, {}),
        ("/indices", "get", "indices?agency=so-tu-phap", viewer, 404, {}),
        ("/indices", "get", "indices", auditor, 403, {}),
        ("/indices", "get", "indices?from=2026-02-30&to=2026-03-01", admin, 422, {}),
        ("/indices", "get", "indices?period=2001", admin, 422, {}),
        ("/indices", "get", "indices?instrument=zzz", admin, 422, {}),
        ("/indices", "get", "indices", None, 401, {}),
        ("/responses", "get", "responses?instrument=sipas-2017&limit=3", statistician, 200, {}),
        ("/responses", "get", "responses?instrument=sipas-2017&status=all&comments=true&limit=2", admin, 200, {}),
        ("/responses", "get", "responses?agency=so-tai-chinh&instrument=sipas-2017", statistician, 404, {}),
        ("/responses", "get", "responses", viewer, 403, {}),
        ("/responses", "get", "responses?instrument=zzz", admin, 422, {}),
        ("/responses", "get", "responses?limit=0&instrument=sipas-2017", admin, 422, {}),
        ("/responses", "get", "responses?instrument=sipas-2017&period=2001", admin, 422, {}),
        ("/responses", "get", "responses", None, 401, {}),
        ("/volumes", "get", "volumes?per_page=5", admin, 200, {}),
        ("/volumes", "get", "volumes?agency=so-tu-phap&from=2026-01&to=2026-06", manager, 200, {}),
        ("/volumes", "get", "volumes?agency=so-tai-chinh", manager, 404, {}),
        ("/volumes", "get", "volumes", viewer, 403, {}),
        ("/volumes", "get", "volumes?from=2026-13", admin, 422, {}),
        ("/volumes", "get", "volumes", None, 401, {}),
        ("/volumes", "post", "volumes", manager, 200, {"data": {"file": (_file(VOLUMES_CSV), "v.csv")}}),
        ("/volumes", "post", "volumes", manager, 422, {"data": {"file": (_file(BAD_CSV), "v.csv")}}),
        ("/volumes", "post", "volumes", manager, 415, {"json": {"file": "no"}}),
        ("/volumes", "post", "volumes", viewer, 403, {"data": {"file": (_file(VOLUMES_CSV), "v.csv")}}),
        ("/volumes", "post", "volumes", None, 401, {}),
        ("/par-report", "get", "par-report?year=2026", province, 200, {}),
        ("/par-report", "get", "par-report?province=ninh-binh&period=2026-Q3&instrument=sipas-2017", admin, 200, {}),
        ("/par-report", "get", "par-report?province=tinh-khong-co", admin, 404, {}),
        ("/par-report", "get", "par-report?province=so-tu-phap", admin, 422, {}),
        ("/par-report", "get", "par-report", viewer, 403, {}),
        ("/par-report", "get", "par-report", None, 401, {}),
    ]
    for path, method, url, token, status, kwargs in cases:
        reply = api.open(url, method.upper(), token, **kwargs)
        assert reply.status_code == status, f"{method.upper()} {url}: {reply.status_code} {reply.get_data(True)[:400]}"
        contract.check(path, method, reply)
    for (path, method), statuses in contract.seen.items():
        assert any(s < 300 for s in statuses), f"{method} {path}: no success checked"
        if path != "/openapi.json":
            assert any(s >= 400 for s in statuses), f"{method} {path}: no error checked"
    documented = {(p, m) for p, ops in contract.doc["paths"].items() for m in ops}
    assert set(contract.seen) == documented


def test_unknown_urls_and_methods_answer_problem_details(api: Api, contract: Contract) -> None:
    problem = Draft202012Validator(
        {"$ref": "urn:sipas-openapi#/components/schemas/Problem"}, registry=contract.registry
    )
    for method, url, status in [
        ("GET", "/api/v1/khong-co", 404),
        ("GET", "/api/v1/agencies/so-tu-phap/counters/quay-01", 404),
        ("POST", "/api/v1/agencies", 405),
        ("DELETE", "/api/v1/volumes", 405),
    ]:
        reply = api.open(url, method)
        assert reply.status_code == status
        assert reply.mimetype == "application/problem+json"
        problem.validate(reply.get_json())
    assert "GET" in api.open("/api/v1/agencies", "POST").headers["Allow"]


def _file(text: str) -> Any:
    import io

    return io.BytesIO(text.encode("utf-8"))
