"""The OpenAPI document describes the errors the API really sends, in one place.

Every error under ``/api/`` is RFC 9457 ``application/problem+json`` (``core.problems``), whatever
raised it: a domain error, validation, authentication, routing (404, 405 with ``Allow``), the
body limit (413), a refused NUL character (422) or an unexpected failure (500). Handlers declare
only their success responses (and, where they like, which error statuses they expect); this
post-processor of the generated document then

- adds one ``Problem`` schema and one shared response per error status under ``components``;
- points every operation's error responses at them, so no operation documents JSON errors, and
  adds the statuses every operation can answer (400, 404, 405, 413, 414, 415, 422, 429, 500, and
  401/403 where the operation needs credentials);
- documents the headers those answers carry: ``Allow`` on 405, ``WWW-Authenticate`` on 401,
  ``Retry-After`` on 429;
- publishes the code lists that ``core.schema_types`` marks (current communes and provinces) once
  as components, and points the marked fields at them;
- documents that no text accepts NUL (``\\u0000``): PostgreSQL cannot store it, so the edge
  middleware refuses it for every field; string schemas without a pattern, format or enum get
  ``pattern: ^[^\\u0000]*$`` (the exact rule the middleware applies).
"""

from __future__ import annotations

from typing import Any

from popid.core.problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE
from popid.core.schema_types import CODE_LIST_KEY, code_lists

NO_NUL_PATTERN = "^[^\\u0000]*$"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `code` is stable; `title` is translated (Accept-Language).",
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "description": f"{PROBLEM_TYPE_BASE}<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string", "description": "Mã lỗi ổn định, ví dụ person_not_found"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "Đường dẫn của yêu cầu"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ProblemFieldError"}},
    },
    "additionalProperties": True,
}

FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "title": "ProblemFieldError",
    "type": "object",
    "required": ["field", "reason"],
    "properties": {
        "field": {"type": "string", "description": "Tên trường, ví dụ changes.sex"},
        "reason": {"type": "string", "description": "Lý do ổn định, ví dụ extra_forbidden"},
        "message": {"type": "string"},
    },
    "additionalProperties": True,
}

# status: (component name, description, headers)
ERROR_RESPONSES: dict[int, tuple[str, str, dict[str, Any]]] = {
    400: ("BadRequest", "Nội dung yêu cầu không đọc được (malformed_body) hoặc tham số sai quan hệ", {}),
    401: ("Unauthorized", "Thiếu hoặc sai thông tin xác thực (unauthenticated)", {
        "WWW-Authenticate": {"required": True, "schema": {"type": "string"},
                             "description": 'Bearer realm="popid"'}}),
    403: ("Forbidden", "Không có quyền (permission_denied, insufficient_scope, …)", {}),
    404: ("NotFound", "Không tìm thấy, hoặc ngoài địa bàn: cùng một câu trả lời", {}),
    405: ("MethodNotAllowed", "Phương thức không được hỗ trợ trên đường dẫn này", {
        "Allow": {"required": True, "schema": {"type": "string"},
                  "description": "Các phương thức được hỗ trợ (RFC 9110 §10.2.1)"}}),
    409: ("Conflict", "Xung đột trạng thái (stale_version, invalid_state, …)", {}),
    413: ("PayloadTooLarge", "Nội dung gửi lên vượt giới hạn (payload_too_large, batch_too_large)", {}),
    414: ("UriTooLong", "Đường dẫn hoặc chuỗi truy vấn quá dài (máy chủ web từ chối)", {}),
    415: ("UnsupportedMediaType", "Kiểu nội dung không được hỗ trợ", {}),
    422: ("UnprocessableContent", "Dữ liệu không hợp lệ (validation_failed và các mã nghiệp vụ)", {}),
    429: ("TooManyRequests", "Vượt giới hạn tần suất hoặc hạn mức", {
        "Retry-After": {"required": False, "schema": {"type": "string"},
                        "description": "Số giây nên chờ trước khi gửi lại"}}),
    500: ("InternalServerError", "Lỗi hệ thống (internal_error); chi tiết chỉ có trong nhật ký máy chủ", {}),
}

ALWAYS = (400, 404, 405, 413, 414, 415, 422, 429, 500)
WITH_CREDENTIALS = (401, 403)
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


