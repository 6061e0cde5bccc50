"""
ImportRestApi and PutRestApi: an API from an OpenAPI 3 or Swagger 2
document with API Gateway's extensions, as SAM, Serverless and CDK emit
them — ``x-amazon-apigateway-integration`` on operations,
``x-amazon-apigateway-any-method``, ``x-amazon-apigateway-authorizer`` on
security schemes, ``x-amazon-apigateway-binary-media-types``,
``x-amazon-apigateway-gateway-responses``.

The API is built through ``RestApi``, exactly as the same calls one by one
would build it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import attrs

from awsemu.apigateway.api import RestApi
from awsemu.apigateway.errors import bad_request
from awsemu.apigateway.store import Record

HTTP_METHODS: Final[Mapping[str, str]] = {
    "get": "GET",
    "put": "PUT",
    "post": "POST",
    "delete": "DELETE",
    "options": "OPTIONS",
    "head": "HEAD",
    "patch": "PATCH",
    "x-amazon-apigateway-any-method": "ANY",
}
"""Path item keys that are operations, and the method each one is."""

API_EXTENSIONS: Final[Mapping[str, str]] = {
    "x-amazon-apigateway-binary-media-types": "binaryMediaTypes",
    "x-amazon-apigateway-minimum-compression-size": "minimumCompressionSize",
    "x-amazon-apigateway-api-key-source": "apiKeySource",
}
"""Document-level extensions that set a RestApi member as they are."""

INTEGRATION_KEYS: Final = (
    "uri",
    "httpMethod",
    "credentials",
    "requestParameters",
    "requestTemplates",
    "contentHandling",
    "timeoutInMillis",
    "connectionId",
    "cacheKeyParameters",
    "cacheNamespace",
)
"""``x-amazon-apigateway-integration`` keys copied to the Integration as they are."""

UPPERCASED_INTEGRATION_KEYS: Final = ("type", "passthroughBehavior", "connectionType")
"""Keys whose values documents commonly write in lower case (``aws_proxy``)."""

AUTHORIZER_KEYS: Final = (
    "authorizerUri",
    "authorizerCredentials",
    "identitySource",
    "identityValidationExpression",
    "authorizerResultTtlInSeconds",
    "providerARNs",
)

PARAMETER_LOCATIONS: Final[Mapping[str, str]] = {
    "path": "path",
    "query": "querystring",
    "header": "header",
}


def parse_document(body: bytes) -> dict[str, Any]:
    """The document as JSON, else YAML; must be OpenAPI or Swagger."""
    try:
        document = json.loads(body)
    except ValueError:
        document = _yaml(body)
    if not isinstance(document, dict) or not ("openapi" in document or "swagger" in document):
        raise bad_request("Invalid OpenAPI input.")
    return document


def _yaml(body: bytes) -> Any:
    # Imported here: only YAML imports pay for loading PyYAML.
    import yaml

    try:
        return yaml.safe_load(body)
    except yaml.YAMLError as e:
        raise bad_request(f"Invalid OpenAPI input: {e}") from e


def api_fields(document: Mapping[str, Any]) -> Record:
    """The RestApi members a document sets: name and description from ``info``, extensions."""
    info = document.get("info") or {}
    if not info.get("title"):
        raise bad_request("Invalid OpenAPI input: info.title (the API's name) is required.")
    fields: Record = {"name": info["title"]}
    for key, member in (("description", "description"), ("version", "version")):
        if key in info:
            fields[member] = str(info[key])
    for extension, member in API_EXTENSIONS.items():
        if extension in document:
            fields[member] = document[extension]
    if "x-amazon-apigateway-policy" in document:
        fields["policy"] = json.dumps(document["x-amazon-apigateway-policy"])
    return fields


@attrs.frozen
class _Security:
    """How a security scheme protects a method."""

    authorization_type: str
    authorizer_id: str | None = None
    api_key: bool = False


def build(api: RestApi, document: Mapping[str, Any]) -> None:
    """Add the document's authorizers, resources, methods, integrations and gateway responses."""
    _gateway_responses(api, document)
    schemes = _security_schemes(api, document)
    default_security = document.get("security", [])
    for path, item in (document.get("paths") or {}).items():
        resource = api.ensure_path(path)
        shared = item.get("parameters", [])
        for key, operation in item.items():
            http_method = HTTP_METHODS.get(key.lower())
            if http_method is None:
                continue
            resource["resourceMethods"].pop(http_method, None)
            security = operation.get("security", default_security)
            api.put_method(
                resource["id"],
                http_method,
                _method_fields(
                    operation, [*shared, *operation.get("parameters", [])], security, schemes
                ),
            )
            _add_responses(api, resource["id"], http_method, operation)


