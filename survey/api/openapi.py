"""The OpenAPI 3.1 document of ``/api/v1``, built here next to the routes it describes and served at
``/api/v1/openapi.json`` without a token.

Schemas are strict (``additionalProperties: false``), so the contract test (``tests/api/test_contract.py``),
which validates real responses of every documented operation against them, notices any field added to
or dropped from a response without the document following.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from werkzeug.wrappers import Response

from analytics.tables import KINDS
from survey.api import bp
from survey.api.params import DEFAULT_PER_PAGE, MAX_PER_PAGE
from survey.api.problems import PROBLEM_JSON, TYPES, json_response
from survey.models.codes import AGENCY_KINDS
from survey.services.exports.responses import STATUSES

VERSION = "1.0.0"

DESCRIPTION = """\
Satisfaction indices (SIPAS) of public administrative services, with their confidence intervals,
reliability flags and method; the agencies, counters and questionnaires behind them; response-level
data for statisticians; monthly transaction volumes (the weighting base); and the PAR
sociological-survey report.

**Authentication.** Every operation except this document needs a personal API token:
`Authorization: Bearer sipas_…`. Create one when signed in, under *API tokens* (`/account/tokens`);
it is shown once. A token acts with its user's roles and agency scope, and stops working when it
expires, is revoked, or its user is deactivated. Session cookies are not accepted, and API responses
never set cookies.

**Scope.** An agency outside the token's scope answers 404 (its existence is not confirmed); an
operation that needs a capability the user's roles do not give answers 403.

**Pagination.** Lists take `page` (from 1) and `per_page` (1–500, default 100), are ordered by a
unique key (codes; code and version), and say `total`, `pages` and `next_page`. `/responses` is
keyset-paged instead: pass the previous page's `next_after` as `after` until it is `null`; a page never
shifts when responses arrive meanwhile.

**Errors** are `application/problem+json` (RFC 9457) with `type`, `title`, `status`, `detail`, and for
invalid parameters or files an `errors` list naming each one. Unknown query parameters are errors.

**Rate limits.** Each token has its own limit (`SIPAS_API_RATE_LIMIT`, by default 120 requests per
minute); beyond it, 429 with `Retry-After`.

**Numbers.** Shares and indices are fractions (0–1); mean scores are on the questionnaire's scale.
A value the engine could not estimate is `null`. Every estimate carries its flags: a flag with
`suppress: true` means the value should not be published.
"""


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """A closed object: every listed property required unless ``required`` says otherwise."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
        **extra,
    }


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
MONTH = {"type": "string", "pattern": r"^\d{4}-\d{2}$"}
STRINGS = {"type": "array", "items": STRING}


def _page_of(item: str) -> dict[str, Any]:
    return _obj(
        {
            "items": {"type": "array", "items": _ref(item)},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 1},
            "next_page": _nullable("integer", description="The page after this one, or null on the last page."),
        },
        description=f"One page of {item} items.",
    )


AGENCY = {
    "code": {**STRING, "description": "Stable code used in URLs, imports and exports."},
    "kind": {"type": "string", "enum": list(AGENCY_KINDS)},
    "name_vi": STRING,
    "name_en": _nullable("string"),
    "parent": _nullable("string", description="Code of the parent agency (null for a province or ministry)."),
    "admin_unit": {**STRING, "description": "Official code of the agency's administrative unit."},
    "active": BOOLEAN,
}

