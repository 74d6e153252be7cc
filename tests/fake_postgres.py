"""A stand-in for PostgreSQL on 127.0.0.1:0: relays to the real server, or fails as told.

`refuse(sqlstate)` answers every new connection's startup with a FATAL ErrorResponse (what a
server that is starting, shutting down or full says) and drops the open ones; `blackhole()`
accepts and never answers, and silences the open ones (packet loss); `close()` stops listening
(connection refused); `recover()` relays again.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


def error_response(sqlstate: str, message: str, severity: str = "FATAL") -> bytes:
    fields = b"".join(
        tag + value.encode() + b"\0"
        for tag, value in ((b"S", severity), (b"V", severity), (b"C", sqlstate), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


class FakePostgres:
    def __init__(self, upstream_host: str = "127.0.0.1", upstream_port: int = 5432) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = "127.0.0.1"
        self.port = 0
        self.mode = "relay"
        self._refusal = b""
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        await self.close()  # every connection's task ends once its sockets are dropped
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    # faults

    def refuse(self, sqlstate: str, message: str) -> None:
        self.mode = "refuse"
        self._refusal = error_response(sqlstate, message)
        self._drop_open_connections()

    def blackhole(self) -> None:
        self.mode = "blackhole"

    async def close(self) -> None:
        """Stop listening: new connections are refused by the operating system."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self._drop_open_connections()

    async def recover(self) -> None:
        self.mode = "relay"
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, self.host, self.port)

    def _drop_open_connections(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()

    # the wire

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            if self.mode == "relay":
                await self._relay(reader, writer)
            elif self.mode == "refuse":
                await self._refuse(reader, writer)
            else:
                await reader.read()  # swallow everything, answer nothing
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.transport.abort()

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            (length,) = struct.unpack("!I", await reader.readexactly(4))
            payload = await reader.readexactly(length - 4)
            code = struct.unpack("!I", payload[:4])[0] if len(payload) >= 4 else 0
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                writer.write(b"N")  # no encryption here; go on in plain text
                await writer.drain()
                continue
            writer.write(self._refusal)
            await writer.drain()
            return

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self._writers.add(up_writer)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._writers.discard(up_writer)
            up_writer.transport.abort()

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                if self.mode == "blackhole":
                    continue  # lost on the way
                sink.write(data)
                await sink.drain()
        sink.transport.abort()