def _gateway_responses(api: RestApi, document: Mapping[str, Any]) -> None:
    """``x-amazon-apigateway-gateway-responses``: customised responses by type."""
    declared = document.get("x-amazon-apigateway-gateway-responses") or {}
    responses = api.state.setdefault("gatewayResponses", {})
    for kind, response in declared.items():
        record: Record = {"responseType": str(kind).upper()}
        if "statusCode" in response:
            record["statusCode"] = str(response["statusCode"])
        record["responseParameters"] = dict(response.get("responseParameters") or {})
        record["responseTemplates"] = dict(response.get("responseTemplates") or {})
        record["defaultResponse"] = False
        responses[record["responseType"]] = record


def _security_schemes(api: RestApi, document: Mapping[str, Any]) -> dict[str, _Security]:
    """Each scheme by name; the ones with a Lambda or Cognito authorizer create it."""
    schemes = (document.get("components") or {}).get("securitySchemes") or document.get(
        "securityDefinitions", {}
    )
    found: dict[str, _Security] = {}
    for name, scheme in schemes.items():
        extension = scheme.get("x-amazon-apigateway-authorizer")
        if extension is not None:
            kind = str(extension.get("type", "token")).upper()
            fields: Record = {
                "name": name,
                "type": kind,
                "authType": scheme.get("x-amazon-apigateway-authtype", "custom"),
                **{key: extension[key] for key in AUTHORIZER_KEYS if key in extension},
            }
            if kind == "TOKEN" and "identitySource" not in fields and "name" in scheme:
                fields["identitySource"] = f"method.request.header.{scheme['name']}"
            authorizer = api.add_authorizer(fields)
            found[name] = _Security(
                "COGNITO_USER_POOLS" if kind == "COGNITO_USER_POOLS" else "CUSTOM",
                authorizer["id"],
            )
        elif scheme.get("x-amazon-apigateway-authtype") == "awsSigv4":
            found[name] = _Security("AWS_IAM")
        elif scheme.get("type") == "apiKey":
            found[name] = _Security("NONE", api_key=True)
    return found


def _method_fields(
    operation: Mapping[str, Any],
    parameters: list[Mapping[str, Any]],
    security: list[Mapping[str, list[str]]],
    schemes: Mapping[str, _Security],
) -> Record:
    fields: Record = {"authorizationType": "NONE"}
    for requirement in security[:1]:
        for name, scopes in requirement.items():
            scheme = schemes.get(name)
            if scheme is None:
                continue
            if scheme.api_key:
                fields["apiKeyRequired"] = True
                continue
            fields["authorizationType"] = scheme.authorization_type
            if scheme.authorizer_id is not None:
                fields["authorizerId"] = scheme.authorizer_id
            if scopes and scheme.authorization_type == "COGNITO_USER_POOLS":
                fields["authorizationScopes"] = scopes
    request_parameters = {
        f"method.request.{PARAMETER_LOCATIONS[p['in']]}.{p['name']}": bool(p.get("required"))
        for p in parameters
        if p.get("in") in PARAMETER_LOCATIONS
    }
    if request_parameters:
        fields["requestParameters"] = request_parameters
    if "operationId" in operation:
        fields["operationName"] = operation["operationId"]
    return fields


def _add_responses(
    api: RestApi, resource_id: str, http_method: str, operation: Mapping[str, Any]
) -> None:
    """Method responses from ``responses``; the integration and its responses from the extension."""
    method = api.method(resource_id, http_method)
    method_responses = {
        str(code): _method_response(str(code), response or {})
        for code, response in (operation.get("responses") or {}).items()
        if str(code).isdigit()
    }
    if method_responses:
        method["methodResponses"] = method_responses
    extension = operation.get("x-amazon-apigateway-integration")
    if extension is None:
        return
    fields: Record = {key: extension[key] for key in INTEGRATION_KEYS if key in extension}
    for key in UPPERCASED_INTEGRATION_KEYS:
        if key in extension:
            fields[key] = str(extension[key]).upper()
    integration = api.put_integration(resource_id, http_method, fields)
    responses = {
        str(response["statusCode"]): _integration_response(pattern, response)
        for pattern, response in (extension.get("responses") or {}).items()
        if "statusCode" in response
    }
    if responses:
        integration["integrationResponses"] = responses


def _method_response(code: str, response: Mapping[str, Any]) -> Record:
    record: Record = {"statusCode": code}
    headers = response.get("headers") or {}
    if headers:
        record["responseParameters"] = {f"method.response.header.{name}": False for name in headers}
    return record


def _integration_response(pattern: str, response: Mapping[str, Any]) -> Record:
    record: Record = {"statusCode": str(response["statusCode"])}
    if pattern != "default":
        record["selectionPattern"] = pattern
    for key in ("responseParameters", "responseTemplates", "contentHandling"):
        if key in response:
            record[key] = response[key]
    return record
