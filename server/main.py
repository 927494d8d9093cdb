"""Start the server over stdio (the default) or TCP; shared by `housecoder serve` and `python -m housecoder.server`."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any


class OneLineProtocolErrors(logging.Filter):
    """A client's bad request (invalid params, a message that does not deserialize, a cancelled request) is
    one log line, not a traceback: pygls logs each with its stack, and a client that repeats one fills the
    log. Errors of the server itself (not a JSON-RPC error) keep theirs; `--verbose` keeps every stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        from pygls.exceptions import JsonRpcException

        from housecoder.errors import first_line

        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, JsonRpcException):
            record.msg = f"{record.getMessage()[:300]}: {type(error).__name__}: {first_line(error, 300)}"
            record.args, record.exc_info, record.exc_text = None, None, None
        elif isinstance(record.msg, str) and record.msg.startswith("Unable to deserialize message"):
            # the traceback is in the message itself; housecoder.server.protocol logs the reason in one line
            record.msg, record.args = "Unable to deserialize message (answered with an error)", None
        return True


def serve(
    *,
    tcp: bool = False,
    host: str | None = None,
    port: int | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    trusted: Collection[Path] = (),
    verbose: bool = False,
    log_file: Path | None = None,
    token_path: Path | None = None,
    user_file: Path | None = None,
) -> None:
    """Run until the client exits (stdio: exit code 0 after shutdown, else 1) or, over TCP, until interrupted,
    serving each connection as its own session on one shared model. Logs go to stderr (or `log_file`), never stdout: stdout carries the protocol.
    `trusted`: the project roots whose own config may set sensitive keys (`housecoder.config.SENSITIVE_KEYS`).
    `token_path` (TCP; required there): the user's token file, created if missing; every client's `initialize`
    must carry the token it holds at that moment. `user_file`: the user's own settings, below the project's."""
    handler: logging.Handler = (
        logging.FileHandler(log_file) if log_file else logging.StreamHandler(sys.stderr)
    )
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        handlers=[handler],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("pygls", "httpx", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    if not verbose:
        logging.getLogger("pygls.protocol.json_rpc").addFilter(OneLineProtocolErrors())
    from housecoder.errors import HousecoderError, os_error_line
    from housecoder.server.app import create_server
    from housecoder.server.host import ModelHost
    from housecoder.server.token import ensure_token
    from housecoder.server.transport import serve_stdio, serve_tcp

    if not tcp:
        sys.exit(serve_stdio(create_server(overrides, trusted, user_file=user_file)))
    if token_path is None:
        raise HousecoderError("a TCP server needs the user's token file")
    ensure_token(token_path)  # a token that cannot be made or read stops the server here, in one line
    log = logging.getLogger(__name__)
    log.info("clients must send the token in %s as initializationOptions.token", token_path)
    bind, bind_port = tcp_address(Path.cwd(), host, port, overrides, trusted, user_file)
    if bind not in ("127.0.0.1", "localhost", "::1"):
        log.warning("listening on %s: anyone who holds the token and can reach it can read your code", bind)
    shared = ModelHost()  # one model thread and one copy of each model for every client
    try:
        serve_tcp(
            bind,
            bind_port,
            lambda: create_server(
                overrides, trusted, shared, token=lambda: ensure_token(token_path), user_file=user_file
            ),
        )
    except OSError as err:  # a host that does not resolve, a port in use
        raise HousecoderError(f"cannot listen on {bind}:{bind_port}: {os_error_line(err)}") from err
    finally:
        shared.shutdown()


def tcp_address(
    cwd: Path,
    host: str | None,
    port: int | None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    trusted: Collection[Path] = (),
    user_file: Path | None = None,
) -> tuple[str, int]:
    """The address to listen on: the flags, else `server.host` / `server.port` of the settings (a project's
    own config counts only in a trusted root), else 127.0.0.1:2087."""
    from housecoder.config import ServerConfig, find_project_root, load_settings
    from housecoder.errors import HousecoderError

    try:
        defaults = load_settings(
            find_project_root(cwd), overrides, trusted=trusted, user_file=user_file
        ).server
    except HousecoderError as err:
        logging.getLogger(__name__).warning("%s; using the default host and port", err)
        defaults = ServerConfig()
    return host or defaults.host, port if port is not None else defaults.port


def main(argv: list[str] | None = None) -> None:
    """`python -m housecoder.server [--tcp] [--host H] [--port P] [-v] [--log-file F]`."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m housecoder.server", description="housecoder language server"
    )
    parser.add_argument("--tcp", action="store_true", help="listen on TCP instead of stdio")
    parser.add_argument("--host", default=None, help="TCP address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="TCP port (default 2087)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="model store root")
    parser.add_argument("--offline", action="store_true", help="never contact a model hub")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--log-file", type=Path, default=None)
    args = parser.parse_args(argv)
    # This is an entry point, so it may read the environment (the same variables as the CLI).
    env_offline = os.environ.get("HOUSECODER_OFFLINE", "").lower() in ("1", "true", "yes")
    os.environ.setdefault("LANCEDB_LOG", "error")
    models = {
        "cache_dir": args.cache_dir or os.environ.get("HOUSECODER_CACHE_DIR") or None,
        "offline": True if args.offline or env_offline else None,
    }
    from housecoder.config import user_config_file
    from housecoder.errors import HousecoderError
    from housecoder.server.token import token_file
    from housecoder.trust import read_trusted, trust_file

    try:
        trusted = read_trusted(trust_file(os.environ))
    except HousecoderError as err:
        sys.exit(f"error: {err}")
    try:
        serve(
            tcp=args.tcp,
            host=args.host,
            port=args.port,
            overrides={"models": models},
            trusted=trusted,
            verbose=args.verbose,
            log_file=args.log_file,
            token_path=token_file(os.environ),
            user_file=user_config_file(os.environ),
        )
    except HousecoderError as err:
        sys.exit(f"error: {err}")
