"""The JSON-RPC layer, hardened: a request whose params do not match the LSP schema gets an error response.

pygls logs such a request and drops it, so the client would wait forever; here
the request is answered with InvalidParams (or InternalError) carrying a
one-line message, and the server reads on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Rejected:
    """A request that could not be read: answered with `error`, never dispatched."""

    id: Any
    method: str
    error: JsonRpcException


class HardenedProtocol(LanguageServerProtocol):
    """LanguageServerProtocol that answers malformed requests instead of dropping them."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as err:
            if isinstance(data, dict) and "id" in data and "method" in data and isinstance(data["id"], (int, str)):
                return _Rejected(data["id"], str(data["method"]), err)
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Rejected):
            log.warning("malformed %s request %r: %s", message.method, message.id, message.error.message)
            error = type(message.error)(message=f"{message.error.message}: params do not match {message.method}")
            self._send_response(message.id, None, error.to_response_error())
            return
        super().handle_message(message)
