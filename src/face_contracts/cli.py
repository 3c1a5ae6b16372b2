"""The ``face-contracts`` command line.

Exit codes: 0 success (every document valid), 1 some document invalid, 2 usage error
(unknown operation or kind, unreadable file, not JSON). Errors are one line, never a
traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import orjson

from face_contracts.contracts import KINDS, contracts, operations
from face_contracts.errors import FaceContractsError
from face_contracts.validation import validate

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class _UsageError(Exception):
    """A one-line problem with what the user asked for (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="face-contracts",
        description="Contracts, generators and mocks for face-landmark APIs.",
    )
    parser.add_argument("--version", action="version", version=f"face-contracts {_version()}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    commands.add_parser("operations", help="list the operations: id, method, path")

    check = commands.add_parser(
        "validate",
        help="validate documents against an operation's contract",
        description="Print one verdict line per file (PATH: valid | PATH: invalid (N failures)), "
        "then the failures of invalid files, one per line: JSON pointer, message, [rule]. "
        "Exit 0 if every file is valid, 1 if any is invalid, 2 on a usage error.",
    )
    check.add_argument(
        "operation", metavar="OPERATION", help="operation id, see 'face-contracts operations'"
    )
    check.add_argument("kind", metavar="KIND", help=f"document kind: {', '.join(KINDS)}")
    check.add_argument(
        "files",
        metavar="FILE",
        nargs="+",
        type=Path,
        help="JSON document (or a plain-text body where one is documented)",
    )
    check.add_argument("--variant", help="validate against a documented alternative shape")
    check.add_argument(
        "--request",
        type=Path,
        metavar="FILE",
        help="the request document that produced these responses (enables request-aware rules)",
    )
    check.add_argument(
        "--status",
        type=int,
        metavar="CODE",
        help="the HTTP status the documents came with (enables status rules)",
    )
    example = commands.add_parser(
        "example",
        help="print generated documents, one JSON document per line",
        description="Print COUNT generated documents of an operation and kind, one JSON "
        "document per line. Valid ones are the documents themselves; with --invalid each "
        "line is {label, rule, pointer, expected, description, document[, request, status]}: "
        "the document breaks exactly one rule and 'expected' lists every (rule, pointer) "
        "failure validate reports for it. Requests are request documents: "
        '{"headers": {...}, "body": {...}} with images as base64 file parts. '
        "The same --seed prints the same lines. Request pictures are small unless "
        "--image-size says otherwise; without it, invalid requests that break the picture's "
        "byte limit (megabytes of base64) are left out.",
    )
    example.add_argument("operation", metavar="OPERATION", help="operation id")
    example.add_argument("kind", metavar="KIND", help=f"document kind: {', '.join(KINDS)}")
    example.add_argument(
        "--variant", help="documents of a documented alternative shape (validate --variant)"
    )
    example.add_argument(
        "--image-size",
        metavar="WxH",
        help="size of the pictures in requests, such as 640x480 (default: the smallest the "
        "vendor's limits accept that holds a face, at least 64x64)",
    )
    example.add_argument(
        "--invalid", action="store_true", help="print invalid documents with their labels"
    )
    example.add_argument(
        "--count", type=int, default=1, metavar="N", help="how many documents (default 1)"
    )
    example.add_argument(
        "--seed", type=int, default=0, metavar="N", help="generation seed (default 0)"
    )
    serve = commands.add_parser(
        "serve",
        help="serve the five operations at their real paths, for clients in any language",
        description="Run the vendor-faithful mock as an HTTP server (uvicorn). Point a client's "
        "base URL at it: every operation answers at its vendor path; /__admin/ controls it "
        "(health, reset, config, errors, faults, faces, images, requests, openapi.json). "
        "Stops cleanly on Ctrl-C or SIGTERM.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)"
    )
    serve.add_argument(
        "--port", default="8080", metavar="PORT", help="port (default 8080; 0 picks a free one)"
    )
    serve.add_argument("--workers", default="1", metavar="N", help="worker processes (default 1)")
    serve.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML settings: credentials, faces, errors, faults, quotas, images; the [server] "
        "table sets the server's limits (README: Safety and robustness)",
    )
    serve.add_argument(
        "--strict-urls",
        action="store_true",
        default=None,
        help="answer unknown image URLs with the vendor's download failure",
    )
    serve.add_argument("--faces", type=int, metavar="N", help="every picture has N faces")
    serve.add_argument(
        "--recordings",
        type=Path,
        metavar="DIR",
        help="answer requests that match a recording (the live suite's or the proxy's --record) "
        "with the recorded answer (settings key recordings)",
    )
    serve.add_argument(
        "--replay-drift",
        action="store_true",
        default=None,
        help="also replay recordings whose answers break the contract, as the vendor really "
        "sent them; the journal marks them (settings key replay_drift)",
    )
    serve.add_argument(
        "--grace",
        metavar="SECONDS",
        help="on SIGTERM or Ctrl-C, in-flight requests get this long to finish, then the "
        "server closes and exits 0; a second signal exits at once (default 5; [server] grace)",
    )
    serve.add_argument(
        "--admin-token-file",
        type=Path,
        metavar="FILE",
        help="require 'Authorization: Bearer TOKEN' on /__admin/, TOKEN read from FILE "
        "(required when --host is not loopback; default: $FACE_CONTRACTS_ADMIN_TOKEN)",
    )
    serve.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help="the same with TOKEN on the command line, where other users of the machine can "
        "see it (ps); prefer --admin-token-file or $FACE_CONTRACTS_ADMIN_TOKEN",
    )
    serve.add_argument(
        "--access-log", action="store_true", help="log every request (uvicorn access log)"
    )
    serve.add_argument(
        "--state",
        metavar="URL",
        help="share credits, rates, slots, nth/times counters, face_tokens, the journal and "
        "admin changes between workers and replicas: redis://host:port/db (default: each "
        "process its own; [server] state; $FACE_CONTRACTS_STATE)",
    )
    serve.add_argument(
        "--state-prefix",
        metavar="PREFIX",
        help="Redis key prefix (default: derived from the settings, so differently "
        "configured mocks on one Redis stay apart)",
    )
    proxy = commands.add_parser(
        "proxy",
        help="forward real traffic to the vendors (or staging), judging and recording it",
        description="A validation proxy: serve the five operations at their vendor paths and "
        "forward each request unchanged (streamed, hop-by-hop headers removed) to its vendor's "
        "target; the client gets the target's status, headers and body byte for byte. Each "
        "exchange is judged against the contract after its answer is sent: verdicts in "
        "GET /__admin/requests, distinct drifts with counts in GET /__admin/drift, written to "
        "--drift-report and --junitxml on POST /__admin/drift/flush and on shutdown. An "
        "unreachable target is answered 502 (504 on timeout) in plain text by the proxy. "
        "Exit status 0, or 1 with --strict-drift when any drift was seen.",
    )
    proxy.add_argument(
        "--target",
        action="append",
        required=True,
        metavar="[VENDOR=]URL",
        help="where requests go: a bare URL for every vendor, or ailab=URL, acedata=URL, "
        "facepp=URL (repeat the option; a vendor's own target wins over the bare URL)",
    )
    proxy.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)"
    )
    proxy.add_argument(
        "--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)"
    )
    proxy.add_argument(
        "--drift-report",
        type=Path,
        metavar="FILE",
        help="write the drift report (JSON) here on shutdown and on POST /__admin/drift/flush",
    )
    proxy.add_argument(
        "--junitxml", type=Path, metavar="FILE", help="write the drift tally as JUnit XML here"
    )
    proxy.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        help="save one redacted recording per distinct request under DIR (drifted answers "
        "too, marked); replay them with serve",
    )
    proxy.add_argument(
        "--strict-drift",
        action="store_true",
        help="drift warnings (unknown extra fields, alternative shapes) count as failures, and "
        "the proxy exits 1 on shutdown if any drift or invalid request was seen",
    )
    proxy.add_argument(
        "--upstream-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long a target may take to answer before the client gets a 504 (default 60)",
    )
    proxy_token = proxy.add_mutually_exclusive_group()
    proxy_token.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help="require 'Authorization: Bearer TOKEN' on /__admin/ (required when --host is not "
        "loopback; default: $FACE_CONTRACTS_ADMIN_TOKEN)",
    )
    proxy_token.add_argument(
        "--admin-token-file",
        type=Path,
        metavar="FILE",
        help="read the admin token from FILE (kept out of the process list)",
    )
    proxy.add_argument(
        "--access-log", action="store_true", help="log every request (secrets masked)"
    )
    proxy.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="a TOML file whose [server] table sets the proxy's limits and grace as for serve "
        "(max_connections, max_header_bytes, max_headers, header_timeout, body_timeout, "
        "keep_alive_timeout, grace); default: serve's defaults",
    )
    commands.add_parser(
        "openapi",
        help="print the OpenAPI 3.1 document of the five operations (JSON)",
        description="Print the OpenAPI 3.1 document generated from schemas/ and mocks/: "
        "request bodies, success answers, every documented error status and its body.",
    )
    picture = commands.add_parser(
        "draw",
        help="draw an operation's landmarks and face boxes over a picture (PNG)",
        description="Draw the landmarks and face boxes an operation answers for IMAGE, each "
        "landmark group in its own colour, with a legend. The answer is the local mock's "
        "(every landmark it can return) unless --response gives a saved or real one, which "
        "is validated first. Exit 0 when written, 2 on a usage error.",
    )
    picture.add_argument("operation", metavar="OPERATION", help="operation id")
    picture.add_argument("image", metavar="IMAGE", type=Path, help="the picture (JPEG, PNG...)")
    picture.add_argument(
        "--out", required=True, type=Path, metavar="FILE", help="where to write the picture"
    )
    picture.add_argument(
        "--response",
        type=Path,
        metavar="FILE",
        help="the success answer (JSON) to draw instead of asking the mock",
    )
    picture.add_argument(
        "--faces", type=int, metavar="N", help="the mock finds N faces (without --response)"
    )
    picture.add_argument(
        "--face-box",
        action="append",
        metavar="LEFT,TOP,WIDTH,HEIGHT",
        help="a face the mock finds there instead of detecting (repeatable; without --response)",
    )
    return parser


