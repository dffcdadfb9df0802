#!/usr/bin/env bash
# The demo against examples/fastapi: starts the FastAPI backend (Debian's /usr/bin/python3,
# admin hooks on, 127.0.0.1 only) and the web demo pointed at it. Ctrl-C stops both.
#   FASTAPI_PORT (default 8000), FASTAPI_ACCESS_TTL seconds (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."

port=${FASTAPI_PORT:-8000}
if ! /usr/bin/python3 -c 'import fastapi, uvicorn, jose, multipart' 2>/dev/null; then
  echo "demo:fastapi needs Debian's python3-fastapi python3-uvicorn python3-jose python3-multipart" >&2
  echo "  sudo apt-get install python3-fastapi python3-uvicorn python3-jose python3-multipart" >&2
  exit 1
fi
/usr/bin/python3 examples/fastapi/main.py --admin --port "$port" \
  --access-ttl "${FASTAPI_ACCESS_TTL:-60}" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT INT TERM
VITE_TOKENFLIGHT_API="http://127.0.0.1:$port" pnpm demo