SCHEMAS: dict[str, Any] = {
    "Problem": _obj(
        {
            "type": {"type": "string", "enum": list(TYPES)},
            "title": STRING,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": STRING,
            "instance": {**STRING, "description": "The path that was asked for."},
            "errors": {"type": "array", "items": _ref("ProblemError"), "minItems": 1},
        },
        required=["type", "title", "status", "detail"],
        description="RFC 9457 problem details.",
    ),
    "ProblemError": _obj(
        {
            "name": {**STRING, "description": "The parameter or field."},
            "in": {"type": "string", "enum": ["query", "path", "body"]},
            "row": {"type": "integer", "minimum": 0, "description": "Row of the file (1 = header; 0 = whole file)."},
            "detail": STRING,
        },
        required=["detail"],
    ),
    "Agency": _obj(AGENCY),
    "AgencyDetail": _obj(
        {
            **AGENCY,
            "children": {**STRINGS, "description": "Codes of the child agencies in the token's scope."},
            "counters": {"type": "integer", "minimum": 0, "description": "How many counters the agency has."},
        }
    ),
    "AgencyPage": _page_of("Agency"),
    "AgencyRef": _obj({"code": STRING, "name_vi": STRING, "name_en": _nullable("string")}),
    "InstrumentRef": _obj({"code": STRING, "version": {"type": "integer", "minimum": 1}}),
    "Counter": _obj(
        {
            "code": {**STRING, "description": "Stable within the agency; survives renames."},
            "name_vi": STRING,
            "name_en": _nullable("string"),
            "active": BOOLEAN,
            "instrument": _ref("InstrumentRef"),
        }
    ),
    "CounterPage": _page_of("Counter"),
    "Instrument": _obj(
        {
            "code": STRING,
            "version": {"type": "integer", "minimum": 1},
            "label": {**STRING, "description": "Code and version, e.g. 'sipas-2017 v1'."},
            "name_vi": STRING,
            "name_en": STRING,
            "method": {**STRING, "description": "Legal basis or method reference."},
            "aspect": _nullable("string"),
            "valid_from": DATE,
            "valid_to": _nullable("string", format="date"),
            "definition": {"type": "string", "enum": ["A", "B", "C"], "description": "Composite index definition."},
            "scale": _obj(
                {
                    "levels": {
                        "type": "array",
                        "items": _obj({"value": INTEGER, "label_vi": STRING, "label_en": STRING}),
                    },
                    "satisfied_from": {**INTEGER, "description": "The first level counted as satisfied."},
                    "not_applicable": _obj({"label_vi": STRING, "label_en": STRING}),
                }
            ),
            "elements": {
                "type": "array",
                "items": _obj(
                    {
                        "code": STRING,
                        "name_vi": STRING,
                        "name_en": STRING,
                        "weight": NUMBER,
                        "items": {
                            "type": "array",
                            "items": _obj(
                                {
                                    "code": STRING,
                                    "text_vi": STRING,
                                    "text_en": STRING,
                                    "optional": BOOLEAN,
                                    "allows_na": BOOLEAN,
                                    "weight": NUMBER,
                                }
                            ),
                        },
                    }
                ),
            },
        }
    ),
    "InstrumentPage": _page_of("Instrument"),
    "Period": _obj(
        {
            "kind": {"type": "string", "enum": ["month", "quarter", "year", "custom"]},
            "from": DATE,
            "to": {**DATE, "description": "Inclusive."},
        }
    ),
    "Flag": _obj(
        {
            "code": {**STRING, "description": "Stable code, e.g. suppress_small_n_eff, low_df, boundary."},
            "reason": STRING,
            "suppress": {**BOOLEAN, "description": "True: the value should not be published."},
        }
    ),
    "Estimate": _obj(
        {
            "target": {**STRING, "description": "'overall', an element code or an item code."},
            "target_type": {"type": "string", "enum": ["overall", "element", "item"]},
            "kind": {"type": "string", "enum": ["share", "mean"], "description": "Share satisfied, or mean score."},
            "estimate": _nullable("number"),
            "se": _nullable("number", description="Design-based standard error."),
            "ci": _obj({"lower": _nullable("number"), "upper": _nullable("number"), "level": NUMBER}),
            "ci_method": STRING,
            "n": {"type": "integer", "minimum": 0},
            "n_eff": _nullable("number", description="Effective sample size."),
            "df": {**INTEGER, "description": "Design degrees of freedom."},
            "deff": _nullable("number", description="Design effect."),
            "flags": {"type": "array", "items": _ref("Flag")},
            "suppressed": BOOLEAN,
            "definition": STRING,
        }
    ),
    "IndexMethod": _obj(
        {
            "questionnaire": {**STRING, "description": "Instrument code and version."},
            "instrument": _ref("InstrumentRef"),
            "period": _ref("Period"),
            "domain": {"type": "string", "enum": ["agency", "counter", "field"]},
            "weighting": STRING,
            "design": STRING,
            "definition": STRING,
            "ci_methods": {"type": "object", "additionalProperties": STRING},
            "level": NUMBER,
            "n_strata": _nullable("integer"),
            "n_psus": _nullable("integer"),
            "notes": STRINGS,
            "computed_at": DATETIME,
        }
    ),
    "Domain": _obj(
        {
            "type": {"type": "string", "enum": ["agency", "counter", "field"]},
            "code": _nullable("string", description="Counter or field code (null: none given)."),
            "name_vi": STRING,
            "name_en": _nullable("string"),
            "responses": {"type": "integer", "minimum": 0},
        },
        required=["type"],
    ),
    "IndexResult": _obj(
        {
            "agency": _ref("AgencyRef"),
            "domain": _ref("Domain"),
            "method": _ref("IndexMethod"),
            "estimates": {"type": "array", "items": _ref("Estimate")},
        }
    ),
    "Indices": _obj({"results": {"type": "array", "items": _ref("IndexResult")}}),
    "Category": _obj({"code": INTEGER, "value": STRING, "label_vi": STRING, "label_en": STRING}),
    "Column": _obj(
        {
            "name": STRING,
            "label_vi": STRING,
            "label_en": STRING,
            "kind": {"type": "string", "enum": list(KINDS)},
            "categories": {"type": "array", "items": _ref("Category")},
            "note": STRING,
        }
    ),
    "ResponseRow": {
        "type": "object",
        "description": "One response: the columns listed in 'columns' (items are named by their codes).",
        "properties": {
            "response_id": INTEGER,
            "submission_id": {"type": "string", "format": "uuid"},
            "agency": STRING,
            "counter": _nullable("string"),
            "admin_unit": _nullable("string"),
            "field": _nullable("string"),
            "date": DATE,
            "period": MONTH,
            "instrument": STRING,
            "instrument_version": INTEGER,
            "status": {"type": "string", "enum": ["valid", "excluded"]},
            "exclusion_reason": _nullable("string"),
            "weight": _nullable("number", description="Final weight; null for excluded responses."),
            "stratum": STRING,
            "psu": STRING,
        },
        "required": ["response_id", "submission_id", "agency", "date", "status", "weight", "stratum", "psu"],
        "additionalProperties": {"type": ["string", "integer", "number", "null"]},
    },
    "ResponsePage": _obj(
        {
            "items": {"type": "array", "items": _ref("ResponseRow")},
            "total": {"type": "integer", "minimum": 0, "description": "Responses matching the filters."},
            "after": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1},
            "next_after": _nullable("integer", description="Pass as 'after' for the next page; null: no more."),
            "columns": {"type": "array", "items": _ref("Column")},
            "method": _obj(
                {
                    "questionnaire": STRING,
                    "instrument": _ref("InstrumentRef"),
                    "period": _obj({"from": DATE, "to": DATE}),
                    "weighting": STRING,
                    "design": STRING,
                    "notes": STRINGS,
                    "filters": {"type": "object"},
                }
            ),
        }
    ),
    "Volume": _obj(
        {
            "agency": STRING,
            "counter": _nullable("string"),
            "field": STRING,
            "month": MONTH,
            "transactions": {"type": "integer", "minimum": 0},
            "source": STRING,
            "recorded_at": DATETIME,
        }
    ),
    "VolumePage": _page_of("Volume"),
    "VolumeImport": _obj(
        {
            "rows_imported": {"type": "integer", "minimum": 0},
            "months_replaced": {"type": "integer", "minimum": 0},
            "agencies": STRINGS,
            "months": {"type": "array", "items": MONTH},
        }
    ),
    "ParAgency": _obj(
        {
            "rank": INTEGER,
            "agency": STRING,
            "agency_name": STRING,
            "index_pct": _nullable("number"),
            "index_ci_low_pct": _nullable("number"),
            "index_ci_high_pct": _nullable("number"),
            "n": INTEGER,
            "flags": STRINGS,
            "points": {"type": "object", "additionalProperties": _nullable("number")},
            "total_points": _nullable("number"),
            "total_ci_low": _nullable("number"),
            "total_ci_high": _nullable("number"),
            "max_points": NUMBER,
            "vs_province": {"type": "string", "enum": ["above", "below", "not significant"]},
            "p_vs_province": _nullable("number"),
            "significantly_above": STRINGS,
            "significantly_below": STRINGS,
        }
    ),
    "ParReport": _obj(
        {
            "province": _ref("AgencyRef"),
            "scheme": _obj(
                {
                    "jurisdiction": STRING,
                    "year": INTEGER,
                    "example": {**BOOLEAN, "description": "True: an illustrative scheme, not an official allocation."},
                    "stored": {**BOOLEAN, "description": "False: no scheme is stored; the shipped example was used."},
                    "title_vi": STRING,
                    "title_en": STRING,
                    "source": STRING,
                    "max_points": NUMBER,
                    "criteria": {
                        "type": "array",
                        "items": _obj(
                            {
                                "code": STRING,
                                "name_vi": STRING,
                                "name_en": STRING,
                                "max_points": NUMBER,
                                "index": STRING,
                                "conversion": STRING,
                            }
                        ),
                    },
                }
            ),
            "method": _obj(
                {
                    "questionnaire": STRING,
                    "period": _ref("Period"),
                    "weighting": STRING,
                    "design": STRING,
                    "definition": STRING,
                    "ci_methods": {"type": "object", "additionalProperties": STRING},
                    "level": NUMBER,
                    "points": STRING,
                    "comparisons": STRING,
                    "notes": STRINGS,
                    "computed_at": DATETIME,
                }
            ),
            "agencies": {"type": "array", "items": _ref("ParAgency")},
            "unscored": {**STRINGS, "description": "Agencies with responses but without every index the scheme needs."},
        }
    ),
}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema or STRING}


