#!/usr/bin/env bash
# Run the whole test suite: lint, then pytest offscreen, against SQLite and a real PostgreSQL server.
set -uo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export QT_QPA_PLATFORM=offscreen
export PYTHONUNBUFFERED=1

ruff check . || exit 1

# A throwaway PostgreSQL cluster for the storage tests. Locally they are skipped with a reason if it
# cannot start; under CI ($CI set) that is a failure: a CI run must never pass without PostgreSQL.
if [ -z "${AFFECTSCOPE_PG_URL:-}" ] && [ -f packaging/ci/postgres.sh ]; then
  if pg_env=$(bash packaging/ci/postgres.sh); then
    eval "$pg_env"
  elif [ -n "${CI:-}" ] && [ "${CI:-}" != "false" ] && [ "${CI:-}" != "0" ]; then
    echo "error: CI is set but PostgreSQL could not be started (packaging/ci/postgres.sh)" >&2
    exit 1
  else
    echo "warning: PostgreSQL could not be started; postgres-marked tests will be skipped"
  fi
fi

python -m pytest -p no:cacheprovider "$@"
rc=$?
[ -n "${AFFECTSCOPE_PG_DIR:-}" ] && bash packaging/ci/postgres.sh stop >/dev/null 2>&1
exit $rc