def _shared_response(status: int) -> dict[str, Any]:
    _name, description, headers = ERROR_RESPONSES[status]
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if headers:
        response["headers"] = headers
    return response


def _point_at_code_lists(node: Any, used: set[str]) -> Any:
    if isinstance(node, dict):
        kind = node.get(CODE_LIST_KEY)
        if kind is not None:
            used.add(kind)
            return {"$ref": f"#/components/schemas/{code_lists()[kind]['title']}"}
        return {key: _point_at_code_lists(value, used) for key, value in node.items()}
    if isinstance(node, list):
        return [_point_at_code_lists(item, used) for item in node]
    return node


NUL_FREE_JSON: dict[str, Any] = {
    "title": "NulFreeJson",
    "description": "Any JSON value whose texts (keys included) hold no NUL character",
    "anyOf": [
        {"type": "string", "pattern": NO_NUL_PATTERN},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "array", "items": {"$ref": "#/components/schemas/NulFreeJson"}},
        {"type": "object", "propertyNames": {"pattern": NO_NUL_PATTERN},
         "additionalProperties": {"$ref": "#/components/schemas/NulFreeJson"}},
    ],
}


def _forbid_nul(node: Any) -> None:
    """Add the NUL rule to every free-text string schema, wherever it is nested, and to the keys
    and values of free-form objects (``dict[str, Any]``)."""
    if isinstance(node, dict):
        if node.get("type") == "object" and node.get("additionalProperties", False) not in (False, None):
            extra = node["additionalProperties"]
            if extra is True or extra == {}:
                node["additionalProperties"] = {"$ref": "#/components/schemas/NulFreeJson"}
            node.setdefault("propertyNames", {"pattern": NO_NUL_PATTERN})
        if (node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & node.keys()
                and node.get("contentMediaType") is None):
            node["pattern"] = NO_NUL_PATTERN
        for value in node.values():
            _forbid_nul(value)
    elif isinstance(node, list):
        for item in node:
            _forbid_nul(item)


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite ``schema`` (ninja's generated OpenAPI document) in place and return it."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ProblemFieldError"] = FIELD_ERROR_SCHEMA
    schemas["NulFreeJson"] = NUL_FREE_JSON
    responses = components.setdefault("responses", {})
    for status, (name, _description, _headers) in ERROR_RESPONSES.items():
        responses[name] = _shared_response(status)
    global_security = schema.get("security")
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            secured = bool(operation.get("security", global_security))
            answers = _string_keys(operation.setdefault("responses", {}))
            operation["responses"] = answers
            wanted = set(ALWAYS) | (set(WITH_CREDENTIALS) if secured else set())
            wanted |= {int(code) for code in answers if str(code).isdigit() and int(code) >= 400}
            for status in sorted(wanted):
                if status not in ERROR_RESPONSES:
                    continue
                answers[str(status)] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}
            for code in list(answers):
                if str(code).isdigit() and int(code) >= 400 and int(code) not in ERROR_RESPONSES:
                    answers[code] = _shared_response_for_unknown(int(code))
    used: set[str] = set()
    schema["paths"] = _point_at_code_lists(schema.get("paths", {}), used)
    for name in list(schemas):
        schemas[name] = _point_at_code_lists(schemas[name], used)
    lists = code_lists()
    for kind in sorted(used):
        schemas[lists[kind]["title"]] = lists[kind]
    _forbid_nul(schema.get("paths", {}))
    _forbid_nul({k: v for k, v in schemas.items() if k not in {"Problem", "ProblemFieldError", "NulFreeJson"}})
    return schema


def _string_keys(responses: dict[Any, Any]) -> dict[str, Any]:
    """ninja keys responses by int, ``openapi_extra`` usually by str: merge them (extra wins)."""
    merged: dict[str, Any] = {}
    for code, response in sorted(responses.items(), key=lambda item: isinstance(item[0], str)):
        key = str(code)
        if isinstance(merged.get(key), dict) and isinstance(response, dict):
            merged[key] = {**merged[key], **response}
        else:
            merged[key] = response
    return merged


def _shared_response_for_unknown(status: int) -> dict[str, Any]:
    return {"description": f"HTTP {status}",
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
