#!/usr/bin/env bash
# tiles_briefing.sh - briefing images people read: /map.png without a bbox
# frames what the viewer may see (another party's drafts never move the
# frame); zones are labelled with their titles and conflicts with their
# items' titles, never internal ids; /map.pdf is one A4 page drawn by the
# same renderer (title, time, legend) that poppler renders and reads; and
# neither image shows the other party's drafts or the conflicts only they
# see. The text checks read the PDF with pdftotext (poppler-utils).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
export FUSIONMAP_BASEMAP=none
fm_start --demo --marking "UNCLASSIFIED // CELL TEST"
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
A=(-H "Authorization: Bearer $TA")
B=(-H "Authorization: Bearer $TB")
have_poppler() { command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null; }

check "/map.png without a bbox is a PNG of what the viewer sees (200)" \
    '[ "$(get /map.png "${A[@]}")" = 200 ] && [ "$(header Content-Type)" = image/png ]'
cp "$FM_TMP/body" "$FM_TMP/mapA.png"
check "/map.pdf without a bbox is a PDF (200, application/pdf, %PDF ... %%EOF)" \
    '[ "$(get /map.pdf "${A[@]}")" = 200 ] && [ "$(header Content-Type)" = application/pdf ] &&
     [ "$(head -c 5 "$FM_TMP/body")" = "%PDF-" ] && tail -c 8 "$FM_TMP/body" | grep -q "%%EOF"'
cp "$FM_TMP/body" "$FM_TMP/A1.pdf"
check "/map.pdf needs a login (401)" '[ "$(get /map.pdf)" = 401 ]'
check "a bad bbox is still a problem (400 problem+json)" \
    '[ "$(get "/map.pdf?bbox=1,2,3" "${A[@]}")" = 400 ] && header Content-Type | grep -q problem+json'

if have_poppler; then
    pdfinfo "$FM_TMP/A1.pdf" >"$FM_TMP/info"
    check "the PDF is one A4 landscape page" 'grep -q "^Pages: *1$" "$FM_TMP/info" && grep -q "842 x 595 pts" "$FM_TMP/info"'
    pdftoppm -r 50 -png "$FM_TMP/A1.pdf" "$FM_TMP/page"
    check "pdftoppm renders it: the marking bar at the top (amber: A's page holds A's draft), the dark title bar below, a drawn page (not blank)" \
        'read -r r g b _ <<<"$("$PNGDIFF" --pixel "$FM_TMP/page-1.png" 20 5)" && [ "$r" -gt 200 ] && [ "$b" -lt 100 ] &&
         read -r r g b _ <<<"$("$PNGDIFF" --pixel "$FM_TMP/page-1.png" 3 25)" && [ "$r" -lt 80 ] && [ "$b" -lt 90 ] &&
         [ $(stat -c %s "$FM_TMP/page-1.png") -gt 20000 ]'
    pdftotext "$FM_TMP/A1.pdf" - | tr -s ' \n' ' ' >"$FM_TMP/A1.txt"
    check "it has the title, the time and the legend" \
        'grep -q "Situation map" "$FM_TMP/A1.txt" && grep -qE "at 20[0-9-]+ [0-9:]+ UTC" "$FM_TMP/A1.txt" && grep -q "Legend" "$FM_TMP/A1.txt" && grep -q "Side A" "$FM_TMP/A1.txt"'
    check "every zone in view is labelled with its title" \
        'for t in "Range North exercise area" "Eastern airspace closure" "Humanitarian corridor H-1"; do grep -q "$t" "$FM_TMP/A1.txt" || { echo "  missing: $t"; exit 1; }; done'
    check "conflicts are named by their items' titles (Supply convoy C-7 crosses Range North exercise area)" \
        'grep -q "CONFLICT: Supply convoy C-7 crosses Range North exercise area" "$FM_TMP/A1.txt"'
    check "no label names an internal id (movement 7, zone 1, incident 5)" \
        '! grep -qE "(movement|zone|zones|incident) [0-9]+" "$FM_TMP/A1.txt"'
    check "each label is there once (the PDF's halo is an outline, not copies of the text)" \
        '[ "$(grep -o "Humanitarian corridor H-1" "$FM_TMP/A1.txt" | wc -l)" = 1 ]'
