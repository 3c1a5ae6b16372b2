"""The floor of the server benchmark: the least an ASGI app on uvicorn can do per request.

It reads the whole request body and answers fixed bytes, nothing else: no routing, no
parsing, no checks. It runs with the same uvicorn settings as ``face-contracts serve``
(pre-bound loopback socket, backlog 2048, log level warning, no access log, lifespan on,
default loop and HTTP implementations), so the difference to our server is our work.

    python benchmarks/_floor_app.py --port N --body FILE
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
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(2048)
    config = uvicorn.Config(
        make_app(args.body.read_bytes()), log_level="warning", access_log=False, lifespan="on"
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
