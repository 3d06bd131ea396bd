#!/usr/bin/env bash
# Runs a command with a PostgreSQL server to test against, named by HAVEN_TEST_DATABASE_URL
# (the server's maintenance database; each test binary creates a fresh database of its own).
#
# Where HAVEN_TEST_DATABASE_URL is already set, that server is used. Otherwise a throwaway
# cluster is made for the command and dropped after it (pg_virtualenv, from Debian's
# postgresql-common: a temporary directory, a free port, a random password; it works as
# root too). Never a shared database, never a mock.
#
#   scripts/test/with-postgres.sh cargo test -p server --test postgres -- --ignored
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS…]" >&2; exit 2; }
if [ -n "${HAVEN_TEST_DATABASE_URL:-}" ]; then
  exec "$@"
fi
command -v pg_virtualenv >/dev/null || {
  echo "pg_virtualenv not found: run scripts/setup.sh test (Debian's postgresql)" >&2
  exit 1
}
# pg_virtualenv exports PGHOST, PGPORT, PGUSER and PGPASSWORD for the command.
exec pg_virtualenv bash -c '
  export HAVEN_TEST_DATABASE_URL="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/postgres"
  exec "$@"' with-postgres "$@"
