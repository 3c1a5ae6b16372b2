"""The OpenAPI 3.1 document of the five operations, derived from ``schemas/`` and ``mocks/``.

Nothing here is written by hand per operation: paths, methods, hosts and auth come from
``schemas/operations.json``, bodies from the request, response and error schemas, and the
error statuses (with the codes answered with each) from the vendors' error catalogues in
``mocks/``. The document is served at ``/__admin/openapi.json`` and printed by
``face-contracts openapi``.

How the schemas are bundled: every schema becomes one entry of ``components/schemas``,
named after its ``$id`` (``urn:face-contracts:facepp.thousandlandmark:response`` →
``facepp_thousandlandmark_response``, ``urn:face-contracts:facepp:common`` →
``facepp_common``), without ``$id`` and ``$schema`` (the original id is kept as
``x-schema-id``). Its ``$defs`` stay where they are, and every ``$ref`` (local ``#/$defs/x``
or cross-file ``urn:...#/$defs/x``) is rewritten to a pointer into the document,
``#/components/schemas/<name>/$defs/x``, which every OpenAPI 3.1 resolver follows.

Request documents describe a file part as an object (``{filename, content_type, base64 |
path}``); on the wire it is the part's bytes, so in multipart bodies file fields become
``{"type": "string", "contentMediaType": "application/octet-stream"}`` with an encoding
object naming the documented image types, and in urlencoded bodies they are left out.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from face_contracts.contracts import Contracts, contracts

if TYPE_CHECKING:
    from face_contracts.contracts import Operation

__all__ = ["OPENAPI_VERSION", "build_openapi", "component_name", "openapi_document"]

OPENAPI_VERSION = "3.1.0"
_URN = "urn:face-contracts:"
_FILE = "urn:face-contracts:common#/$defs/file"
_NON_EMPTY = "urn:face-contracts:common#/$defs/non_empty_string"
_COMPONENTS = "#/components/schemas/"
_VENDORS = {
    "ailab": "AILabTools",
    "acedata": "Ace Data Cloud",
    "facepp": "Face++ (Megvii)",
}
_IMAGE_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "BMP": "image/bmp",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "TIFF": "image/tiff",
}
# Header parameters OpenAPI ignores by name: their meaning is carried elsewhere.
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def component_name(schema_id: str) -> str:
    """The ``components/schemas`` name of the schema with this ``$id``."""
    name = schema_id.removeprefix(_URN)
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the shipped contract, built once. Do not mutate it:
    ``copy.deepcopy`` it first to add servers or examples."""
    return build_openapi(contracts())


def build_openapi(source: Contracts) -> dict[str, Any]:
    """Build the OpenAPI 3.1 document from a loaded contract (uncached)."""
    return _Builder(source).build()


def _split_ref(ref: str, base: str) -> tuple[str, str]:
    """``(schema id, JSON pointer)`` a ``$ref`` points to, relative to schema ``base``."""
    target, _, pointer = ref.partition("#")
    return (target or base), pointer


def _package_version() -> str:
    try:
        return version("face-contracts")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0+unknown"


