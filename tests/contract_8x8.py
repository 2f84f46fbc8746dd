"""Check recorded 8x8 traffic against 8x8's official OpenAPI files, with openapi-core.

Each exchange is validated as if it had been sent to the spec's server
(``https://api.8x8.com/admin-provisioning``): ``user-api-v1.yaml`` for ``/users…`` and
``operation-api-v1.yaml`` for ``/operations…``. openapi-core checks the method and path, the query
parameters, the headers, the ``x-api-key`` security scheme and the request body's media type and
schema; this module adds what the spec only says in prose (the vendor media type in ``Accept`` on
GET/DELETE and in ``Content-Type`` on PUT/POST).

Two readings of the spec, both deliberate:

- Read-only properties (``basicInfo.userId``, ``createdTime``, ``lastUpdatedTime``) are allowed in
  a request body. A PUT replaces the whole user, so clients send back what they read, and the spec
  itself documents the service comparing ``basicInfo.userId`` in the payload with the URL.
- Error statuses an operation does not list (401, 404 on DELETE, 406, 415, 429 on reads, …) are
  still real answers of the service; their body is checked against the spec's ``ErrorResponse``
  and the vendor media type instead of being reported as undocumented.

The files are located by ``spec_dir()``; the ``openapi_8x8`` fixture in ``conftest.py`` skips (or,
with ``OFFBOARD_REQUIRE_SERVICES=1``, fails) when they are missing.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from openapi_core import OpenAPI
from openapi_core.casting.schemas import oas30_read_schema_casters_factory
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.util import json_loads
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.validators import (
    V30RequestBodyValidator,
    V30RequestParametersValidator,
    V30RequestSecurityValidator,
)
from openapi_core.validation.response.validators import V30ResponseValidator
from openapi_core.validation.schemas import oas30_read_schema_validators_factory
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from werkzeug.datastructures import Headers, ImmutableMultiDict

if TYPE_CHECKING:
    from bot.simulators.eightbyeight.model import Recorded

SPECS_ENV = "OFFBOARD_8X8_SPECS"
SPEC_SERVER = "https://api.8x8.com/admin-provisioning"
BASE_PATH = urlsplit(SPEC_SERVER).path
SPEC_FILES = {"users": "user-api-v1.yaml", "operations": "operation-api-v1.yaml"}
MEDIA_TYPES = {"users": "application/vnd.users.v1+json", "operations": "application/vnd.operations.v1+json"}
_DESERIALIZERS = {media_type: json_loads for media_type in MEDIA_TYPES.values()}


def spec_dir() -> Path | None:
    """The folder holding 8x8's OpenAPI files, or None when it (or its user-api-v1.yaml) is missing."""
    configured = os.environ.get(SPECS_ENV)
    repo_root = Path(__file__).resolve().parents[1]
    folder = Path(configured) if configured else repo_root.parent / "shared" / "specs" / "8x8"
    return folder if (folder / SPEC_FILES["users"]).is_file() else None


@functools.cache
def _load(path: str) -> OpenAPI:
    return OpenAPI.from_file_path(path)


def _api(family: str) -> OpenAPI:
    folder = spec_dir()
    if folder is None:
        raise RuntimeError(f"8x8 OpenAPI files not found (set {SPECS_ENV} or provide ../shared/specs/8x8)")
    return _load(str(folder / SPEC_FILES[family]))


def _family(path: str) -> str | None:
    if not path.startswith(BASE_PATH + "/"):
        return None
    first = path[len(BASE_PATH) + 1:].split("/", 1)[0]
    return first if first in SPEC_FILES else None


def _media_types(value: str | None) -> list[str]:
    if not value:
        return []
    return [part.split(";", 1)[0].strip().lower() for part in value.split(",") if part.strip()]


# -- openapi-core's request and response protocols over a Recorded exchange ---------------------


class _SpecRequest:
    """openapi-core's ``Request`` protocol: the recorded request, as if sent to the spec's server."""

    def __init__(self, recorded: Recorded) -> None:
        split = urlsplit(SPEC_SERVER)
        self.host_url = f"{split.scheme}://{split.netloc}"
        self.path = recorded.path
        self.method = recorded.method.lower()
        headers = Headers(list(recorded.headers.items()))
        cookies = SimpleCookie(recorded.headers.get("cookie", ""))
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(recorded.query.items())),
            header=headers,
            cookie=ImmutableMultiDict([(name, morsel.value) for name, morsel in cookies.items()]),
        )
        self.body = recorded.body or None
        self.content_type = recorded.headers.get("content-type", "").lower()


class _SpecResponse:
    """openapi-core's ``Response`` protocol over the recorded answer."""

    def __init__(self, recorded: Recorded) -> None:
        assert recorded.status is not None
        self.status_code = recorded.status
        self.headers = Headers(list(recorded.response_headers.items()))
        self.content_type = recorded.response_headers.get("content-type", "").lower()
        self.data = recorded.response_body or None


