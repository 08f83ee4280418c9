"""Errors in Apache Atlas's shape: `{"errorCode": "ATLAS-404-00-005", "errorMessage": "…"}`.

Codes, HTTP statuses and message templates are Atlas's own (AtlasErrorCode), so clients written for
Atlas recognise them. Messages name the type, attribute or guid at fault, never attribute values
that could hold personal data (values are described by their expected type instead).
"""

from __future__ import annotations

import enum
import json
import logging
import math
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class Code(enum.Enum):
    UNKNOWN_TYPE = (400, "ATLAS-400-00-001", "Unknown type {0} for {1}.{2}")
    CIRCULAR_REFERENCE = (400, "ATLAS-400-00-002", "{0}: invalid supertypes - circular reference back to self {1}")
    UNKNOWN_TYPENAME = (400, "ATLAS-400-00-00A", "{0}: Unknown/invalid typename")
    CANNOT_ADD_MANDATORY_ATTRIBUTE = (400, "ATLAS-400-00-00C", "{0}.{1} : can not add mandatory attribute")
    ATTRIBUTE_DELETION_NOT_SUPPORTED = (400, "ATLAS-400-00-00D", "{0}.{1} : attribute delete not supported")
    SUPERTYPE_REMOVAL_NOT_SUPPORTED = (400, "ATLAS-400-00-00E", "superType remove not supported")
    TYPE_MATCH_FAILED = (400, "ATLAS-400-00-010", "Given type {0} doesn't match {1}")
    INVALID_TYPE_DEFINITION = (400, "ATLAS-400-00-011", "Invalid type definition {0}")
    TYPE_NAME_INVALID = (400, "ATLAS-400-00-014", "Type {0} with name {1} does not exist")
    TYPE_CATEGORY_INVALID = (400, "ATLAS-400-00-015", "Type Category {0} is invalid")
    TYPE_NAME_INVALID_FORMAT = (
        400,
        "ATLAS-400-00-019",
        "{0}: invalid name for {1}.  Names must consist of a letter followed by a sequence of letter, number, "
        "or '_' characters",
    )
    INVALID_PARAMETERS = (400, "ATLAS-400-00-01A", "invalid parameters: {0}")
    CLASSIFICATION_ALREADY_ASSOCIATED = (
        400,
        "ATLAS-400-00-01B",
        "instance {0} already is associated with classification {1}",
    )
    INVALID_OBJECT_ID = (400, "ATLAS-400-00-021", "ObjectId is not valid {0}")
    UNRESOLVED_REFERENCES_FOUND = (400, "ATLAS-400-00-022", "Unresolved references: byId={0}; byUniqueAttributes={1}")
    UNKNOWN_ATTRIBUTE = (400, "ATLAS-400-00-023", "Attribute {0} not found for type {1}")
    INVALID_STRUCT_VALUE = (400, "ATLAS-400-00-025", "not a valid struct value {0}")
    INSTANCE_LINEAGE_INVALID_PARAMS = (400, "ATLAS-400-00-026", "Invalid lineage query parameters passed {0}: {1}")
    INVALID_VALUE = (400, "ATLAS-400-00-028", "invalid value: {0}")
    BAD_REQUEST = (400, "ATLAS-400-00-029", "{0}")
    MISSING_MANDATORY_ATTRIBUTE = (400, "ATLAS-400-00-02B", "Mandatory field {0}.{1} has empty/null value")
    RELATIONSHIPDEF_INVALID_END_TYPE = (400, "ATLAS-400-00-035", "relationshipDef {0} has invalid end type {1}")
    RELATIONSHIPDEF_INVALID = (400, "ATLAS-400-00-044", "Invalid relationshipDef: {0}")
    RELATIONSHIP_INVALID_ENDTYPE = (
        400,
        "ATLAS-400-00-045",
        "Invalid entity-type for relationship attribute '{0}': entity specified (guid={1}) is of type '{2}', "
        "but expected type is '{3}'",
    )
    UNKNOWN_CLASSIFICATION = (400, "ATLAS-400-00-046", "{0}: Unknown/invalid classification")
    INVALID_SEARCH_PARAMS = (
        400,
        "ATLAS-400-00-047",
        "No search parameter was found. One of the following MUST be specified in the request; typeName, "
        "classification, termName or queryText",
    )
    CLASSIFICATIONDEF_INVALID_ENTITYTYPES = (
        400,
        "ATLAS-400-00-052",
        "ClassificationDef '{0}' has invalid '{1}' in entityTypes",
    )
    INVALID_ENTITY_FOR_CLASSIFICATION = (
        400,
        "ATLAS-400-00-055",
        "Entity (guid='{0}',typename='{1}') cannot be classified by Classification '{2}', because '{1}' is not in "
        "the ClassificationDef's restrictions.",
    )
    INVALID_DSL_QUERY = (
        400,
        "ATLAS-400-00-059",
        "Invalid DSL query: {0} | Reason: {1}. Please refer to Atlas DSL grammar for more information",
    )
    INVALID_DSL_UNKNOWN_TYPE = (400, "ATLAS-400-00-05B", "DSL Semantic Error - {0} type not found")
    INVALID_DSL_UNKNOWN_CLASSIFICATION = (400, "ATLAS-400-00-05C", "DSL Semantic Error - {0} classification not found")
    INVALID_DSL_UNKNOWN_ATTR_TYPE = (
        400,
        "ATLAS-400-00-05D",
        "DSL Semantic Error - {0} attribute not found for type {1}",
    )
    CLASSIFICATION_NOT_ASSOCIATED_WITH_ENTITY = (
        400,
        "ATLAS-400-00-06D",
        "Classification {0} is not associated with entity",
    )
    ATTRIBUTE_TYPE_INVALID = (
        400,
        "ATLAS-400-00-081",
        "{0}.{1}: invalid attribute type. Attribute cannot be of type classification",
    )
    UNAUTHENTICATED = (401, "ATLAS-401-00-001", "Authentication required: {0}")
    UNAUTHORIZED_ACCESS = (403, "ATLAS-403-00-001", "{0} is not authorized to perform {1}")
    TYPE_NAME_NOT_FOUND = (404, "ATLAS-404-00-001", "Given typename {0} was invalid")
    TYPE_GUID_NOT_FOUND = (404, "ATLAS-404-00-002", "Given type guid {0} was invalid")
    EMPTY_RESULTS = (404, "ATLAS-404-00-004", "No result found for {0}")
    INSTANCE_GUID_NOT_FOUND = (404, "ATLAS-404-00-005", "Given instance guid {0} is invalid/not found")
    CLASSIFICATION_NOT_FOUND = (404, "ATLAS-404-00-008", "Given classification {0} was invalid")
    INSTANCE_BY_UNIQUE_ATTRIBUTE_NOT_FOUND = (
        404,
        "ATLAS-404-00-009",
        "Instance {0} with unique attribute {1} does not exist",
    )
    REFERENCED_ENTITY_NOT_FOUND = (404, "ATLAS-404-00-00A", "Referenced entity {0} is not found")
    INSTANCE_GUID_NOT_DATASET = (404, "ATLAS-404-00-011", "Given instance guid {0} is not a dataset")
    METHOD_NOT_ALLOWED = (405, "ATLAS-405-00-001", "Method {0} is not allowed on {1}")
    TYPE_ALREADY_EXISTS = (409, "ATLAS-409-00-001", "Given type {0} already exists")
    TYPE_HAS_REFERENCES = (409, "ATLAS-409-00-002", "Given type {0} has references")
    INSTANCE_ALREADY_EXISTS = (409, "ATLAS-409-00-003", "failed to update entity: {0}")
    TYPE_HAS_RELATIONSHIPS = (409, "ATLAS-409-00-005", "Given type {0} has associated relationshipDefs")
    GLOSSARY_ALREADY_EXISTS = (409, "ATLAS-409-00-007", "Glossary with qualifiedName {0} already exists")
    GLOSSARY_TERM_ALREADY_EXISTS = (409, "ATLAS-409-00-009", "Glossary term with qualifiedName {0} already exists")
    GLOSSARY_CATEGORY_ALREADY_EXISTS = (
        409,
        "ATLAS-409-00-00A",
        "Glossary category with qualifiedName {0} already exists",
    )
    USER_ALREADY_EXISTS = (409, "DEID-409-00-001", "User {0} already exists")
    USER_NOT_FOUND = (404, "DEID-404-00-001", "User {0} does not exist")
    REQUEST_TOO_LARGE = (413, "ATLAS-413-00-001", "{0}")
    UNSUPPORTED_MEDIA_TYPE = (415, "ATLAS-415-00-001", "Unsupported media type {0}")
    TOO_MANY_REQUESTS = (429, "DEID-429-00-001", "{0}")
    INTERNAL_ERROR = (500, "ATLAS-500-00-001", "Internal server error {0}")

    @property
    def status(self) -> int:
        return self.value[0]

    @property
    def code(self) -> str:
        return self.value[1]


