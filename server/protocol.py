"""The JSON-RPC layer, hardened: requests are answered per the LSP spec even when they are wrong.

pygls logs a request whose params do not match the LSP schema and drops it, so
the client would wait forever; here such a request is answered with
InvalidParams (or InternalError) carrying a one-line message, and the server
reads on. Strings must be strings (pygls would turn a numeric URI into one).
Lifecycle: a request before `initialize` gets ServerNotInitialized, a second
`initialize` and any request after `shutdown` get InvalidRequest, and `exit`
ends the connection (not the process: over TCP other clients go on) with the
exit code the spec asks for (0 after `shutdown`, else 1). Over TCP, `initialize` must carry the user's
token (`server.token`): without it the client gets one error and the connection ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import cattrs
from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
    JsonRpcServerNotInitialized,
)
from pygls.protocol import LanguageServerProtocol, default_converter
from pygls.protocol.json_rpc import RPCNotification, RPCRequest
from pygls.protocol.language_server import lsp_method

from housecoder.errors import HousecoderError
from housecoder.server.token import presented_token, token_matches

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Rejected:
    """A request that could not be read: answered with `error`, never dispatched."""

    id: Any
    method: str
    error: JsonRpcException


def _strict_str(value: Any, _type: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def strict_converter() -> cattrs.Converter:
    """pygls's converter, except that a string field takes only a string."""
    converter: cattrs.Converter = default_converter()
    converter.register_structure_hook(str, _strict_str)
    return converter


def _check_params(data: dict[str, Any]) -> None:
    """What the schema lets through but a handler must not see (raises InvalidParams)."""
    params = data.get("params")
    if data.get("method") == types.WORKSPACE_EXECUTE_COMMAND and isinstance(params, dict):
        arguments = params.get("arguments")
        if arguments is not None and not isinstance(arguments, list):
            raise JsonRpcInvalidParams(message=f"arguments must be an array, got {type(arguments).__name__}")


def _authenticate(expected_token: Callable[[], str], params: Any) -> JsonRpcException | None:
    """None when `initialize`'s params carry the user's token, else the error that refuses it."""
    try:
        expected = expected_token()
    except HousecoderError as err:
        return JsonRpcInvalidRequest(message=f"housecoder: the server cannot check tokens: {err}")
    presented = presented_token(getattr(params, "initialization_options", None))
    if token_matches(expected, presented):
        return None
    what = "no token" if presented is None else "a wrong token"
    return JsonRpcInvalidRequest(
        message=f"housecoder: {what}: a TCP client sends the user's token as initializationOptions.token "
        "(`housecoder token` prints it)"
    )


class HardenedProtocol(LanguageServerProtocol):
    """LanguageServerProtocol that answers malformed and out-of-order requests instead of dropping them."""

    initialize_seen = False
    # TCP: the user's token as of now (raises HousecoderError when it cannot be read); None over stdio
    expected_token: Callable[[], str] | None = None

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            if isinstance(data, dict) and "jsonrpc" in data:
                _check_params(data)
            return super().structure_message(data)
        except JsonRpcException as err:
            if (
                isinstance(data, dict)
                and "id" in data
                and "method" in data
                and isinstance(data["id"], (int, str))
            ):
                return _Rejected(data["id"], str(data["method"]), err)
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Rejected):
            refused = self._refuse(message.method) if message.method != types.INITIALIZE else None
            if (
                refused is None
                and self.get_message_type(message.method) is None
                and message.method not in self.fm.features
            ):
                refused = JsonRpcMethodNotFound.of(message.method)
            log.warning("malformed %s request %r: %s", message.method, message.id, message.error.message)
            error = refused or type(message.error)(
                message=f"{message.error.message}: params do not match {message.method}"
            )
            self._send_response(message.id, None, error.to_response_error())
            return
        method = getattr(message, "method", None)
        if isinstance(message, RPCRequest):
            refused = self._refuse(method)
            if refused is None and method == types.INITIALIZE and self.expected_token is not None:
                refused = _authenticate(self.expected_token, message.params)
                if refused is not None:  # one error, then the connection ends
                    log.warning("initialize refused: %s", refused.message)
                    self._send_response(message.id, None, refused.to_response_error())
                    self._end(1)
                    return
            if refused is not None:
                log.warning("%s request %r refused: %s", method, message.id, refused.message)
                self._send_response(message.id, None, refused.to_response_error())
                return
        elif isinstance(message, RPCNotification) and not self.initialize_seen and method != types.EXIT:
            log.warning("%s notification before initialize: dropped", method)
            return
        super().handle_message(message)

    def _refuse(self, method: str | None) -> JsonRpcException | None:
        if self._shutdown:
            return JsonRpcInvalidRequest(message="the server is shutting down: only exit is accepted")
        if method == types.INITIALIZE:
            if self.initialize_seen:
                return JsonRpcInvalidRequest(message="initialize was already received")
            self.initialize_seen = True
            return None
        if not self.initialize_seen:
            return JsonRpcServerNotInitialized(message="the server is not initialized: send initialize first")
        return None

    def _end(self, code: int) -> None:
        end = getattr(self._server, "end_connection", None)
        if end is None:
            raise SystemExit(code)
        end(code)

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        """End this connection with 0 after `shutdown`, else 1 (the server decides what that ends)."""
        if (user_handler := self.fm.features.get(types.EXIT)) is not None:
            yield user_handler, args, None
        self._end(0 if self._shutdown else 1)
