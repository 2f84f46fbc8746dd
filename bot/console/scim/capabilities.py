"""What a SCIM provider can do, from its ServiceProviderConfig (RFC 7643 §5): read once, then lowered when the
provider refuses something it announced."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError
from scim2_models import ServiceProviderConfig

from bot.console.scim.client import ScimClient, json_or_none

log = logging.getLogger(__name__)

SERVICE_PROVIDER_CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"


@dataclass(frozen=True)
class Capabilities:
    """What the provider's ServiceProviderConfig announces (RFC 7643 §5)."""

    patch: bool
    etag: bool
    filter: bool
    sort: bool
    announced: bool  # False when the provider publishes no readable ServiceProviderConfig


# Without a ServiceProviderConfig: try PATCH and filters (a 501 switches to PUT or to listing), never ETags.
UNANNOUNCED = Capabilities(patch=True, etag=False, filter=True, sort=False, announced=False)


def announced(body: Any) -> Capabilities | None:
    """The capabilities a ServiceProviderConfig document announces, or None when it cannot be read."""
    try:
        config = ServiceProviderConfig.model_validate(
            {"schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA]}
            | {key: body[key] for key in ("patch", "etag", "filter", "sort") if isinstance(body.get(key), dict)}
        )
    except (ValueError, TypeError, ValidationError, AttributeError):
        return None
    return Capabilities(
        patch=bool(config.patch and config.patch.supported),
        etag=bool(config.etag and config.etag.supported),
        filter=bool(config.filter and config.filter.supported),
        sort=bool(config.sort and config.sort.supported),
        announced=True,
    )


class Discovery:
    """The provider's capabilities, discovered on first use and kept; safe to share between threads."""

    def __init__(self, client: ScimClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._capabilities: Capabilities | None = None

    def __call__(self) -> Capabilities:
        with self._lock:
            if self._capabilities is not None:
                return self._capabilities
        caps = self._discover()
        with self._lock:
            self._capabilities = caps
        log.info("SCIM provider %s: patch=%s etag=%s filter=%s sort=%s announced=%s",
                 self._client.base_url, caps.patch, caps.etag, caps.filter, caps.sort, caps.announced)
        return caps

    def again(self) -> Capabilities:
        """Forget what was discovered and ask the provider anew."""
        with self._lock:
            self._capabilities = None
        return self()

    def lower(self, **changes: bool) -> None:
        """Remember that the provider refused a capability it announced."""
        with self._lock:
            current = self._capabilities or UNANNOUNCED
            self._capabilities = replace(current, **changes)

    def _discover(self) -> Capabilities:
        response = self._client.read("ServiceProviderConfig", expect=(404, 501))
        if response.status_code in (404, 501):
            return UNANNOUNCED
        caps = announced(json_or_none(response))
        if caps is None:
            log.warning("SCIM provider %s: unreadable ServiceProviderConfig, assuming defaults", self._client.base_url)
            return UNANNOUNCED
        return caps