class AtlasError(Exception):
    """An API error: the Atlas code and its message filled with `params`."""

    def __init__(self, code: Code, *params: Any, headers: dict[str, str] | None = None) -> None:
        self.code = code
        self.message = code.value[2].format(*params)
        self.headers = headers
        super().__init__(self.message)

    def add_note_to_message(self, note: str) -> None:
        self.message = f"{self.message} {note}"

    def body(self) -> dict[str, str]:
        return {"errorCode": self.code.code, "errorMessage": self.message}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


class SafeJSONResponse(JSONResponse):
    """JSON that always renders: non-ASCII escaped (so unpaired surrogates a client sent cannot break
    the encoding) and NaN/Infinity (which Python's JSON parser accepts in requests) as null."""

    def render(self, content: Any) -> bytes:
        try:
            text = json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        except ValueError:
            text = json.dumps(_finite(content), ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        return text.encode("ascii")


def atlas_response(error: AtlasError) -> JSONResponse:
    return SafeJSONResponse(error.body(), status_code=error.code.status, headers=error.headers)


# Renders an error for requests under a path prefix in another API's shape (e.g. /registry).
ErrorRenderer = Callable[[int, str], JSONResponse]


def _renderer(request: Request) -> ErrorRenderer | None:
    """The renderer of the longest registered prefix of the path; Atlas's shape for /api/…."""
    path = request.url.path
    if path.startswith("/api/"):
        return None
    renderers: dict[str, ErrorRenderer] = getattr(request.app.state, "error_renderers", {})
    matching = [prefix for prefix in renderers if path.startswith(prefix)]
    return renderers[max(matching, key=len)] if matching else None


def register_error_renderer(app: FastAPI, prefix: str, renderer: ErrorRenderer) -> None:
    """Requests under `prefix` (e.g. "/registry", or "/" for the UI's pages) get their errors, AtlasError
    and framework errors (404 route, 405, invalid body), from `renderer(status, message)`."""
    if not hasattr(app.state, "error_renderers"):
        app.state.error_renderers = {}
    app.state.error_renderers[prefix] = renderer


def _describe_validation(exc: RequestValidationError) -> str:
    problems = []
    for error in exc.errors()[:5]:
        location = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        problems.append(f"{location}: {error.get('msg', 'invalid')}")
    return "; ".join(problems)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AtlasError)
    async def _atlas(request: Request, exc: AtlasError) -> JSONResponse:
        renderer = _renderer(request)
        if renderer is not None:
            return renderer(exc.code.status, exc.message)
        return atlas_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        message = _describe_validation(exc)
        renderer = _renderer(request)
        if renderer is not None:
            return renderer(400, message)
        return atlas_response(AtlasError(Code.BAD_REQUEST, message))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        renderer = _renderer(request)
        if renderer is not None:
            return renderer(exc.status_code, str(exc.detail))
        if exc.status_code == 404:
            error = AtlasError(Code.EMPTY_RESULTS, request.url.path)
        elif exc.status_code == 405:
            error = AtlasError(Code.METHOD_NOT_ALLOWED, request.method, request.url.path)
        elif exc.status_code == 413:  # raised by the body size limit as the body streams in
            error = AtlasError(Code.REQUEST_TOO_LARGE, str(exc.detail))
        else:
            return SafeJSONResponse(
                {"errorCode": f"ATLAS-{exc.status_code}-00-000", "errorMessage": str(exc.detail)},
                status_code=exc.status_code,
                headers=getattr(exc, "headers", None),
            )
        return atlas_response(error)

    # Values the database cannot hold (a NUL character in PostgreSQL text, an integer out of range,
    # an unpaired surrogate): the client's input is at fault, not the server.
    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        return atlas_response(
            AtlasError(Code.INVALID_VALUE, "a value cannot be stored (NUL character or out of range)")
        )

    @app.exception_handler(UnicodeEncodeError)
    async def _encoding(request: Request, exc: UnicodeEncodeError) -> JSONResponse:
        return atlas_response(AtlasError(Code.INVALID_VALUE, "text with an unpaired surrogate cannot be stored"))

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        return atlas_response(AtlasError(Code.INVALID_VALUE, "a number is out of range"))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the server log; the client learns only that it failed.
        log.exception("internal error on %s %s", request.method, request.url.path)
        return atlas_response(AtlasError(Code.INTERNAL_ERROR, type(exc).__name__))