fi

# the sheet a briefing needs (issue 21): the marking at top and bottom,
# an MGRS grid, the open conflicts and disputes by title and party, and
# the log's head it was drawn at, which the reader can find in the log
panel() { # PDF: the words of the side panel (legend and lists), one line
    pdftotext -x 605 -y 0 -W 240 -H 595 "$1" - | tr -s ' \n' ' '
}
count_open() { # TOKEN: the open conflicts the caller may see
    curl -sf -H "Authorization: Bearer $1" "$FM_URL/collections/conflicts/items?state=open&limit=1000" |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["numberMatched"])'
}
last_record() { # TOKEN: "SEQ HASH" of the newest record the caller may read
    curl -sf -H "Authorization: Bearer $1" "$FM_URL/events/log?since=0&limit=10000" |
        /usr/bin/python3 -c 'import json,sys; e=json.load(sys.stdin)["events"][-1]; print(e["seq"], e["hash"])'
}
ZONE1=$(curl -sf "${A[@]}" "$FM_URL/collections/zones/items" | /usr/bin/python3 -c 'import json,sys
for f in json.load(sys.stdin)["features"]:
    if f["properties"]["title"] == "Range North exercise area": print(f["id"], f["properties"]["version"])')
read -r Z1 V1 <<<"$ZONE1"
code=$(get "/collections/zones/items/$Z1/ack" "${B[@]}" -H "If-Match: \"$V1\"" -H 'Content-Type: application/json' \
    -d '{"decision":"dispute","comment":"the range overlaps our patrol route"}')
check "B disputes A's zone Range North (200)" '[ "$code" = 200 ]'
get /map.pdf "${A[@]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/A0.pdf"
if have_poppler; then
    pdftotext "$FM_TMP/A0.pdf" - >"$FM_TMP/A0.raw"
    tr -s ' \n' ' ' <"$FM_TMP/A0.raw" >"$FM_TMP/A0.txt"
    panel "$FM_TMP/A0.pdf" >"$FM_TMP/A0.panel"
    check "the marking given to serve --marking is printed at the top and at the bottom" \
        '[ "$(grep -c "UNCLASSIFIED // CELL TEST" "$FM_TMP/A0.raw")" = 2 ]'
    check "A's page holds A's draft, and its marking says it goes to Side A only" \
        '[ "$(grep -c "HOLDS DRAFTS OF Side A: RELEASABLE TO Side A ONLY" "$FM_TMP/A0.raw")" = 2 ]'
    check "an MGRS grid: the zones in view, the spacing, the centre as an MGRS reference" \
        'grep -qE "MGRS grid \(WGS84\): 36S, 37S; lines every [0-9]+ km" "$FM_TMP/A0.txt" &&
         grep -qE "centre 3[67]S [A-Z]{2} [0-9]{4} [0-9]{4}" "$FM_TMP/A0.txt" && grep -qx "YB" "$FM_TMP/A0.raw"'
    check "the open conflicts, counted as GET /collections/conflicts/items counts them for A" \
        'grep -q "Open conflicts in this frame ($(count_open "$TA"))" "$FM_TMP/A0.panel"'
    check "each conflict by its items' titles and parties" \
        'grep -q "Supply convoy C-7 (Side B) crosses Range North exercise area (Side A), severity" "$FM_TMP/A0.panel"'
    check "the disputed zone with its party and the dispute's reason" \
        'grep -q "Disputed items, whole map, now (1)" "$FM_TMP/A0.panel" &&
         grep -q "Range North exercise area (Side A): “the range overlaps our patrol route”" "$FM_TMP/A0.panel"'
    read -r SEQ HASH <<<"$(last_record "$TA")"
    check "the log head it was drawn at, as GET /events/log gives it (record $SEQ and its SHA-256)" \
        'grep -q "Drawn at log record $SEQ, SHA-256 $HASH" "$FM_TMP/A0.txt"'
fi
check "grid=degrees and grid=none are taken, anything else is 400" \
    '[ "$(get "/map.pdf?grid=degrees" "${A[@]}")" = 200 ] && [ "$(get "/map.pdf?grid=none" "${A[@]}")" = 200 ] &&
     [ "$(get "/map.pdf?grid=utm" "${A[@]}")" = 400 ]'

# the other side: A draws drafts far to the north-east and over B's zone
# (a conflict only A sees); B's images neither show them nor move
get /map.png "${B[@]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/B1.png"
get /map.pdf "${B[@]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/B1.pdf"
code=$(get /collections/zones/items "${A[@]}" -H 'Content-Type: application/geo+json' \
    -d "$(zone_json "$(square 37.5 34.5 0.05)" draft 'Secret draft far away')")
code2=$(get /collections/zones/items "${A[@]}" -H 'Content-Type: application/geo+json' \
    -d "$(zone_json "$(square 36.03 32.88 0.01)" draft 'Secret draft over B')")
check "A drafts two zones, one far off, one over B's zone (201, 201)" '[ "$code" = 201 ] && [ "$code2" = 201 ]'
get /map.png "${B[@]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/B2.png"
get /map.png "${A[@]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/A2.png"
check "B's /map.png without a bbox is the same picture below the title bar (A's drafts neither drawn nor framed)" \
    '[ "$(pixels B1 B2 64)" = 0 ]'
check "A's own frame grows to take in A's far draft" '[ "$(pixels mapA A2 64)" -gt 1000 ]'
get /map.pdf "${B[@]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/B2.pdf"
get /map.pdf "${A[@]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/A2.pdf"
if have_poppler; then
    for f in B1 B2 A2; do
        pdftotext "$FM_TMP/$f.pdf" - | tr -s ' \n' ' ' >"$FM_TMP/$f.all"
        pdftotext "$FM_TMP/$f.pdf" - | grep -v " UTC" | grep -v "^Drawn at log record" | tr -s ' \n' ' ' >"$FM_TMP/$f.txt"
        panel "$FM_TMP/$f.pdf" >"$FM_TMP/$f.panel"
    done
    check "A's PDF names A's drafts" 'grep -q "Secret draft far away" "$FM_TMP/A2.txt" && grep -q "Secret draft over B" "$FM_TMP/A2.txt"'
    check "A's PDF lists the conflict only A sees (A's draft over B's zone), counted" \
        'grep -q "Eastern airspace closure (Side B) overlaps Secret draft over B (Side A)" "$FM_TMP/A2.panel" &&
         grep -q "Open conflicts in this frame ($(count_open "$TA"))" "$FM_TMP/A2.panel"'
    check "B's PDF names neither draft, nor the conflict only A sees, and its words are unchanged (but the log head's line)" \
        '! grep -q "Secret" "$FM_TMP/B2.all" && cmp -s "$FM_TMP/B1.txt" "$FM_TMP/B2.txt"'
    check "B's count of open conflicts is B's (GET /collections/conflicts/items), not A's" \
        '[ "$(count_open "$TB")" -lt "$(count_open "$TA")" ] &&
         grep -q "Open conflicts in this frame ($(count_open "$TB"))" "$FM_TMP/B2.panel"'
    check "B's page goes to all parties: it holds no drafts" \
        'grep -q "UNCLASSIFIED // CELL TEST — RELEASABLE TO ALL PARTIES" "$FM_TMP/B2.txt" && ! grep -q "HOLDS DRAFTS" "$FM_TMP/B2.all"'
    read -r SEQ HASH <<<"$(last_record "$TB")"
    read -r ASEQ _ <<<"$(last_record "$TA")"
    check "B's log head: that records exist after B's last (A's drafts), and the hash of the last B may read" \
        '[ "$ASEQ" -gt "$SEQ" ] && grep -q "Drawn at log record $ASEQ; the last you may read: $SEQ, SHA-256 $HASH" "$FM_TMP/B2.all"'
    check "no hash of a record B may not read is on B's page" \
        '! grep -q "$(last_record "$TA" | cut -d" " -f2)" "$FM_TMP/B2.all"'
    pdftoppm -r 50 -png "$FM_TMP/B1.pdf" "$FM_TMP/b1" && pdftoppm -r 50 -png "$FM_TMP/B2.pdf" "$FM_TMP/b2"
    check "B's PDF page is the same picture below the title bar and above the log head" \
        '[ "$("$PNGDIFF" "$FM_TMP/b1-1.png" "$FM_TMP/b2-1.png" 36 32)" = 0 ]'
fi
finish
