"""The floor of the server benchmark: the least an ASGI app on uvicorn can do per request.

It reads the whole request body and answers fixed bytes, nothing else: no routing, no
parsing, no checks. Pre-bound loopback socket, backlog 2048, log level warning, no access
log, lifespan on, uvloop, no WebSocket, no proxy-header middleware (as ``serve`` runs);
``--protocol`` picks the HTTP protocol, the one difference between the floors:

- ``httptools``: uvicorn's own httptools protocol, as ``face-contracts serve`` ran before
  issue 12 (no head limit, no head deadline, no connection limit);
- ``limited``: the stack ``face-contracts serve`` runs now, uvicorn's httptools protocol
  with our limits (``face_contracts._transport``), default ``[server]`` settings;
- ``h11``: uvicorn's h11 protocol with its head limit at the same 32 KiB, the alternative
  that bounds heads without our code.

So the difference between the floor and our server is our work, and the differences
between the floors are what the stack costs.

    python benchmarks/_floor_app.py --port N --body FILE [--protocol limited]
"""

from __future__ import annotations

import argparse
import socket
from pathlib import Path
from typing import Any


def make_app(body: bytes, content_type: bytes = b"application/json") -> Any:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        more = True
        while more:  # read the whole body, as any server must
            message = await receive()
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True, help="the bytes to answer")
    parser.add_argument("--protocol", choices=["httptools", "limited", "h11"], default="httptools")
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(2048)
    app = make_app(args.body.read_bytes())
    if args.protocol == "limited":
        from face_contracts._transport import Server, ServerConfig
        from face_contracts.server import ServerSettings

        settings = ServerSettings()
        config = ServerConfig(app, settings, log_level="warning", access_log=False)
        Server(config).run(sockets=[sock])
        return
    protocol: dict[str, Any] = {"http": "httptools"}
    if args.protocol == "h11":
        protocol = {"http": "h11", "h11_max_incomplete_event_size": 32 * 1024}
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        # As ServerConfig sets them, so that the protocol is the only difference.
        loop="uvloop",
        ws="none",
        proxy_headers=False,
        **protocol,
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