class _Builder:
    def __init__(self, source: Contracts) -> None:
        self.source = source
        self.names = {schema_id: component_name(schema_id) for schema_id in source.schemas}
        self.security_schemes: dict[str, Any] = {}

    # -- schemas ---------------------------------------------------------------------------

    def ref(self, ref: str, base: str) -> str:
        """A schema ``$ref`` rewritten to a pointer into the OpenAPI document."""
        target, pointer = _split_ref(ref, base)
        if target not in self.names:
            msg = f"face-contracts: $ref {ref!r} in {base} names an unknown schema"
            raise ValueError(msg)
        return _COMPONENTS + self.names[target] + pointer

    def rewrite(self, node: Any, base: str) -> Any:
        """A copy of ``node`` with every ``$ref`` rewritten (``$id``/``$schema`` dropped)."""
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, value in node.items():
                if key in ("$id", "$schema"):
                    continue
                if key == "$ref" and isinstance(value, str):
                    out[key] = self.ref(value, base)
                elif key in ("properties", "$defs", "patternProperties", "dependentSchemas"):
                    # Keys of these maps are names, not keywords: an "$id" property stays.
                    out[key] = {name: self.rewrite(sub, base) for name, sub in value.items()}
                else:
                    out[key] = self.rewrite(value, base)
            return out
        if isinstance(node, list):
            return [self.rewrite(item, base) for item in node]
        return node

    def component(self, schema_id: str) -> dict[str, Any]:
        schema = self.source.schemas[schema_id]
        bundled: dict[str, Any] = self.rewrite(schema, schema_id)
        bundled["x-schema-id"] = schema_id
        return bundled

    def follow(self, schema: Any, base: str) -> list[tuple[str, Any, str]]:
        """The ``$ref`` chain starting at ``schema``, resolved through the contract's
        ``referencing`` registry: each target's absolute reference, its (unrewritten)
        schema and the id its own references resolve against."""
        found: list[tuple[str, Any, str]] = []
        resolver = self.source.registry.resolver(base_uri=base)
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            target, pointer = _split_ref(schema["$ref"], base)
            absolute = f"{target}#{pointer}"
            if any(seen == absolute for seen, _, _ in found):
                break
            resolved = resolver.lookup(schema["$ref"])
            schema, resolver, base = resolved.contents, resolved.resolver, target
            found.append((absolute, schema, base))
        return found

    def chain(self, schema: Any, base: str) -> list[str]:
        """The absolute targets of the ``$ref`` chain starting at ``schema``."""
        return [absolute for absolute, _, _ in self.follow(schema, base)]

    def resolved(self, schema: Any, base: str) -> tuple[Any, str]:
        """Follow ``$ref`` to the schema it ends at, with that schema's base id."""
        found = self.follow(schema, base)
        return (found[-1][1], found[-1][2]) if found else (schema, base)

    def is_file(self, schema: Any, base: str) -> bool:
        return _FILE in self.chain(schema, base)

    # -- request bodies --------------------------------------------------------------------

    def body_schema(self, op: Operation) -> tuple[dict[str, Any], str]:
        request_id = op.schema_id("request")
        request = self.source.schemas[request_id]
        return self.resolved(request["properties"]["body"], request_id)

    def form_body(self, op: Operation, media_type: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The body schema of a form request as sent on the wire, and its encoding objects."""
        body, base = self.body_schema(op)
        multipart = media_type == "multipart/form-data"
        schema: dict[str, Any] = self.rewrite(
            {key: value for key, value in body.items() if key != "properties"}, base
        )
        properties: dict[str, Any] = {}
        dropped: set[str] = set()
        encoding: dict[str, Any] = {}
        image_types = ", ".join(
            _IMAGE_TYPES[fmt]
            for fmt in self.source.mock_data.get(op.id, {}).get("image", {}).get("formats", [])
            if fmt in _IMAGE_TYPES
        )
        for name, prop in body.get("properties", {}).items():
            if not self.is_file(prop, base):
                properties[name] = self.rewrite(prop, base)
            elif multipart:
                properties[name] = {
                    "type": "string",
                    "contentMediaType": "application/octet-stream",
                    "description": "A file part: the image's bytes (the format is sniffed "
                    "from the bytes, not from the part's filename or Content-Type).",
                }
                if image_types:
                    encoding[name] = {"contentType": image_types}
            else:
                dropped.add(name)
        required = [name for name in schema.get("required", []) if name not in dropped]
        if op.auth.get("in") == "body":
            for name in op.auth.get("fields", ()):
                properties[name] = {
                    "$ref": self.ref(_NON_EMPTY, base),
                    "description": "Credential, sent as a form field. OpenAPI has no security "
                    "scheme for credentials in the body, so it is a required field here.",
                }
                if name not in required:
                    required.append(name)
        schema["properties"] = properties
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema and dropped:
                # A branch that asks for a file field cannot be met without files.
                branches = [
                    branch
                    for branch in schema[keyword]
                    if not (set(branch.get("required", ())) & dropped)
                ]
                schema[keyword] = branches
        if dropped:
            schema["description"] = (
                f"The form without file parts: {', '.join(sorted(dropped))} can only be "
                "sent as multipart/form-data."
            )
        return schema, encoding

    def request_body(self, op: Operation, components: dict[str, Any]) -> dict[str, Any]:
        content: dict[str, Any] = {}
        for media_type in op.request_content_types:
            if media_type in _FORMS:
                schema, encoding = self.form_body(op, media_type)
                suffix = "multipart" if media_type == "multipart/form-data" else "urlencoded"
                name = f"{component_name(op.schema_id('request'))}_{suffix}"
                components[name] = schema
                entry: dict[str, Any] = {"schema": {"$ref": _COMPONENTS + name}}
                if encoding:
                    entry["encoding"] = encoding
                content[media_type] = entry
            else:
                request_id = op.schema_id("request")
                body_ref = self.source.schemas[request_id]["properties"]["body"]["$ref"]
                content[media_type] = {"schema": {"$ref": self.ref(body_ref, request_id)}}
        return {"required": True, "content": content}

    # -- auth ------------------------------------------------------------------------------

    def security(self, op: Operation) -> list[dict[str, list[str]]]:
        auth = op.auth
        if auth.get("in") != "header":
            return []
        if str(auth.get("scheme", "")).lower() == "bearer":
            name = f"{op.vendor}_bearer"
            scheme: dict[str, Any] = {
                "type": "http",
                "scheme": "bearer",
                "description": f"{_VENDORS.get(op.vendor, op.vendor)}: the header "
                f"'{auth['name']}: Bearer <token>'.",
            }
        else:
            name = f"{op.vendor}_api_key"
            scheme = {
                "type": "apiKey",
                "in": "header",
                "name": auth["name"],
                "description": f"{_VENDORS.get(op.vendor, op.vendor)}: the API key in the "
                f"header '{auth['name']}'.",
            }
        self.security_schemes[name] = scheme
        return [{name: []}]

    def header_parameters(self, op: Operation) -> list[dict[str, Any]]:
        """Header parameters for the documented request headers that are neither a security
        scheme nor one OpenAPI ignores as a parameter (Accept, Content-Type, Authorization)."""
        request_id = op.schema_id("request")
        request = self.source.schemas[request_id]
        if "headers" not in request.get("properties", {}):
            return []
        headers, base = self.resolved(request["properties"]["headers"], request_id)
        parts = [(headers, base)]
        parts.extend(self.resolved(sub, base) for sub in headers.get("allOf", ()))
        secured = {str(op.auth["name"]).lower()} if op.auth.get("in") == "header" else set()
        required = {name for part, _ in parts for name in part.get("required", ())}
        parameters = []
        for part, part_base in parts:
            for name, prop in part.get("properties", {}).items():
                if name in _IGNORED_HEADERS or name in secured:
                    continue
                parameters.append(
                    {
                        "name": name,
                        "in": "header",
                        "required": name in required,
                        "schema": self.rewrite(prop, part_base),
                    }
                )
        return parameters

    # -- responses -------------------------------------------------------------------------

    def error_schemas(self, op: Operation) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The error schema for JSON answers and, where documented, for plain-text ones."""
        error_id = op.schema_id("error")
        error = self.source.schemas[error_id]
        text: list[dict[str, Any]] = []
        json: list[dict[str, Any]] = []
        for branch in error.get("oneOf", ()):
            target, _ = self.resolved(branch, error_id)
            media = target.get("contentMediaType", "") if isinstance(target, dict) else ""
            (text if media.startswith("text/") else json).append(self.rewrite(branch, error_id))
        if not text:
            return {"$ref": _COMPONENTS + self.names[error_id]}, None
        json_schema = json[0] if len(json) == 1 else {"oneOf": json}
        text_schema = text[0] if len(text) == 1 else {"oneOf": text}
        return json_schema, text_schema

    def responses(self, op: Operation) -> dict[str, Any]:
        response_id = op.schema_id("response")
        response = self.source.schemas[response_id]
        ok = "Success. " + response.get("description", response.get("title", ""))
        variants = op.variants.get("response", {})
        if variants:
            ok += " Documented alternative shapes (never the default): " + ", ".join(
                f"{variant} ({_COMPONENTS}{self.names[schema_id]})"
                for variant, schema_id in variants.items()
            )
        answers: dict[str, Any] = {
            "200": {
                "description": ok.strip(),
                "content": {
                    "application/json": {"schema": {"$ref": _COMPONENTS + self.names[response_id]}}
                },
            }
        }
        json_schema, text_schema = self.error_schemas(op)
        by_status: dict[str, dict[str, list[str]]] = {}
        for entry in self.source.mock_data.get(op.id, {}).get("errors", ()):
            media = entry.get("content_type", "application/json")
            for status in entry.get("statuses") or [entry["status"]]:
                codes = by_status.setdefault(str(status), {}).setdefault(media, [])
                codes.append(entry["code"])
        for status, answer in op.answers.items():
            if status != "200" and "X" not in status and answer["kind"] == "error":
                by_status.setdefault(status, {}).setdefault(answer["content_type"], [])
        for status in sorted(by_status):
            content: dict[str, Any] = {}
            lines = []
            for media, codes in sorted(by_status[status].items()):
                if media.startswith("text/"):
                    if text_schema is None:
                        msg = f"face-contracts: {op.id} answers {status} as {media} but its "
                        msg += "error schema has no plain-text branch"
                        raise ValueError(msg)
                    content[media] = {"schema": text_schema}
                    lines.append(f"{media}, the plain-text body: {', '.join(codes)}")
                else:
                    content[media] = {"schema": json_schema}
                    lines.append(f"{media}, error codes: {', '.join(codes) or '(none listed)'}")
            answers[status] = {
                "description": f"Error {status}. " + "; ".join(lines) + ".",
                "content": content,
            }
        for status, answer in op.answers.items():
            if "X" in status and answer["kind"] == "error":
                answers[status] = {
                    "description": f"Any other {status} status: the vendor's error envelope "
                    "(no code is documented with it).",
                    "content": {answer["content_type"]: {"schema": json_schema}},
                }
        return answers

    # -- the document ----------------------------------------------------------------------

    def operation(self, op: Operation, components: dict[str, Any]) -> dict[str, Any]:
        request = self.source.schemas[op.schema_id("request")]
        hosts = ", ".join(f"https://{host}" for host in op.hosts)
        description = [request.get("description", ""), f"Vendor hosts: {hosts}."]
        if op.auth.get("in") == "body":
            fields = " and ".join(op.auth.get("fields", ()))
            description.append(
                f"Authentication: the form fields {fields} (OpenAPI has no security scheme "
                "for credentials in the body, so they are required fields of the request "
                "body schema)."
            )
        description.append("Sources: " + "; ".join(op.sources) + ".")
        operation: dict[str, Any] = {
            "operationId": op.id,
            "summary": op.title,
            "description": " ".join(part for part in description if part),
            "tags": [op.vendor],
        }
        parameters = self.header_parameters(op)
        if parameters:
            operation["parameters"] = parameters
        operation["requestBody"] = self.request_body(op, components)
        operation["responses"] = self.responses(op)
        operation["security"] = self.security(op)
        return operation

    def build(self) -> dict[str, Any]:
        schemas: dict[str, Any] = {
            self.names[schema_id]: self.component(schema_id)
            for schema_id in sorted(self.source.schemas)
        }
        if len(set(self.names.values())) != len(self.names):
            msg = "face-contracts: two schema ids map to the same component name"
            raise ValueError(msg)
        paths: dict[str, Any] = {}
        for op in self.source.operations.values():
            item = paths.setdefault(op.path, {})
            item[op.method.lower()] = self.operation(op, schemas)
        servers: list[dict[str, str]] = []
        for vendor, label in _VENDORS.items():
            ops = [op for op in self.source.operations.values() if op.vendor == vendor]
            hosts = dict.fromkeys(host for op in ops for host in op.hosts)
            servers.extend(
                {
                    "url": f"https://{host}",
                    "description": f"{label}: {', '.join(op.id for op in ops)}",
                }
                for host in hosts
            )
        tags = [
            {"name": vendor, "description": label}
            for vendor, label in _VENDORS.items()
            if any(op.vendor == vendor for op in self.source.operations.values())
        ]
        return {
            "openapi": OPENAPI_VERSION,
            "info": {
                "title": "face-contracts: face-landmark vendor APIs",
                "version": _package_version(),
                "summary": "The documented contracts of five commercial face-landmark "
                "operations (AILabTools, Ace Data Cloud, Face++).",
                "description": "Generated from the JSON Schemas in schemas/ and the error "
                "catalogues in mocks/ of face-contracts; do not edit by hand. Each vendor "
                "host serves only its own vendor's paths; the local mock (face-contracts "
                "serve) serves all five operations at their real paths under one base URL, "
                "so a client switches to it by changing the base URL only. Error statuses "
                "list the codes the vendor documents with them.",
                "license": {"name": "MIT", "identifier": "MIT"},
            },
            "servers": servers,
            "tags": tags,
            "paths": paths,
            "components": {
                "schemas": dict(sorted(schemas.items())),
                "securitySchemes": copy.deepcopy(self.security_schemes),
            },
        }