class _TolerantBodyValidator(V30RequestBodyValidator):
    """The request body check, with read-only properties allowed (see the module docstring)."""

    schema_casters_factory = oas30_read_schema_casters_factory
    schema_validators_factory = oas30_read_schema_validators_factory


# -- readable problems --------------------------------------------------------------------------


def _schema_messages(errors: Iterable[Any]) -> Iterator[str]:
    for error in errors:
        where = "/".join(str(part) for part in getattr(error, "absolute_path", ())) or "(root)"
        yield f"{where}: {getattr(error, 'message', error)}"
        yield from _schema_messages(getattr(error, "context", None) or ())


def _describe(error: BaseException, where: str) -> list[str]:
    """One readable line per concrete problem in an openapi-core error (and its causes)."""
    kind = type(error).__name__
    if isinstance(getattr(error, "name", None), str):  # a parameter or header
        kind = f"{kind} {error.name}"  # type: ignore[attr-defined]
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, InvalidSchemaValue):
            details = list(_schema_messages(cause.schema_errors))
            return [f"{where}: {kind}: {detail}" for detail in details] or [f"{where}: {cause}"]
        cause = cause.__cause__
    text = str(error)
    if error.__cause__ is not None and str(error.__cause__) not in text:
        text = f"{text} ({error.__cause__})"
    return [f"{where}: {text or type(error).__name__}"]


def _label(recorded: Recorded) -> str:
    return f"{recorded.method} {recorded.path}"


# -- the checks ---------------------------------------------------------------------------------


def request_problems(recorded: Recorded) -> list[str]:
    """Everything about the request that the official spec does not allow (empty when valid)."""
    label = _label(recorded)
    family = _family(recorded.path)
    if family is None:
        return [f"{label}: not a path of the 8x8 users or operations API under {SPEC_SERVER}"]
    api = _api(family)
    request = _SpecRequest(recorded)
    problems: list[str] = []
    validators = (
        V30RequestSecurityValidator(api.spec),
        V30RequestParametersValidator(api.spec),
        _TolerantBodyValidator(api.spec, extra_media_type_deserializers=_DESERIALIZERS),
    )
    for validator in validators:
        for error in validator.iter_errors(request):
            if isinstance(error, PathError):
                return [f"{label}: {error}"]
            problems += _describe(error, f"{label} request")

    method = recorded.method.upper()
    wanted = MEDIA_TYPES[family]
    if method in ("GET", "DELETE") and wanted not in _media_types(recorded.headers.get("accept")):
        problems.append(f"{label} request: Accept must be {wanted} (got {recorded.headers.get('accept')!r})")
    if method in ("PUT", "POST") and _media_types(recorded.headers.get("content-type")) != [wanted]:
        problems.append(
            f"{label} request: Content-Type must be {wanted} (got {recorded.headers.get('content-type')!r})")
    return problems


def response_problems(recorded: Recorded) -> list[str]:
    """Everything about the answer that the official spec does not allow (empty when valid).

    A dropped connection (``status`` None) has no answer to check and gives no problems.
    """
    if recorded.status is None:
        return []
    label = f"{_label(recorded)} -> {recorded.status}"
    family = _family(recorded.path)
    if family is None:
        return [f"{label}: not a path of the 8x8 users or operations API under {SPEC_SERVER}"]
    api = _api(family)
    validator = V30ResponseValidator(api.spec, extra_media_type_deserializers=_DESERIALIZERS)
    problems: list[str] = []
    for error in validator.iter_errors(_SpecRequest(recorded), _SpecResponse(recorded)):
        if isinstance(error, PathError):
            return [f"{label}: {error}"]
        if isinstance(error, ResponseNotFound):
            return _undeclared_problems(api, family, recorded, label)
        problems += _describe(error, f"{label} response")
    return problems


def _undeclared_problems(api: OpenAPI, family: str, recorded: Recorded, label: str) -> list[str]:
    """A status the operation does not list: acceptable for an error shaped as the spec's ErrorResponse."""
    assert recorded.status is not None
    if recorded.status < 400:
        return [f"{label}: the spec does not list status {recorded.status} for this operation"]
    problems = []
    content_type = recorded.response_headers.get("content-type")
    if _media_types(content_type) != [MEDIA_TYPES[family]]:
        problems.append(f"{label} response: Content-Type must be {MEDIA_TYPES[family]} (got {content_type!r})")
    response_id = recorded.response_headers.get("x-response-id")
    if response_id is not None:
        try:
            uuid.UUID(response_id)
        except ValueError:
            problems.append(f"{label} response: X-Response-Id {response_id!r} is not a uuid")
    try:
        body = json.loads(recorded.response_body)
    except ValueError:
        return [*problems, f"{label} response: the body is not JSON"]
    schema = api.spec / "components" / "schemas" / "ErrorResponse"
    checker = oas30_read_schema_validators_factory.create(api.spec, schema)
    try:
        checker.validate(body)
    except InvalidSchemaValue as error:
        problems += [f"{label} response: ErrorResponse {line}" for line in _schema_messages(error.schema_errors)]
    return problems