PARAMETERS: dict[str, Any] = {
    "page": _query("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "default": 1}),
    "per_page": _query(
        "per_page",
        "Items per page.",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
    ),
    "code": {"name": "code", "in": "path", "required": True, "description": "Agency code.", "schema": STRING},
    "agencies": _query(
        "agency",
        "Agency codes, comma-separated or repeated. Each must be in the token's scope (404 otherwise).",
    ),
    "instrument": _query("instrument", "Questionnaire: 'code' or 'code:version' (e.g. sipas-2017:1)."),
    "from": _query("from", "First day (YYYY-MM-DD); give 'to' too.", DATE),
    "to": _query("to", "Last day, inclusive (YYYY-MM-DD); give 'from' too.", DATE),
    "period": _query(
        "period",
        "A year (2026), month (2026-09) or quarter (2026-Q3), instead of from/to.",
        {"type": "string", "pattern": r"^\d{4}(-\d{2}|-?[Qq][1-4])?$"},
    ),
}

PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": _ref("Problem")}}


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": PROBLEM_CONTENT}
    if headers:
        out["headers"] = headers
    return out


RESPONSES: dict[str, Any] = {
    "Unauthorized": _problem(
        "No token, or an unknown, revoked or expired token, or its account is deactivated.",
        {"WWW-Authenticate": {"schema": STRING, "description": 'Bearer realm="SIPAS API"'}},
    ),
    "Forbidden": _problem("The user's roles do not give the capability this operation needs."),
    "NotFound": _problem("No such agency, or it is outside the token's scope."),
    "Invalid": _problem("A parameter is not valid, or there are no data for the request; see 'errors'."),
    "TooManyRequests": _problem(
        "The token's rate limit is used up.",
        {"Retry-After": {"schema": INTEGER, "description": "Seconds to wait."}},
    ),
    "Error": _problem("Any other error (e.g. 400, 405, 413, 415 or 500), as problem details."),
}


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _operation(
    op_id: str,
    summary: str,
    description: str,
    ok: dict[str, Any],
    parameters: list[dict[str, Any]],
    errors: tuple[str, ...],
    tag: str,
) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok, "401": {"$ref": "#/components/responses/Unauthorized"}}
    names = {"403": "Forbidden", "404": "NotFound", "422": "Invalid"}
    for code in errors:
        responses[code] = {"$ref": f"#/components/responses/{names[code]}"}
    responses["429"] = {"$ref": "#/components/responses/TooManyRequests"}
    responses["default"] = {"$ref": "#/components/responses/Error"}
    return {
        "operationId": op_id,
        "summary": summary,
        "description": description,
        "tags": [tag],
        "parameters": parameters,
        "responses": responses,
    }


