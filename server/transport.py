"""LSP messages off a byte stream, and the stdio and TCP servers that read them.

Replaces pygls's reading loop (`pygls.io_.run_async`), which trusts its client:
here header names are case-insensitive, header lines are bounded, a body longer
than `MAX_MESSAGE_BYTES` is skipped in bounded chunks (never allocated), a body
that is not JSON is answered with a parse error, and `exit` (or the client
leaving) ends the connection. Over TCP every connection gets its own server
object (documents, settings, completions) on one shared `ModelHost`, and the
server keeps listening when a client leaves; a TCP connection whose header block
is not LSP's (an HTTP request line, an `Origin` or any other header than
Content-Length and Content-Type) is closed unanswered: a web page can POST to a
local port, but it cannot send an LSP header block.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, BinaryIO, Protocol

from pygls.io_ import StdoutWriter

log = logging.getLogger(__name__)
# a 1 MB document is about 1.1 MB of JSON; far larger is a broken or hostile client
MAX_MESSAGE_BYTES = 64 << 20
MAX_HEADER_BYTES = 8192
_CHUNK = 1 << 20
LSP_HEADERS = frozenset({"content-length", "content-type"})


class NotLsp(Exception):
    """A TCP peer sent something that is no LSP header block: the connection is closed unanswered."""


class Stream(Protocol):
    async def readline(
        self,
    ) -> bytes: ...  # up to and including b"\n" (at most MAX_HEADER_BYTES); b"" at the end

    async def read(self, size: int) -> bytes: ...  # `size` bytes, fewer only at the end


class Connection(Protocol):
    """What the loop needs of a server: its protocol, and an event set when the connection must end."""

    protocol: Any
    stopped: asyncio.Event


class StdinStream:
    """A blocking binary stream (stdin), each read on a daemon thread: a read still blocked when the client
    sends `exit` must not keep the process alive."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    async def readline(self) -> bytes:
        return await _on_daemon_thread(self._stream.readline, MAX_HEADER_BYTES)

    async def read(self, size: int) -> bytes:
        return await _on_daemon_thread(self._stream.read, size)


def _on_daemon_thread(read: Callable[[int], bytes], size: int) -> asyncio.Future[bytes]:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[bytes] = loop.create_future()

    def settle(data: bytes | None, error: BaseException | None) -> None:
        if future.done():  # cancelled meanwhile (`exit`)
            return
        future.set_exception(error) if error is not None else future.set_result(data or b"")

    def run() -> None:
        try:
            data = read(size)
        except BaseException as err:  # a closed stdin: the loop ends like at end of stream
            loop.call_soon_threadsafe(settle, None, err)
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle, data, None)

    threading.Thread(target=run, name="housecoder-stdin", daemon=True).start()
    return future


class SocketStream:
    """An asyncio stream (a TCP connection)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def readline(self) -> bytes:
        try:
            return await self._reader.readline()
        except ValueError:  # longer than the stream's limit: asyncio dropped it; a line that is no header
            return b"\x00\n"

    async def read(self, size: int) -> bytes:
        try:
            return await self._reader.readexactly(size)
        except asyncio.IncompleteReadError as err:
            return err.partial


async def _until_stopped(work: Awaitable[bytes], stopped: asyncio.Event) -> bytes | None:
    """`work`'s bytes, or None when the connection is told to stop first."""
    reading = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stopped.wait())
    await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if reading.done():
        return reading.result()
    reading.cancel()
    return None


async def _headers(stream: Stream, stopped: asyncio.Event, strict: bool) -> dict[str, str] | None:
    """The next header block, names lower-cased; None at the end of the stream. `strict` (TCP): a line that
    is not an LSP header raises NotLsp instead of being skipped."""
    headers: dict[str, str] = {}
    while True:
        line = await _until_stopped(stream.readline(), stopped)
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            if headers:
                return headers
            continue  # blank lines between messages
        name, colon, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        well_formed = bool(colon) and line.endswith(b"\n")
        if strict and not (well_formed and name in LSP_HEADERS):
            shown = name if well_formed else line[:40].decode("latin-1").strip()
            raise NotLsp(f"not an LSP header: {shown!r}")
        if well_formed:
            headers[name] = value.strip()
        else:
            log.debug("ignored a malformed header line (%d bytes)", len(line))