def _openapi() -> int:
    # Deferred: each subcommand loads only what it runs (server, proxy, Hypothesis...).
    from face_contracts.openapi import openapi_document

    sys.stdout.flush()
    sys.stdout.buffer.write(orjson.dumps(openapi_document(), option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.buffer.flush()
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    # Deferred: each subcommand loads only what it runs (server, proxy, Hypothesis...).
    from face_contracts._serve import ServeOptions, admin_token, parse_port, parse_workers, run

    try:
        options = ServeOptions(
            host=args.host,
            port=parse_port(args.port),
            workers=parse_workers(args.workers),
            config=args.config,
            strict_urls=args.strict_urls,
            faces=args.faces,
            recordings=args.recordings.resolve() if args.recordings else None,
            replay_drift=args.replay_drift,
            admin_token=admin_token(args.admin_token, args.admin_token_file),
            access_log=args.access_log,
            server={
                key: value
                for key, value in (
                    ("grace", args.grace),
                    ("state", args.state),
                    ("state_prefix", args.state_prefix),
                )
                if value is not None
            },
        )
        return run(options)
    except ValueError as error:  # ConfigError and the option checks
        raise _UsageError(str(error)) from None


def _proxy(args: argparse.Namespace) -> int:
    # Deferred: each subcommand loads only what it runs (server, proxy, Hypothesis...).
    from face_contracts.proxy import ProxyOptions, parse_targets, read_proxy_settings, run_proxy

    token = args.admin_token or os.environ.get("FACE_CONTRACTS_ADMIN_TOKEN") or None
    if args.admin_token_file is not None:
        token = _read(args.admin_token_file).decode("utf-8", errors="replace").strip()
        if not token:
            msg = f"{args.admin_token_file}: the admin token file is empty"
            raise _UsageError(msg)
    try:
        options = ProxyOptions(
            targets=parse_targets(args.target),
            host=args.host,
            port=args.port,
            drift_report=args.drift_report,
            junitxml=args.junitxml,
            record=args.record,
            strict_drift=args.strict_drift,
            admin_token=token,
            upstream_timeout=args.upstream_timeout,
            access_log=args.access_log,
            server=read_proxy_settings(args.config),
        )
        return run_proxy(options)
    except ValueError as error:  # TargetError and the option checks
        raise _UsageError(str(error)) from None


def _example(args: argparse.Namespace) -> int:
    # Deferred: each subcommand loads only what it runs (server, proxy, Hypothesis...).
    from face_contracts.generation._examples import generate, parse_image_size

    if args.count < 1:
        msg = "--count must be at least 1"
        raise _UsageError(msg)
    contracts().operation(args.operation).schema_id(args.kind, args.variant)
    size = None
    if args.image_size is not None:
        if args.kind != "request":
            msg = "--image-size applies to request documents"
            raise _UsageError(msg)
        try:
            size = parse_image_size(args.image_size)
        except ValueError as error:
            raise _UsageError(str(error)) from None
    try:
        lines = generate(
            args.operation,
            args.kind,
            invalid=args.invalid,
            count=args.count,
            seed=args.seed,
            variant=args.variant,
            image_size=size,
        )
        for line in lines:
            sys.stdout.write(line + "\n")
    except (ValueError, NotImplementedError) as error:  # a size the vendor refuses
        raise _UsageError(str(error)) from None
    return EXIT_OK


def _version() -> str:
    try:
        return version("face-contracts")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _draw(args: argparse.Namespace) -> int:
    # Deferred: each subcommand loads only what it runs (Pillow and the engine here).
    from face_contracts.draw import DrawError, draw, faces_source, parse_face_box
    from face_contracts.mock import FaceMock  # deferred: a subcommand loads what it runs

    image = _read(args.image)
    response = None if args.response is None else _read(args.response)
    mock = FaceMock()
    if args.faces is not None:
        if args.response is not None or args.faces < 0 or args.face_box:
            msg = "--faces is a count of at least 0, for the mock's answer, not with --face-box"
            raise _UsageError(msg)
        mock.set_faces(args.faces)
    if args.face_box:
        if args.response is not None:
            msg = "--face-box is only for the mock's answer, not with --response"
            raise _UsageError(msg)
        try:
            mock.set_faces([parse_face_box(text) for text in args.face_box])
        except ValueError as error:
            raise _UsageError(str(error)) from None
    try:
        picture = draw(args.operation, image, response, mock=mock)
    except DrawError as error:
        where = {"image": args.image, "response": args.response}.get(error.subject)
        msg = str(error) if where is None else f"{where}: {error}"
        raise _UsageError(msg) from None
    try:
        picture.save(args.out)
    except (OSError, ValueError) as error:  # an unknown extension is a ValueError
        msg = f"{args.out}: cannot write: {error}"
        raise _UsageError(msg) from None
    print(f"{args.out}: {args.operation} drawn")
    if response is None:
        print(faces_source(image, given=args.faces is not None or bool(args.face_box)))
    return EXIT_OK


def _operations() -> int:
    width = max(len(op.id) for op in operations())
    for op in operations():
        print(f"{op.id:<{width}}  {op.method}  {op.path}")
    return EXIT_OK


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        msg = f"{path}: cannot read: {error.strerror or error}"
        raise _UsageError(msg) from None


def _validate(args: argparse.Namespace) -> int:
    op = contracts().operation(args.operation)
    op.schema_id(args.kind, args.variant)  # an unknown kind or variant is a usage error
    request = None
    if args.request is not None:
        try:
            request = orjson.loads(_read(args.request))
        except orjson.JSONDecodeError as error:
            msg = f"{args.request}: not JSON: {error}"
            raise _UsageError(msg) from None
    documents = []
    for path in args.files:
        raw = _read(path)
        try:
            document: object = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            if not op.accepts_text(args.kind):
                msg = f"{path}: not JSON: {error}"
                raise _UsageError(msg) from None
            document = raw
        documents.append((path, document))
    exit_code = EXIT_OK
    for path, document in documents:
        report = validate(
            op.id,
            args.kind,
            document,
            variant=args.variant,
            request=request,
            status=args.status,
            base_dir=path.parent,
        )
        if report.valid:
            print(f"{path}: valid")
            continue
        exit_code = EXIT_INVALID
        count = len(report.failures)
        print(f"{path}: invalid ({count} failure{'s' * (count != 1)})")
        for failure in report.failures:
            print(f"  {failure}")
    return exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "operations":
            return _operations()
        if args.command == "example":
            return _example(args)
        if args.command == "serve":
            return _serve(args)
        if args.command == "proxy":
            return _proxy(args)
        if args.command == "openapi":
            return _openapi()
        if args.command == "draw":
            return _draw(args)
        return _validate(args)
    except (_UsageError, FaceContractsError) as error:
        print(f"face-contracts: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
