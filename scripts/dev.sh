#!/usr/bin/env bash
# Sets up a fresh machine and runs what you ask for:
#   bash scripts/dev.sh demo   # install what is missing, then start the demo
#   bash scripts/dev.sh test   # install what is missing, then build, check and test everything
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_pnpm() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; then
    return
  fi
  echo "› installing pnpm@$PNPM_VERSION"
  # corepack's shim would try to verify signatures the registry here does not serve.
  corepack disable >/dev/null 2>&1 || true
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
}

ensure_deps() {
  echo "› pnpm install --frozen-lockfile"
  pnpm install --frozen-lockfile --reporter=append-only >/dev/null
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return; fi
  echo "› installing chromium (Debian) for the browser tests"
  as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
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
  step size pnpm size
  step demo-build pnpm --filter @tokenflight/demo build
  rm -f .vitest-report.json
  step vitest pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=.vitest-report.json

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
  demo)
    ensure_pnpm
    ensure_deps
    exec pnpm demo
    ;;
  test)
    ensure_pnpm
    ensure_deps
    ensure_chromium
    run_tests
    ;;
  *)
    echo "usage: bash scripts/dev.sh demo|test" >&2
    exit 2
    ;;
esac
