"""``face-contracts serve``: checks first, then uvicorn.

Everything that can be wrong (a port out of range, an unreadable config or token file, a
taken port, an exposed admin API without a token) is found before the server starts and
reported in one line. The address is printed once the socket accepts connections.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from face_contracts import faces
from face_contracts._net import is_loopback_host
from face_contracts._transport import (
    BACKLOG,
    Server,
    ServerConfig,
    Supervisor,
    listening_socket,
    open_files_allowance,
)
from face_contracts.contracts import operations
from face_contracts.mock import FaceMock
from face_contracts.server import ENVIRONMENT_CONFIG, MockApp, read_settings_file
from face_contracts.settings import (
    ServerSettings,
    Settings,
    parse_server_settings,
    parse_settings,
)
from face_contracts.settings import SettingsError as ConfigError
from face_contracts.state import StateUnavailableError
from face_contracts.state_redis import served_state

if TYPE_CHECKING:
    from face_contracts.state import State

__all__ = ["ServeOptions", "admin_token", "parse_port", "parse_workers", "run"]

ADMIN_TOKEN_VARIABLE = "FACE_CONTRACTS_ADMIN_TOKEN"  # noqa: S105 - a variable name, not a secret


@dataclass(frozen=True)
class ServeOptions:
    """The command line of ``serve``. ``server`` holds the ``[server]`` values given on the
    command line (``grace``); they win over the settings file's."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    config: Path | None = None
    strict_urls: bool | None = None
    faces: int | None = None
    recordings: Path | None = None
    replay_drift: bool | None = None
    admin_token: str | None = None
    access_log: bool = False
    server: dict[str, object] = field(default_factory=dict)


def parse_port(text: str) -> int:
    """A TCP port from the command line: 0 to 65535, 0 picks a free one."""
    port = int(text) if text.strip().isdigit() else -1
    if not 0 <= port <= 65535:
        msg = f"--port must be a whole number from 0 to 65535 (0 picks a free port), not {text!r}"
        raise ValueError(msg)
    return port


def parse_workers(text: str) -> int:
    """The number of worker processes from the command line: at least 1."""
    workers = int(text) if text.strip().isdigit() else 0
    if workers < 1:
        msg = f"--workers must be a whole number of at least 1, not {text!r}"
        raise ValueError(msg)
    return workers


def admin_token(
    given: str | None, file: Path | None, environ: dict[str, str] | None = None
) -> str | None:
    """The admin token from ``--admin-token``, ``--admin-token-file`` or
    $FACE_CONTRACTS_ADMIN_TOKEN, in that order (only one of the two options)."""
    if given is not None and file is not None:
        msg = "give --admin-token or --admin-token-file, not both"
        raise ValueError(msg)
    if file is not None:
        try:
            given = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not UTF-8 text"
            msg = f"--admin-token-file {file}: cannot read: {reason}"
            raise ValueError(msg) from None
        where = f"--admin-token-file {file}"
    else:
        where = "--admin-token"
    if given is not None:
        token = given.strip()
        if not token or any(char.isspace() for char in token):
            msg = f"{where}: must hold one token, without spaces"
            raise ValueError(msg)
        return token
    token = (os.environ if environ is None else environ).get(ADMIN_TOKEN_VARIABLE, "").strip()
    return token or None


def _server_settings(options: ServeOptions, from_file: ServerSettings | None) -> ServerSettings:
    """The settings file's ``[server]`` table, then the command line's values over it."""
    settings = from_file or ServerSettings()
    for key, text in options.server.items():
        flag = "--" + key.replace("_", "-")
        settings = parse_server_settings({key: text}, base=settings, where=flag)
    return settings