async def _skip(stream: Stream, size: int, stopped: asyncio.Event) -> bool:
    """Read past `size` bytes in bounded chunks; False when the stream ends first."""
    while size > 0:
        chunk = await _until_stopped(stream.read(min(size, _CHUNK)), stopped)
        if not chunk:
            return False
        size -= len(chunk)
    return True


def _parse_error(connection: Connection, message: str) -> None:
    connection.protocol._send_data(
        {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": message}}
    )


def _dispatch(connection: Connection, body: bytes) -> None:
    protocol = connection.protocol
    try:
        message = json.loads(body, object_hook=protocol.structure_message)
    except (ValueError, RecursionError) as err:  # not JSON, not UTF-8, nested past the interpreter's depth
        log.warning(
            "unreadable message: %s", str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        )
        _parse_error(connection, f"Parse error: {type(err).__name__}")
        return
    except Exception:  # pygls could not even structure it (e.g. an unknown request id in a response)
        log.exception("cannot read a message")
        return
    try:
        protocol.handle_message(message)
    except Exception:
        log.exception("cannot handle a message")


async def read_messages(stream: Stream, connection: Connection, strict: bool = False) -> None:
    """Hand every message of `stream` to the connection's protocol until the stream ends or the connection
    is stopped (`exit`). `strict` (TCP): raises NotLsp at anything but an LSP header block."""
    stopped = connection.stopped
    while not stopped.is_set():
        headers = await _headers(stream, stopped, strict)
        if headers is None:
            return
        raw = headers.get("content-length", "")
        if not raw.isdigit():
            log.warning("a message without a valid Content-Length (%r): skipped", raw[:40])
            continue
        size = int(raw)
        if size > MAX_MESSAGE_BYTES:
            log.warning("a message of %d bytes (more than %d): skipped", size, MAX_MESSAGE_BYTES)
            if not await _skip(stream, size, stopped):
                return
            _parse_error(connection, f"message too large: {size} bytes, at most {MAX_MESSAGE_BYTES}")
            continue
        body = await _until_stopped(stream.read(size), stopped)
        if body is None or len(body) < size:
            return
        _dispatch(connection, body)


def serve_stdio(connection: Any, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    """Serve one client over stdin/stdout until `exit` or the end of stdin; the exit code the spec asks for
    (0 after shutdown, else 1)."""
    stream = StdinStream(stdin or sys.stdin.buffer)
    connection.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))

    async def main() -> None:
        connection.stopped = asyncio.Event()
        await read_messages(stream, connection)

    try:
        asyncio.run(main())
    except BrokenPipeError:
        log.error("the client is gone")
    except KeyboardInterrupt:
        pass
    finally:
        connection.close()
    code: int | None = connection.exit_code
    return 1 if code is None else code


def serve_tcp(
    host: str, port: int, make: Callable[[], Any], ready: Callable[[int], None] | None = None
) -> None:
    """Listen on host:port until interrupted; each connection is served by its own `make()` server."""

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        log.info("client %s connected", peer)
        connection = make()
        connection.stopped = asyncio.Event()
        connection.protocol.set_writer(writer)
        try:
            await read_messages(SocketStream(reader), connection, strict=True)
        except NotLsp as err:
            log.warning("client %s closed: %s", peer, err)
        except (ConnectionError, OSError) as err:
            log.info("client %s: %s", peer, err)
        finally:
            connection.close()
            writer.close()
            log.info("client %s disconnected", peer)

    async def main() -> None:
        server = await asyncio.start_server(client, host, port, limit=MAX_HEADER_BYTES * 2)
        bound = server.sockets[0].getsockname()[1]
        log.info("listening on %s:%d", host, bound)
        if ready is not None:
            ready(bound)
        async with server:
            await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
