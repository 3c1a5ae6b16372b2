"""The OpenAPI 3.1 document: valid, complete, self-contained, derived from schemas/, and
judging the mock's answers exactly as the schemas do."""

from __future__ import annotations

import base64
import dataclasses
import subprocess
import sys
from typing import Any

import orjson
import pytest
import referencing
from jsonschema import Draft202012Validator
from referencing.jsonschema import DRAFT202012

from face_contracts.contracts import contracts, operations
from face_contracts.images import encode_image
from face_contracts.mock import FaceMock, HttpResponse, encode_request
from face_contracts.openapi import build_openapi, component_name, openapi_document

OPERATIONS = [op.id for op in operations()]
DOC_URI = "urn:test:openapi"
PICTURE = encode_image("JPEG", 640, 480, seed=3, faces=((200, 100, 220, 250),))
FILE = {"filename": "face.jpg", "base64": base64.b64encode(PICTURE).decode()}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return openapi_document()


def operation_object(doc: dict[str, Any], operation: str) -> dict[str, Any]:
    op = contracts().operation(operation)
    found: dict[str, Any] = doc["paths"][op.path][op.method.lower()]
    return found


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for a schema object of the document, its $refs resolved in the document."""
    assert list(schema) == ["$ref"], schema  # every media schema names a component
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(
        DOC_URI, DRAFT202012.create_resource(doc)
    )
    return Draft202012Validator({"$ref": DOC_URI + schema["$ref"]}, registry=registry)


def good_request(operation: str) -> dict[str, Any]:
    if operation.startswith("facepp."):
        body = {"api_key": "key", "api_secret": "secret", "image_file": FILE}
        if operation == "facepp.thousandlandmark":
            body["return_landmark"] = "all"
        return {"body": body}
    if operation.startswith("ailab."):
        return {"headers": {"ailabapi-api-key": "key"}, "body": {"image": FILE}}
    return {
        "headers": {"authorization": "Bearer token"},
        "body": {"image_url": "https://cdn.example.com/a.jpg"},
    }


def body_of(response: HttpResponse) -> Any:
    return response.body.decode() if response.content_type.startswith("text/") else response.json()


def media_schema(doc: dict[str, Any], operation: str, response: HttpResponse) -> dict[str, Any]:
    answers = operation_object(doc, operation)["responses"]
    answer = answers[str(response.status)]
    media = response.content_type.split(";")[0].strip()
    schema: dict[str, Any] = answer["content"][media]["schema"]
    return schema


def test_the_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    from openapi_spec_validator import OpenAPIV31SpecValidator

    assert doc["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(doc).validate()


def test_every_operation_is_present_with_its_method_and_path(doc: dict[str, Any]) -> None:
    found = {
        (method.upper(), path): item["operationId"]
        for path, methods in doc["paths"].items()
        for method, item in methods.items()
    }
    assert found == {(op.method, op.path): op.id for op in operations()}
    urls = {server["url"] for server in doc["servers"]}
    assert urls == {f"https://{host}" for op in operations() for host in op.hosts}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_documented_error_status_has_a_schema(doc: dict[str, Any], operation: str) -> None:
    answers = operation_object(doc, operation)["responses"]
    assert "$ref" in answers["200"]["content"]["application/json"]["schema"]
    for entry in contracts().mock_data[operation]["errors"]:
        for status in entry.get("statuses") or [entry["status"]]:
            answer = answers[str(status)]
            media = entry.get("content_type", "application/json")
            assert "schema" in answer["content"][media], (status, media)
            assert entry["code"] in answer["description"]
    for status, answer in contracts().operation(operation).answers.items():
        assert status in answers
        assert answer["content_type"] in answers[status]["content"]


@pytest.mark.parametrize("operation", ["facepp.thousandlandmark", "facepp.detect"])
def test_face_plus_plus_answers_413_in_plain_text(doc: dict[str, Any], operation: str) -> None:
    answer = operation_object(doc, operation)["responses"]["413"]
    assert list(answer["content"]) == ["text/plain"]
    schema = resolve(doc, answer["content"]["text/plain"]["schema"]["$ref"])
    assert schema["type"] == "string"
    assert schema["const"] == "Request Entity Too Large"


def test_every_ref_resolves_inside_the_document(doc: dict[str, Any]) -> None:
    refs = [node["$ref"] for node in walk(doc) if isinstance(node.get("$ref"), str)]
    assert len(refs) > 1000
    for ref in set(refs):
        assert resolve(doc, ref) is not None, ref
    schemas = doc["components"]["schemas"]
    assert not [name for name, schema in schemas.items() if "$id" in schema or "$schema" in schema]
    for schema_id in contracts().schemas:
        assert schemas[component_name(schema_id)]["x-schema-id"] == schema_id


def test_component_names_are_stable() -> None:
    assert (
        component_name("urn:face-contracts:facepp.thousandlandmark:response")
        == "facepp_thousandlandmark_response"
    )
    assert component_name("urn:face-contracts:facepp:common") == "facepp_common"
    assert component_name("urn:face-contracts:common") == "common"


def test_auth_is_security_or_required_form_fields(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    for op in operations():
        item = operation_object(doc, op.id)
        headers = {p["name"].lower() for p in item.get("parameters", []) if p["in"] == "header"}
        if op.auth["in"] == "header":
            (requirement,) = item["security"]
            scheme = schemes[next(iter(requirement))]
            if op.auth.get("scheme"):
                assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
            else:
                assert (scheme["type"], scheme["in"]) == ("apiKey", "header")
                assert scheme["name"] == op.auth["name"]
            assert op.auth["name"] not in headers  # not twice
        else:
            assert item["security"] == []
            for media in op.request_content_types:
                body = resolve(doc, item["requestBody"]["content"][media]["schema"]["$ref"])
                assert set(op.auth["fields"]) <= set(body["required"])
                assert set(op.auth["fields"]) <= set(body["properties"])


def test_file_parts_are_bytes_in_multipart_and_absent_from_urlencoded(
    doc: dict[str, Any],
) -> None:
    content = operation_object(doc, "facepp.thousandlandmark")["requestBody"]["content"]
    multipart = resolve(doc, content["multipart/form-data"]["schema"]["$ref"])
    assert multipart["properties"]["image_file"] == {
        "type": "string",
        "contentMediaType": "application/octet-stream",
        "description": multipart["properties"]["image_file"]["description"],
    }
    assert content["multipart/form-data"]["encoding"] == {
        "image_file": {"contentType": "image/jpeg, image/png"}
    }
    assert "image_base64" in multipart["properties"]
    assert "$ref" in multipart["properties"]["image_base64"]
    urlencoded = resolve(doc, content["application/x-www-form-urlencoded"]["schema"]["$ref"])
    assert "image_file" not in urlencoded["properties"]
    assert all("image_file" not in branch.get("required", []) for branch in urlencoded["anyOf"])
    ailab = operation_object(doc, "ailab.face_key_points")["requestBody"]["content"]
    assert ailab["multipart/form-data"]["encoding"]["image"]["contentType"] == (
        "image/jpeg, image/png, image/bmp"
    )
    acedata = operation_object(doc, "acedata.face_analyze")["requestBody"]["content"]
    assert list(acedata) == ["application/json"]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_form_a_valid_request_sends_is_valid_under_the_request_body(
    doc: dict[str, Any], operation: str
) -> None:
    op = contracts().operation(operation)
    body = dict(good_request(operation)["body"])
    media = op.request_content_types[0]
    if media == "multipart/form-data":
        body = {name: "<bytes>" if isinstance(v, dict) else v for name, v in body.items()}
    content = operation_object(doc, operation)["requestBody"]["content"][media]
    checker = validator(doc, content["schema"])
    assert not list(checker.iter_errors(body))
    body.pop(next(iter(body)))
    assert list(checker.iter_errors(body))


@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_mock_answers_are_valid_under_the_document(doc: dict[str, Any], operation: str) -> None:
    mock = FaceMock()
    request = encode_request(operation, good_request(operation))
    answer = mock.handle(request)
    assert answer.status == 200
    schema = media_schema(doc, operation, answer)
    assert not list(validator(doc, schema).iter_errors(body_of(answer)))
    assert list(validator(doc, schema).iter_errors({"unexpected": True}))
    for entry in contracts().mock_data[operation]["errors"]:
        mock.reset()
        mock.force_error(entry["code"], operation=operation)
        answer = mock.handle(request)
        assert answer.status != 200, entry["code"]
        schema = media_schema(doc, operation, answer)
        errors = list(validator(doc, schema).iter_errors(body_of(answer)))
        assert not errors, (entry["code"], errors[0].message)


def test_the_document_follows_the_schemas(doc: dict[str, Any]) -> None:
    source = contracts()
    schema_id = "urn:face-contracts:facepp.thousandlandmark:response"
    changed = {**source.schemas, schema_id: {**source.schemas[schema_id], "title": "changed"}}
    rebuilt = build_openapi(dataclasses.replace(source, schemas=changed))
    name = component_name(schema_id)
    assert rebuilt["components"]["schemas"][name]["title"] == "changed"
    assert doc["components"]["schemas"][name]["title"] == source.schemas[schema_id]["title"]
    assert build_openapi(source) == doc


def test_the_command_line_prints_the_same_document(doc: dict[str, Any]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "face_contracts", "openapi"],
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout) == orjson.loads(orjson.dumps(doc))


def test_schemathesis_loads_the_document(doc: dict[str, Any]) -> None:
    import schemathesis

    schema = schemathesis.openapi.from_dict(doc)
    loaded = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert sorted((op.method.upper(), op.path) for op in loaded) == sorted(
        (op.method, op.path) for op in operations()
    )
