"""Runs the example under uvicorn on 127.0.0.1. `python3 main.py --help` lists the settings.

Every flag also reads an environment variable (TOKENFLIGHT_FASTAPI_<FLAG>, e.g.
TOKENFLIGHT_FASTAPI_CONTRACT=tutorial-query); a flag given on the command line wins.
Once the socket listens, the first line on stdout is `listening on http://127.0.0.1:<port>`.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading

import uvicorn

from app import CONTRACTS, create_app, settings_for

HOST = "127.0.0.1"  # never another interface: this server has test hooks and a demo user


def env(name: str, default=None):
    return os.environ.get("TOKENFLIGHT_FASTAPI_" + name.upper().replace("-", "_"), default)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--port", type=int, default=int(env("port", 8000)), help="0 picks a free port (default 8000)")
    add("--contract", choices=sorted(CONTRACTS), default=env("contract", "reference"))
    add("--access-ttl", type=int, default=env("access-ttl"), help="seconds (default 900)")
    add("--refresh-ttl", type=int, default=env("refresh-ttl"), help="seconds (default 7 days)")
    add("--refresh-token-in", choices=["body", "query"], default=env("refresh-token-in"))
    add("--expires-in", choices=["all", "token", "none"], default=env("expires-in"))
    add("--refresh-returns", choices=["pair", "access"], default=env("refresh-returns"))
    add("--bad-login-status", type=int, choices=[400, 401, 403], default=env("bad-login-status"))
    add("--prefix", default=env("prefix"), help="mount every route under it, e.g. /api/v1")
    add("--token-path", default=env("token-path"), help="default /token")
    add("--no-logout", action="store_true", default=env("no-logout") == "1", help="serve no /logout")
    add("--logout-auth", choices=["refresh", "bearer-if-sent", "access"], default=env("logout-auth"))
    add("--admin", action="store_true", default=env("admin") == "1", help="serve the /__admin test hooks")
    add("--no-cors", action="store_true", default=env("no-cors") == "1")
    add(
        "--exit-with-stdin",
        action="store_true",
        help="exit when stdin closes (the tests use it so that no server outlives them)",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse(argv)
    overrides = {
        key: value
        for key, value in {
            "access_ttl": args.access_ttl,
            "refresh_ttl": args.refresh_ttl,
            "refresh_token_in": args.refresh_token_in,
            "expires_in": args.expires_in,
            "refresh_returns": args.refresh_returns,
            "bad_login_status": args.bad_login_status,
            "prefix": args.prefix,
            "token_path": args.token_path,
            "logout_auth": args.logout_auth,
        }.items()
        if value is not None
    }
    if args.no_logout:
        overrides["logout"] = False
    settings = settings_for(args.contract, admin=args.admin, cors=not args.no_cors, **overrides)

    # Bound here rather than by uvicorn, so that port 0 works and the real port is known.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, args.port))
    sock.listen(128)
    print(f"listening on http://{HOST}:{sock.getsockname()[1]}", flush=True)

    if args.exit_with_stdin:

        def watch() -> None:
            sys.stdin.read()
            os._exit(0)

        threading.Thread(target=watch, daemon=True).start()

    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main(sys.argv[1:])
