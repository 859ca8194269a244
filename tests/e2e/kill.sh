#!/usr/bin/env bash
# Durability: SIGKILL the server in the middle of a stream of writes. After
# a restart every write that was acknowledged (201/200) is there, and no
# write is half there (an item without its event, or the reverse).
. "$(dirname "$0")/../lib.sh"
fm_start --demo
TOKEN=$(fm_token liaison-a)
ACKED="$FM_TMP/acked"
: >"$ACKED"
for round in 1 2 3; do
    /usr/bin/python3 "$(dirname "$0")/writer.py" "$FM_URL" "$TOKEN" "$ACKED" 4 &
    WRITER=$!
    # kill once enough writes are under way, at a moment not chosen by the server
    # (up to 60 s: a loaded machine writes slower; what matters is writes in flight)
    for i in $(seq 1 1200); do
        [ "$(wc -l <"$ACKED")" -ge $((round * 100)) ] && break
        sleep 0.05
    done
    kill -9 "$FM_PID"
    wait "$FM_PID" 2>/dev/null
    FM_PID=
    wait "$WRITER"
    echo "# round $round: $(wc -l <"$ACKED") acknowledged writes so far"
    fm_start
done
AUTH=(-H "Authorization: Bearer $TOKEN")
curl -s "${AUTH[@]}" "$FM_URL/collections/incidents/items?limit=10000" -o "$FM_TMP/items"
curl -s "${AUTH[@]}" "$FM_URL/events/log?limit=10000" -o "$FM_TMP/events"

check "writes were acknowledged before each kill" '[ "$(wc -l <"$ACKED")" -ge 300 ] && [ "$(grep -c ^create "$ACKED")" -ge 100 ]'
check "every acknowledged create is there with its title" '
    missing=0
    while read -r kind id title; do
        [ "$kind" = create ] || continue
        [ "$(jq -r --argjson id "$id" ".features[]|select(.id==\$id).properties.title" "$FM_TMP/items")" = "$title" ] || missing=$((missing+1))
    done <"$ACKED"
    echo "# missing creates: $missing"; [ $missing = 0 ]'
check "every acknowledged patch is there (the version is at least the acknowledged one)" '
    jq -r ".features[]|\"\(.id) \(.properties.version)\"" "$FM_TMP/items" >"$FM_TMP/versions"
    bad=0
    while read -r kind id version; do
        [ "$kind" = patch ] || continue
        have=$(awk -v id="$id" "\$1==id{print \$2}" "$FM_TMP/versions")
        [ -n "$have" ] && [ "$have" -ge "$version" ] || bad=$((bad+1))
    done <"$ACKED"
    echo "# missing patches: $bad"; [ $bad = 0 ]'
check "no write is half there: each item version has its event and each event its version" '
    a=$(jq -r ".features[]|select(.properties.title|startswith(\"w\"))|\"\(.id)/\(.properties.version)\"" "$FM_TMP/items" | sort)
    b=$(jq -r "[.events[]|select(.collection==\"incidents\")]|group_by(.item)[]|max_by(.version)|select(.after.properties.title|startswith(\"w\"))|\"\(.item)/\(.version)\"" "$FM_TMP/events" | sort)
    [ -n "$a" ] && [ "$a" = "$b" ]'
check "the event log chain is intact after three kills" '"$FUSIONMAP" events verify --db "$FM_DB"'
check "the database passes SQLite's integrity check" \
    '[ "$(sqlite3 "$FM_DB" "PRAGMA integrity_check")" = ok ]'
finish
