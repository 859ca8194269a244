#!/usr/bin/env bash
# store_pg.sh - the store interface on PostgreSQL/PostGIS (issue 18): starts
# a PostgreSQL 15 of its own (tests/lib.sh fm_pg_start) and runs the
# backends' conformance test (tests/unit/test_backends.c) against it and
# SQLite, which compares the two.
. "$(dirname "$0")/../lib.sh"

bin="$(dirname "$FUSIONMAP")/../tests/unit/test_backends"
check "PostgreSQL 15 + PostGIS started on loopback" fm_pg_start
if [ -n "$FM_PG_URL" ]; then
    check "the conformance test passes on SQLite and PostgreSQL, which agree" \
        'FM_PG_URL=$FM_PG_URL "$bin" >"$FM_TMP/out" 2>&1; rc=$?; grep -v "^ok" "$FM_TMP/out" | tail -n 20; [ $rc = 0 ]'
    check "it ran on PostgreSQL" 'grep -q "^# postgresql" "$FM_TMP/out"'
    check "the event log is append-only on PostgreSQL too" \
        '! psql -q "$FM_PG_URL" -c "UPDATE events SET at = 0 WHERE seq = 1" 2>"$FM_TMP/psql.err" && grep -q "append-only" "$FM_TMP/psql.err"'
fi
finish
