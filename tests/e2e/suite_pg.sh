#!/usr/bin/env bash
# suite_pg.sh - the end-to-end contract on PostgreSQL/PostGIS (issue 18):
# the scripts below, unchanged, each with its server (and its command
# lines) on a PostgreSQL 15 + PostGIS of its own (FM_BACKEND=postgresql,
# tests/lib.sh). Each also runs on SQLite as its own test. The scripts that
# reach into the database with sqlite3 (tampering, counting rows) are not
# in the list. PostgreSQL's own parts have tests of their own: the store
# (store_pg.sh), moving a cell (copy.sh), several servers (nodes.sh), a
# standby (standby.sh) and the CQL2 filters (interop/cql2_backends.sh).
. "$(dirname "$0")/../lib.sh"

here=$(dirname "$0")
# (sessions, cors, framing, openapi and vocabulary pass there too, by
# hand: HTTP's layer, the same on either store, left out for CI's time)
scripts="api authz workflow conflicts conflicts_asof bad_input login inbox visibility"
# under ASan, the ones that drive the PostgreSQL store's C the hardest (the
# whole list takes some 10 minutes there)
[ "${FM_SANITIZED:-0}" = 1 ] && scripts="api authz conflicts bad_input"
for t in $scripts; do
    check "e2e $t passes with its server on PostgreSQL" \
        'FM_BACKEND=postgresql bash "$here/$t.sh" >"$FM_TMP/$t.out" 2>&1 ||
         { grep -E "^FAIL|passed" "$FM_TMP/$t.out" | head -n 20; false; }'
    grep -E "^[0-9]+ passed" "$FM_TMP/$t.out" | tail -n 1 | sed "s/^/# $t: /"
done
finish
