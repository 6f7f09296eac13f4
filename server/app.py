"""The HTTP face of the server: a small Starlette app over :class:`server.service.SyncServer`.

Each endpoint reads the body (refusing more than 8 MiB), calls one service method in a worker
thread and returns its bytes. Client mistakes become ``{"error": ..., "code": ...}`` with a 4xx
status; a busy database becomes 503. Bodies are never logged.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from protocol import admin, errors, limits, wire
from server.errors import ApiError, BadRequest
from server.service import SyncServer

__all__ = ["create_app", "listening_socket"]

log = logging.getLogger("motcua.server")

OCTET = "application/octet-stream"
#: Seconds an idle HTTP connection stays open: longer than a sync's gaps, so weak links
#: (600 ms per handshake on 2G) reuse one connection.
KEEP_ALIVE_S = 60


def listening_socket(host: str, port: int) -> socket.socket:
    """Return a TCP socket bound to ``host:port`` (port 0: any free one) for uvicorn to serve.

    The protocol is named (``IPPROTO_TCP``) on purpose: asyncio turns Nagle's algorithm off on
    accepted connections only for sockets whose ``proto`` says TCP, and with it on, every answer
    after the first on a kept-alive connection waited ~40 ms for the client's delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


#: A request handler of :class:`SyncServer`: takes the request's parts, returns sealed bytes.
Handler = Callable[..., bytes]


def _error(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status)


async def _read_body(request: Request) -> bytes:
    """Read the body, refusing more than the envelope limit without buffering it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.MAX_ENVELOPE_BYTES:
        raise ApiError(413, errors.ERR_TOO_LARGE, "request body larger than 8 MiB")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.MAX_ENVELOPE_BYTES:
                raise ApiError(413, errors.ERR_TOO_LARGE, "request body larger than 8 MiB")
            chunks.append(chunk)
    except ClientDisconnect:
        # A link cut mid-body (common on 2G): nothing was read, nothing is stored.
        raise BadRequest("client disconnected mid-request") from None
    return b"".join(chunks)


async def _call(func: Handler, *args: str | bytes) -> Response:
    """Run a service call in a worker thread; map its errors to status + code + message."""
    try:
        result = await run_in_threadpool(func, *args)
    except ApiError as exc:
        return _error(exc)
    except OperationalError:
        log.warning("database busy or unreachable")
        return JSONResponse(
            errors.error_body("database busy, retry later", errors.ERR_BUSY),
            status_code=503,
            headers={"Retry-After": "5"},
        )
    except Exception as exc:
        # Handled here, not re-raised: the server's own traceback logging could quote
        # request data. Only the exception type is logged.
        log.error("internal error in %s: %s", func.__name__, type(exc).__name__)
        return JSONResponse(errors.error_body("internal server error", "internal"), 500)
    return Response(result, media_type=OCTET)


async def _call_with_body(request: Request, func: Handler, *args: str) -> Response:
    """Read the request body, then call ``func(*args, body)``."""
    try:
        body = await _read_body(request)
    except ApiError as exc:
        return _error(exc)
    return await _call(func, *args, body)


def _body_endpoint(func: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Return an endpoint that passes the request body to ``func``."""

    async def endpoint(request: Request) -> Response:
        return await _call_with_body(request, func)

    return endpoint


async def _attachment_head(server: SyncServer, request: Request, sha: str) -> Response:
    """Answer ``HEAD /attachments/<sha256>``: status and headers only, no body."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        offset = await run_in_threadpool(
            server.attachment_offset, sha, "HEAD", request.url.path, headers
        )
    except ApiError as exc:
        return Response(status_code=exc.status, headers={"X-Motcua-Error": exc.code})
    except OperationalError:
        return Response(status_code=503, headers={"Retry-After": "5"})
    except Exception as exc:
        log.error("internal error in HEAD: %s", type(exc).__name__)
        return Response(status_code=500)
    return Response(
        status_code=200,
        headers={wire.HEADER_UPLOAD_OFFSET: str(offset), "Cache-Control": "no-store"},
    )


async def _not_found(_request: Request, _exc: Exception) -> Response:
    return JSONResponse(errors.error_body("no such endpoint", errors.ERR_NOT_FOUND), 404)


async def _not_allowed(_request: Request, _exc: Exception) -> Response:
    return JSONResponse(errors.error_body("method not allowed", errors.ERR_BAD_REQUEST), 405)


async def _internal(request: Request, exc: Exception) -> Response:
    # Only the exception type: its message could quote request data.
    log.error("internal error on %s: %s", request.url.path, type(exc).__name__)
    return JSONResponse(errors.error_body("internal server error", "internal"), 500)


def create_app(server: SyncServer) -> Starlette:
    """Return the ASGI app serving ``server``."""

    async def health(_request: Request) -> Response:
        return JSONResponse({"ok": True, "server_time": server.clock()})

    async def attachment(request: Request) -> Response:
        sha = request.path_params["sha256"]
        if request.method == "HEAD":
            return await _attachment_head(server, request, sha)
        return await _call_with_body(request, server.upload_chunk, sha)

    routes = [
        Route(wire.PATH_HEALTH, health, methods=["GET"]),
        Route(wire.PATH_ENROL, _body_endpoint(server.enrol), methods=["POST"]),
        Route(wire.PATH_SYNC, _body_endpoint(server.sync), methods=["POST"]),
        Route(
            wire.PATH_ATTACHMENTS_MISSING,
            _body_endpoint(server.attachments_missing),
            methods=["POST"],
        ),
        Route("/attachments/{sha256}", attachment, methods=["HEAD", "PATCH"]),
        Route(admin.PATH_ADMIN_ENROL, _body_endpoint(server.enrol_operator), methods=["POST"]),
        Route(admin.PATH_ADMIN, _body_endpoint(server.admin), methods=["POST"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={404: _not_found, 405: _not_allowed, Exception: _internal},
    )