def _shared_state(
    options: ServeOptions, settings: ServerSettings, overrides: dict[str, object]
) -> tuple[ServerSettings, State | None]:
    """The state shared by workers and replicas (``--state``, ``[server] state``, else
    $FACE_CONTRACTS_STATE), with its prefix settled, connected once; None: per process."""
    file = options.config.read_bytes() if options.config else b""
    sources = (file, orjson.dumps(overrides, option=orjson.OPT_SORT_KEYS))
    try:
        url, prefix, state = served_state(settings.state, settings.state_prefix, sources)
    except StateUnavailableError as error:
        raise ValueError(f"the shared state is unreachable: {error}".replace("\n", " ")) from None
    if state is None and options.workers > 1:
        print(
            f"face-contracts: {options.workers} workers, each with its own state (credits, "
            "rates, concurrency, nth/times, face_tokens, journal, admin changes); "
            "--state redis://host:port/db shares it (README: Scaling)",
            file=sys.stderr,
            flush=True,
        )
    return replace(settings, state=url, state_prefix=prefix), state


def run(options: ServeOptions) -> int:
    """Check the options, bind, listen, print where the server listens, serve until stopped."""
    if options.workers < 1:
        msg = "--workers must be at least 1"
        raise ValueError(msg)
    if not is_loopback_host(options.host) and not options.admin_token:
        msg = (
            f"--host {options.host} exposes the admin API beyond this machine: give "
            f"--admin-token-file (or ${ADMIN_TOKEN_VARIABLE}, or --admin-token)"
        )
        raise ValueError(msg)
    overrides: dict[str, object] = {}
    if options.strict_urls is not None:
        overrides["strict_urls"] = options.strict_urls
    if options.faces is not None:
        overrides["faces"] = options.faces
    if options.replay_drift is not None:
        overrides["replay_drift"] = options.replay_drift
    if options.recordings is not None:
        overrides["recordings"] = str(options.recordings)  # absolute: workers read it too
    config, from_file = read_settings_file(options.config) if options.config else (None, None)
    try:
        base = config or Settings()
        if overrides:
            base = parse_settings(overrides, base=base, base_dir=Path.cwd(), confine=False)
        settings = _server_settings(options, from_file)
    except ConfigError as error:
        raise ValueError(str(error)) from None
    settings, state = _shared_state(options, settings, overrides)

    allowed = open_files_allowance(settings.max_connections)
    if allowed < settings.max_connections:
        print(
            f"face-contracts: the open-files limit leaves room for {allowed} connections per "
            f"process, fewer than max_connections = {settings.max_connections}",
            file=sys.stderr,
            flush=True,
        )
        settings = replace(settings, max_connections=allowed)

    sock = listening_socket(options.host, options.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    # The model loads before the address is announced: the first picture does not also
    # wait for it, and a model that cannot load is said here rather than on a request.
    detector = faces.preload() if options.workers == 1 else faces.detector_status()
    line = (
        f"face-contracts mock listening on {url} ({len(operations())} operations; "
        f"admin: {url}/__admin/; {options.workers} worker{'s' * (options.workers != 1)})\n"
        f"face-contracts: {detector.line}"
    )
    log_level = "info" if options.access_log else "warning"
    if options.workers == 1:
        mock = FaceMock(base, state=state)
        mock.own_addresses.add((host, port))  # an image URL pointing here is never fetched
        app = MockApp(mock, admin_token=options.admin_token, settings=settings)
        server_config = ServerConfig(
            app, settings, log_level=log_level, access_log=options.access_log, backlog=BACKLOG
        )
        # The line is printed by the server once it serves the socket.
        Server(server_config, listening=line, owns_process=True).run(sockets=[sock])
        return 0
    os.environ[ENVIRONMENT_CONFIG] = orjson.dumps(
        {
            "config": str(options.config.resolve()) if options.config else None,
            "overrides": overrides,
            "admin_token": options.admin_token,
            "server": settings.to_json(),
            "listen": [host, port],
        }
    ).decode()
    server_config = ServerConfig(
        "face_contracts.server:app_from_environment",
        settings,
        factory=True,
        workers=options.workers,
        log_level=log_level,
        access_log=options.access_log,
        backlog=BACKLOG,
    )
    if state is not None:
        state.close()  # checked; each worker opens its own connections
    # The socket listens already (connections wait in its backlog for the workers).
    print(line, flush=True)
    Supervisor(server_config, sockets=[sock]).run()
    print("face-contracts mock stopped", file=sys.stderr, flush=True)
    return 0
