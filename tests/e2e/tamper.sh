#!/usr/bin/env bash
# The event log is tamper-evident: six kinds of change made directly in the
# database file are each detected at the exact record, an untouched log
# verifies, and an earlier export catches what the file alone cannot.
. "$(dirname "$0")/../lib.sh"
fm_start --demo
for u in liaison-a liaison-b; do fm_login $u; done
A=(-b "$FM_TMP/liaison-a.jar" -H 'X-Requested-With: fusionmap')
B=(-b "$FM_TMP/liaison-b.jar" -H 'X-Requested-With: fusionmap')
MP=(-H 'Content-Type: application/merge-patch+json')
# B acknowledges A's zone 1, then A edits it five times: the tail is item versions
req POST /collections/zones/items/1/ack "${B[@]}" -H 'Content-Type: application/json' -H 'If-Match: "1"' -d '{"decision":"ack"}' >/dev/null
v=$(jqb .properties.version)
for i in 1 2 3 4 5; do
    req PATCH /collections/zones/items/1 "${A[@]}" "${MP[@]}" -H "If-Match: \"$v\"" -d "{\"properties\":{\"description\":\"edit $i\"}}" >/dev/null
    v=$(jqb .properties.version)
done
fm_stop
sqlite3 "$FM_DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
N=$(sqlite3 "$FM_DB" "SELECT max(seq) FROM events")
"$FUSIONMAP" events export --db "$FM_DB" --out "$FM_TMP/export.jsonl" 2>/dev/null

check "the untouched log ($N records) verifies" '"$FUSIONMAP" events verify --db "$FM_DB" | grep -q "ok: $N records"'
check "its export verifies offline, with no database" '"$FUSIONMAP" events verify --file "$FM_TMP/export.jsonl" | grep -q "ok: $N records"'
check "the database still holds the export as its start" '"$FUSIONMAP" events verify --db "$FM_DB" --against "$FM_TMP/export.jsonl"'
check "the database refuses UPDATE on the log" '! sqlite3 "$FM_DB" "UPDATE events SET user = '"'"'x'"'"' WHERE seq = 1" 2>/dev/null'
check "the database refuses DELETE on the log" '! sqlite3 "$FM_DB" "DELETE FROM events WHERE seq = 1" 2>/dev/null'

# tamper KIND SQL|-: a copy of the database with the triggers dropped and SQL applied
tamper() {
    local copy="$FM_TMP/$1.db"
    cp "$FM_DB" "$copy"
    sqlite3 "$copy" "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;"
    if [ "$2" != - ]; then sqlite3 "$copy" "$2"; fi
    echo "$copy"
}
# broken_at DB K: verify names record K
broken_at() {
    local out
    out=$("$FUSIONMAP" events verify --db "$1")
    echo "# $out"
    [[ $out == "BROKEN at record $2 "* ]]
}
# the first item's record (the parties' and users' own come before it)
R=$(sqlite3 "$FM_DB" "SELECT min(seq) FROM events WHERE action = 'create'")
db=$(tamper edit "UPDATE events SET after = replace(after, 'Range North', 'Range South') WHERE seq = $R")
check "1. an edited record is found at that record ($R)" 'broken_at "$db" $R'
db=$(tamper bytes "UPDATE events SET user = CAST(X'6c69ff61' AS TEXT) WHERE seq = 2")
check "1b. a record given bytes that are not UTF-8 is found at that record (2), no crash" 'broken_at "$db" 2'
db=$(tamper delete "DELETE FROM events WHERE seq = 5")
check "2. a deleted record is found at its place (5)" 'broken_at "$db" 5'
db=$(tamper insert "CREATE TABLE t AS SELECT * FROM events;
    DELETE FROM events WHERE seq >= 4;
    INSERT INTO events SELECT seq + 1, at, user, party, action, collection, item_id, version, owner,
        before_draft, after_draft, before, after, prev_hash, hash FROM t WHERE seq >= 4;
    INSERT INTO events SELECT 4, at, 'forger', party, 'patch', collection, item_id, version, owner,
        before_draft, after_draft, before, after, prev_hash, hash FROM t WHERE seq = 3;")
check "3. an inserted record is found at its place (4)" 'broken_at "$db" 4'
db=$(tamper reorder "UPDATE events SET seq = -3 WHERE seq = 3; UPDATE events SET seq = 3 WHERE seq = 4;
    UPDATE events SET seq = 4 WHERE seq = -3;")
check "4. two records swapped are found at the first (3)" 'broken_at "$db" 3'
db=$(tamper truncate "DELETE FROM events WHERE seq > $((N - 3))")
check "5. a tail cut off is found at the first missing record ($((N - 2)))" 'broken_at "$db" $((N - 2))'
db=$(tamper rewrite -)
K=$((N - 4))
/usr/bin/python3 - "$db" "$K" <<'PY'
# Rewrites record K's content and re-hashes the chain from K on, as a forger would.
import hashlib, json, sqlite3, sys
db, k = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
rows = c.execute("SELECT seq, at, user, party, action, collection, owner, item_id, version, before, after, prev_hash, hash FROM events ORDER BY seq").fetchall()
def h(prev, r):
    rec = dict(seq=r[0], at=r[1], user=r[2], party=r[3], action=r[4], collection=r[5], owner=r[6], item=r[7], version=r[8], before=r[9], after=r[10])
    # chain v2 (events.c): SHA-256(prev || SHA-256(canonical record))
    digest = hashlib.sha256(json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    return hashlib.sha256((prev + digest).encode()).hexdigest()
prev = "0" * 64
for r in rows:
    if r[0] < k:
        assert h(prev, r) == r[12], "the forger's hash must match the server's for record %d" % r[0]
        prev = r[12]
        continue
    r = list(r)
    if r[0] == k:
        r[10] = r[10].replace("edit", "EDITED")
        assert r[10] != rows[k - 1][10]
    r[11], r[12] = prev, h(prev, r)
    c.execute("UPDATE events SET after = ?, prev_hash = ?, hash = ? WHERE seq = ?", (r[10], r[11], r[12], r[0]))
    prev = r[12]
c.commit()
PY
check "6. a chain rewritten from a point is found at that point ($K)" 'broken_at "$db" $K'
check "   and an earlier export names the same record" \
    'out=$("$FUSIONMAP" events verify --db "$db" --against "$FM_TMP/export.jsonl"); echo "# $out"; [[ $out == "BROKEN at record $K "* ]]'
head -n 3 "$FM_TMP/export.jsonl" >"$FM_TMP/short.jsonl"
check "an export cut short is found too" '! "$FUSIONMAP" events verify --file "$FM_TMP/short.jsonl" >/dev/null'
sed 's/Range North/Range South/' "$FM_TMP/export.jsonl" >"$FM_TMP/edited.jsonl"
check "an edited export is found at the edited record ($R)" \
    'out=$("$FUSIONMAP" events verify --file "$FM_TMP/edited.jsonl"); [[ $out == "BROKEN at record $R "* ]]'
finish