def _p(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


PAGING = [_p("page"), _p("per_page")]
PERIOD = [_p("from"), _p("to"), _p("period")]


def _paths() -> dict[str, Any]:
    return {
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "description": "The OpenAPI 3.1 description of this API. No token needed.",
                "tags": ["meta"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "The document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "default": {"$ref": "#/components/responses/Error"},
                },
            }
        },
        "/agencies": {
            "get": _operation(
                "listAgencies",
                "Agencies in scope",
                "Every agency the token may read (capability view_dashboard), by code.",
                _ok("AgencyPage", "A page of agencies."),
                PAGING,
                ("403", "422"),
                "agencies",
            )
        },
        "/agencies/{code}": {
            "get": _operation(
                "getAgency",
                "One agency",
                "The agency, its child agencies in scope and its number of counters.",
                _ok("AgencyDetail", "The agency."),
                [_p("code")],
                ("403", "404", "422"),
                "agencies",
            )
        },
        "/agencies/{code}/counters": {
            "get": _operation(
                "listCounters",
                "Counters of an agency",
                "The agency's counters (open and closed), by code, with the questionnaire each uses.",
                _ok("CounterPage", "A page of counters."),
                [_p("code"), *PAGING],
                ("403", "404", "422"),
                "agencies",
            )
        },
        "/instruments": {
            "get": _operation(
                "listInstruments",
                "Questionnaires",
                "Every questionnaire version with its answer scale, elements and items, in Vietnamese and English.",
                _ok("InstrumentPage", "A page of questionnaires."),
                [*PAGING, _query("code", "Only this questionnaire code (every version).")],
                ("422",),
                "instruments",
            )
        },
        "/indices": {
            "get": _operation(
                "getIndices",
                "Satisfaction indices",
                "Shares satisfied and mean scores (overall, per element and per item) with standard errors, "
                "confidence intervals, flags and the method, for each agency asked for (default: the top of the "
                "token's scope). Computed as on the dashboards: one estimation over the agency's whole province, "
                "every agency a stratum and counter-days as PSUs; a province's figures are its whole territory. "
                "domain=counter or domain=field gives the overall index of each counter or field of the agency. "
                "The default period is the quarter of the latest response; the default questionnaire the one "
                "with most responses. Capability view_dashboard.",
                _ok("Indices", "One result per agency (or per counter or field)."),
                [
                    _p("agencies"),
                    _p("instrument"),
                    *PERIOD,
                    _query(
                        "domain",
                        "agency (default), counter or field.",
                        {"type": "string", "enum": ["agency", "counter", "field"], "default": "agency"},
                    ),
                    _query("target", "Only these targets: overall, element or item codes (comma-separated)."),
                    _query("kind", "share and/or mean (comma-separated; default both)."),
                ],
                ("403", "404", "422"),
                "indices",
            )
        },
        "/responses": {
            "get": _operation(
                "listResponses",
                "Responses (statisticians)",
                "One row per response with the columns of the file exports: ids, agency, counter, "
                "administrative unit, field, date, period, questionnaire, answers (items by code; 8 = not "
                "applicable, 9 = not answered), profile, status and exclusion reason, final weight, stratum and "
                "PSU; 'columns' gives each variable's labels and value labels. Keyset-paged by response id. "
                "The first page of a read is audit-logged. Capability export_data.",
                _ok("ResponsePage", "A page of responses."),
                [
                    _p("agencies"),
                    _p("instrument"),
                    *PERIOD,
                    _query(
                        "status",
                        "valid (default), excluded or all.",
                        {"type": "string", "enum": list(STATUSES), "default": "valid"},
                    ),
                    _query(
                        "comments",
                        "Include the (scrubbed) comments column.",
                        {"type": "string", "enum": ["true", "false"], "default": "false"},
                    ),
                    _query("after", "Return responses with ids above this one.", {"type": "integer", "minimum": 0}),
                    _query(
                        "limit",
                        "Responses per page.",
                        {"type": "integer", "minimum": 1, "maximum": 1000, "default": 500},
                    ),
                ],
                ("403", "404", "422"),
                "responses",
            )
        },
        "/volumes": {
            "get": _operation(
                "listVolumes",
                "Transaction volumes",
                "Completed transactions per agency (optionally counter) × field × month: the weighting base. "
                "Capability import_volumes.",
                _ok("VolumePage", "A page of volumes."),
                [
                    *PAGING,
                    _p("agencies"),
                    _query("from", "First month (YYYY-MM).", MONTH),
                    _query("to", "Last month (YYYY-MM).", MONTH),
                ],
                ("403", "404", "422"),
                "volumes",
            ),
            "post": {
                **_operation(
                    "importVolumes",
                    "Import transaction volumes",
                    "A CSV (UTF-8, comma, semicolon or tab separated) or Excel (.xlsx) file with the columns "
                    "agency_code, counter_code (optional), field_code, month (YYYY-MM) and count. The whole file is "
                    "checked first: any problem refuses it with every problem and its row (422), nothing written. "
                    "A valid file replaces the figures of the (agency, month) sets it contains. Capability "
                    "import_volumes.",
                    _ok("VolumeImport", "What was imported."),
                    [],
                    ("403", "422"),
                    "volumes",
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": _obj({"file": {"type": "string", "contentMediaType": "application/octet-stream"}})
                        }
                    },
                },
            },
        },
        "/par-report": {
            "get": _operation(
                "getParReport",
                "PAR sociological-survey report",
                "Every agency of the province with its index, interval, n, flags, points per criterion, total "
                "points with interval, rank, and whether it differs significantly from the province. Uses the "
                "province's stored scheme for the year, or the shipped example when none is stored ('stored': "
                "false; an example is never an official allocation). Default: the year of the latest response. "
                "Capability manage_par.",
                _ok("ParReport", "The report."),
                [
                    _query("province", "Province or ministry code (optional when the token has only one)."),
                    _query("year", "The scheme's year (default: the period's).", {"type": "integer"}),
                    _p("instrument"),
                    *PERIOD,
                ],
                ("403", "404", "422"),
                "par",
            )
        },
    }


@cache
def document() -> dict[str, Any]:
    """The whole OpenAPI document (built once per process)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SIPAS API",
            "version": VERSION,
            "description": DESCRIPTION,
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerToken": []}],
        "tags": [
            {"name": "agencies"},
            {"name": "instruments"},
            {"name": "indices"},
            {"name": "responses"},
            {"name": "volumes"},
            {"name": "par"},
            {"name": "meta"},
        ],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "sipas_ followed by 43 characters",
                    "description": "A personal API token, created under /account/tokens.",
                }
            },
            "parameters": PARAMETERS,
            "responses": RESPONSES,
            "schemas": SCHEMAS,
        },
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return json_response(document())
