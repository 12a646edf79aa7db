"""The generated OpenAPI document covers every route, and the docs page needs no CDN."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest

from copnet.gateway import schemas
from copnet.kernel.enums import GRADE_BAND_LABEL
from copnet.kernel.enums import to_label
from copnet.membership.v1 import membership_pb2
from tests.unit.gateway_fakes import make_app

# flask-openapi3's own routes (the document and the docs UI) and plugins' blueprints are not
# operations of the documented API.
DOC_ENDPOINT_PREFIXES = ("openapi.", "swagger.", "plugin.")
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture(scope="module")
def app():
    return make_app()


@pytest.fixture(scope="module")
def document(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def api_rules(app):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(DOC_ENDPOINT_PREFIXES):
            yield rule


def openapi_path(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_route_is_in_the_document_with_its_methods(app, document):
    rules = list(api_rules(app))
    assert any(rule.rule.startswith("/api/v1/") for rule in rules)
    for rule in rules:
        path = openapi_path(rule)
        assert path in document["paths"], f"{rule.rule} is not documented"
        for method in rule.methods & HTTP_METHODS:
            assert method.lower() in document["paths"][path], f"{method} {rule.rule} is not documented"


def test_the_document_has_no_operation_without_a_route(app, document):
    routed = {(openapi_path(rule), method.lower()) for rule in api_rules(app) for method in rule.methods}
    assert {(path, method) for path, method, _ in operations(document)} <= routed


def test_operations_have_unique_ids_success_schemas_and_problem_errors(document):
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    for path, method, operation in operations(document):
        statuses = operation["responses"]
        successes = [s for s in statuses if s.startswith("2")]
        assert successes, f"{method} {path}: no success response"
        for status in successes:
            assert "$ref" in statuses[status]["content"]["application/json"]["schema"]
        errors = {s for s in statuses if int(s) >= 400 and not (path == "/readyz" and s == "503")}
        assert {"401", "500"} <= errors, f"{method} {path}"
        for status in errors:
            content = statuses[status]["content"]
            assert list(content) == ["application/problem+json"], f"{method} {path} {status}"
            assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


WRITE_METHODS = {"post", "put", "patch", "delete"}
# Reads that are not public (people, rosters, a region's plugin configuration and dashboard,
# schedules and attendance, data reflection's measures, data sets and cycles): they must say
# they take a token. `/api/v1/plugins` (what is installed) is public, and so are calendar feeds
# (their secret token is a query parameter).
PRIVATE_READ_PATHS = re.compile(
    r"^/api/v1/(people|registrations|teams|proposals|regions|sessions|occurrences|milestones)"
    r"|/(registrations|teams|proposals|sessions|occurrences|attendance|participation|milestones)$"
    r"|^/api/v1/survey-administrations|/(survey-administrations|survey-comparison)$"
    r"|^/api/v1/inquiry-cycles|/(inquiry-cycles|inquiry-cycle-counts)$"
    r"|^/api/v1/(data-sets|assessment-importers|me/student-results)|/(student-results|student-read-audit)$"
    r"|^/api/v1/(measures|reflection-metrics)|/(effect-size|participation-summary|retention)$")


def test_input_routes_document_422_and_writes_the_mapped_grpc_errors(document):
    for path, method, operation in operations(document):
        # A path segment is any string; query parameters and bodies can be invalid.
        query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
        if query or operation.get("requestBody"):
            assert "422" in operation["responses"], f"{method} {path}"
        if operation.get("requestBody"):
            assert {"400", "413", "415"} <= operation["responses"].keys(), f"{method} {path}"
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            # A model, or a file upload's bytes (the route streams them to the service).
            assert schema.get("$ref") or schema.get("format") == "binary", f"{method} {path}"
        if method in WRITE_METHODS:
            assert {"403", "503", "504"} <= operation["responses"].keys(), f"{method} {path}"
        if "201" in operation["responses"]:
            assert method == "post", f"{method} {path}"
            assert "Location" in operation["responses"]["201"]["headers"], f"{method} {path}"


def test_creates_answer_201_with_a_location(document):
    creates = [(path, method) for path, method, operation in operations(document)
               if method == "post" and "201" in operation["responses"]]
    assert ("/api/v1/communities/{id}/registrations", "post") in creates
    assert ("/api/v1/people", "post") in creates


def test_writes_and_private_reads_declare_bearer_security_and_public_reads_do_not(document):
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, method, operation in operations(document):
        if method in WRITE_METHODS or PRIVATE_READ_PATHS.search(path):
            assert operation.get("security") == [{"bearer": []}], f"{method} {path}"
        else:
            assert "security" not in operation, f"{method} {path}"


def test_every_reference_resolves(document):
    refs = set(re.findall(r'"\$ref":\s*"([^"]+)"', str(document).replace("'", '"')))
    assert refs
    for ref in refs:
        node = document
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, f"unresolved {ref}"
            node = node[part]


def test_problem_schema_documents_the_rfc_9457_members(document):
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "reason", "errors"} <= problem["properties"].keys()
    assert set(problem["required"]) == {"type", "title", "status", "detail"}


@pytest.mark.parametrize("model, proto_enum, prefix", [
    (schemas.OrganizationKind, membership_pb2.OrganizationKind, "ORGANIZATION_KIND_"),
    (schemas.CommunityKind, membership_pb2.CommunityKind, "COMMUNITY_KIND_"),
    (schemas.CommunityStatus, membership_pb2.CommunityStatus, "COMMUNITY_STATUS_"),
    (schemas.Position, membership_pb2.Position, "POSITION_"),
    (schemas.Role, membership_pb2.Role, "ROLE_"),
    (schemas.ProposalStatus, membership_pb2.ProposalStatus, "PROPOSAL_STATUS_"),
    (schemas.RegistrationStatus, membership_pb2.RegistrationStatus, "REGISTRATION_STATUS_"),
    (schemas.TeamKind, membership_pb2.TeamKind, "TEAM_KIND_"),
    (schemas.TeamRole, membership_pb2.TeamRole, "TEAM_ROLE_"),
])
def test_enums_match_the_proto(model, proto_enum, prefix):
    proto_values = {name.removeprefix(prefix).lower() for name in proto_enum.keys() if not name.endswith("UNSPECIFIED")}
    assert {member.value for member in model} == proto_values


def test_grade_bands_map_one_to_one_onto_the_proto_labels():
    proto_labels = {to_label(membership_pb2.GradeBand, number) for number in membership_pb2.GradeBand.values() if number}
    assert set(GRADE_BAND_LABEL.values()) == proto_labels
    assert set(GRADE_BAND_LABEL) == set(schemas.GradeBand)


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


def test_the_docs_page_loads_its_assets_from_the_gateway(app):
    client = app.test_client()
    page = client.get("/api/v1/swagger")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "openapi.json" in html
    parser = _Assets()
    parser.feed(html)
    assert any(url.endswith(".js") for url in parser.urls) and any(url.endswith(".css") for url in parser.urls)
    for url in parser.urls:
        assert not re.match(r"^(https?:)?//", url), f"{url} is not served locally"
        asset = client.get(urljoin("http://localhost/api/v1/swagger", url).removeprefix("http://localhost"))
        assert asset.status_code == 200, url
        assert len(asset.get_data()) > 0
