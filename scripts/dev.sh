#!/usr/bin/env bash
# Sets up a fresh machine and runs what you ask for:
#   bash scripts/dev.sh demo   # install what is missing, then start the demo
#   bash scripts/dev.sh test   # install what is missing, then build, check and test everything
#   bash scripts/dev.sh setup  # install what is missing, run nothing
# Nothing here needs root except apt-get, which runs only when a Debian package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9

# System packages from Debian, only those that are missing. apt-get needs root: as another
# user the script asks sudo, and says so first.
ensure_apt() {
  local missing=()
  for spec in "$@"; do
    local pkg=${spec%%:*} probe=${spec#*:}
    if ! eval "$probe" >/dev/null 2>&1; then missing+=("$pkg"); fi
  done
  [ "${#missing[@]}" -eq 0 ] && return
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "✗ missing Debian packages: ${missing[*]}; installing them needs root and there is no sudo: run 'apt-get install ${missing[*]}' as root, then this again" >&2
      exit 1
    fi
    echo "› installing ${missing[*]} (Debian) for the tests: apt-get needs root, running it through sudo"
    sudo=(sudo)
  else
    echo "› installing ${missing[*]} (Debian) for the tests"
  fi
  "${sudo[@]}" apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Node ≥ 20.19 and npm, the only things this script does not install.
ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "✗ this needs Node ≥ 20.19 with npm on PATH (https://nodejs.org)" >&2
    exit 1
  fi
  if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'; then
    echo "✗ Node $(node -v) is too old: tokenflight needs Node ≥ 20.19" >&2
    exit 1
  fi
}

# A pinned pnpm in .tools/, installed from npm into this checkout: nothing global changes
# (no npm install -g, no corepack), and every script below finds it first on PATH.
ensure_pnpm() {
  local dir=.tools/pnpm-$PNPM_VERSION
  if [ ! -x "$dir/node_modules/.bin/pnpm" ]; then
    echo "› fetching pnpm@$PNPM_VERSION into $dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "pnpm@$PNPM_VERSION" >/dev/null
  fi
  PATH="$PWD/$dir/node_modules/.bin:$PATH"
  export PATH
}

ensure_deps() {
  echo "› pnpm install --frozen-lockfile"
  pnpm install --frozen-lockfile --reporter=append-only >/dev/null
}

ensure_test_tools() {
  ensure_apt \
    'chromium:test -x /usr/bin/chromium' \
    'redis-server:command -v redis-server' \
    'python3-fastapi:/usr/bin/python3 -c "import fastapi"' \
    'python3-uvicorn:/usr/bin/python3 -c "import uvicorn"' \
    'python3-jose:/usr/bin/python3 -c "import jose"' \
    'python3-multipart:/usr/bin/python3 -c "import multipart"'
}

run_tests() {
  local failed_steps=()
  step() {
    local name=$1
    shift
    echo "› $name"
    if ! "$@"; then failed_steps+=("$name"); fi
  }
  step build pnpm build
  step typecheck pnpm typecheck
  step lint pnpm lint
  step publint pnpm publint
  step attw pnpm attw
  step size pnpm size
  step demo-build pnpm --filter @tokenflight/demo build
  rm -f .vitest-report.json
  # The FastAPI end-to-end tests skip where python3-fastapi is missing; here it was installed.
  step vitest env TOKENFLIGHT_REQUIRE_FASTAPI=1 pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=.vitest-report.json

  local summary
  summary=$(node -e '
    const fs = require("node:fs")
    try {
      const r = JSON.parse(fs.readFileSync(".vitest-report.json", "utf8"))
      const failed = r.numFailedTests + (r.numFailedTestSuites > 0 && r.numFailedTests === 0 ? r.numFailedTestSuites : 0)
      process.stdout.write(`${r.numPassedTests} ${failed} ${r.numTotalTests}`)
    } catch { process.stdout.write("0 1 0") }
  ')
  read -r passed failed total <<<"$summary"
  if [ "${#failed_steps[@]}" -gt 0 ]; then
    echo "failed steps: ${failed_steps[*]}"
  fi
  if [ "$total" = 0 ]; then
    echo "vitest ran no test"
    failed=$((failed + 1))
  fi
  echo "$passed passed, $failed failed"
  if [ "$failed" -gt 0 ] || [ "${#failed_steps[@]}" -gt 0 ]; then exit 1; fi
}

case "${1:-}" in
  setup)
    ensure_node
    ensure_pnpm
    ensure_deps
    ensure_test_tools
    ;;
  demo)
    ensure_node
    ensure_pnpm
    ensure_deps
    exec pnpm demo
    ;;
  test)
    ensure_node
    ensure_pnpm
    ensure_deps
    ensure_test_tools
    run_tests
    ;;
  *)
    echo "usage: bash scripts/dev.sh demo|test|setup" >&2
    exit 2
    ;;
esac
