#!/usr/bin/env bash
# tiles_sheet.sh - what the viewer and the wall show, on tiles, /map.png
# and the /map.pdf sheet too (issues 19 and 21):
#   - an item whose answer is overdue is drawn in amber (dashed) on tiles
#     and maps and listed on the sheet; the overdue record drops the
#     cached tiles that drew it before; B's tiles and sheet stay the same
#     whether A has drafts or not;
#   - /map.png carries the marking line, amber when it holds the
#     caller's drafts, as the sheet does;
#   - point items are MIL-STD-2525D frames as in the viewer: friend for
#     the viewer's own party, neutral for the others (hostile with serve
#     --frame-other hostile), and the tile cache keeps a viewer of party
#     A apart from a viewer of another party;
#   - a sheet (and a tile) of the past draws the conflicts open then.
# Pixels are read with tile_pngdiff, the sheet's words with pdftotext.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
export FUSIONMAP_BASEMAP=none FUSIONMAP_TEST_CLOCK=1
fm_start --demo --marking "UNCLASSIFIED // SHEET TEST"
"$FUSIONMAP" user add viewer-a --party A --role viewer --db "$FM_DB" >/dev/null
declare -A H
for w in liaison-a liaison-b admin viewer viewer-a; do
    H[$w]="Authorization: Bearer $(fm_token $w)"
done
J='Content-Type: application/json'
GJ='Content-Type: application/geo+json'
at() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
have_poppler() { command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null; }
mk() { # WHO COLLECTION GEOMETRY PROPS: status; the Feature in $FM_TMP/body
    get "/collections/$2/items" -X POST -H "${H[$1]}" -H "$GJ" \
        --data-binary '{"type":"Feature","geometry":'"$3"',"properties":'"$4"'}'
}
id_of() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$FM_TMP/body"; }
# px LON LAT Z: "X Y PX PY", the tile and the point's pixel in it
px() {
    /usr/bin/python3 -c 'import math,sys
lon,lat,z=float(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]); n=2**z
fx=(lon+180)/360*n; fy=(1-math.asinh(math.tan(math.radians(lat)))/math.pi)/2*n
print(int(fx), int(fy), int((fx-int(fx))*256), int((fy-int(fy))*256))' "$@"
}
alpha_at() { "$PNGDIFF" --pixel "$FM_TMP/$1.png" "$2" "$3" | cut -d' ' -f4; }
amber() { "$PNGDIFF" --count "$FM_TMP/$1.png" 255 158 28 45 "${@:2}"; } # the overdue amber
PARTY_A=$(curl -sf -H "${H[liaison-a]}" "$FM_URL/parties" | /usr/bin/python3 -c 'import json,sys
d=json.load(sys.stdin); d=d.get("parties", d) if isinstance(d, dict) else d
print([p["colour"] for p in d if p["code"] == "A"][0])' 2>/dev/null)

# ---- frames (2525D), as the viewer draws them ----------------------------------------
# A shelling report of A's, severity 1, far from everything: at zoom 14 its
# frame's half height is 9.5 px; a friend rectangle reaches 13.8 px to the
# side, a neutral square 9.5, a hostile diamond 12.8 px up
LON=35.2013 LAT=32.4017
check "A reports an incident (201)" \
    '[ "$(mk liaison-a incidents "{\"type\":\"Point\",\"coordinates\":[$LON,$LAT]}" \
        "{\"title\":\"Frame probe\",\"status\":\"reported\",\"category\":\"shelling\",\"severity\":1}")" = 201 ]'
read -r TX TY PX PY <<<"$(px $LON $LAT 14)"
FT="/tiles/incidents/14/$TX/$TY.png"
fetch fA "$FT" -H "${H[liaison-a]}"
fetch fB "$FT" -H "${H[liaison-b]}"
check "A's own incident is in a friend frame: a rectangle, filled 12 px beside its centre" \
    '[ "$(alpha_at fA $((PX + 12)) $PY)" -gt 200 ] && [ "$(alpha_at fA $PX $((PY - 11)))" -lt 50 ]'
check "B sees it in a neutral frame: a square, nothing 12 px beside it (nor above)" \
    '[ "$(alpha_at fB $PX $PY)" -gt 200 ] && [ "$(alpha_at fB $((PX + 12)) $PY)" -lt 50 ] &&
     [ "$(alpha_at fB $PX $((PY - 12)))" -lt 50 ]'
fetch fV "$FT" -H "${H[viewer]}"
fetch fVA "$FT" -H "${H[viewer-a]}"
check "the viewer (of the supervisor's party) sees A's incident neutral" \
    '[ "$(alpha_at fV $((PX + 12)) $PY)" -lt 50 ]'
check "a viewer of party A shares the viewer's visibility class but not its tile: a miss, framed friend" \
    '[ "$(cache_of fVA)" = miss ] && [ "$(alpha_at fVA $((PX + 12)) $PY)" -gt 200 ]'
fetch fVA2 "$FT" -H "${H[viewer-a]}"
fetch fV2 "$FT" -H "${H[viewer]}"
check "each is then a hit of its own, the same bytes as before" \
    '[ "$(cache_of fVA2)" = hit ] && [ "$(cache_of fV2)" = hit ] && [ "$(pixels fVA fVA2)" = 0 ] && [ "$(pixels fV fV2)" = 0 ]'
if [ -n "$PARTY_A" ]; then
    read -r R G B <<<"$(/usr/bin/python3 -c 'import sys; h=sys.argv[1]; print(int(h[1:3],16), int(h[3:5],16), int(h[5:7],16))' "$PARTY_A")"
    check "the frame is filled with A's colour, as milsymbol's fillColor" \
        '[ "$("$PNGDIFF" --count "$FM_TMP/fA.png" $R $G $B 60 $((PX - 14)) $((PY - 10)) $((PX + 14)) $((PY + 10)))" -gt 150 ]'
fi

# ---- the marking on /map.png ---------------------------------------------------------
get /map.png -H "${H[liaison-a]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/mapA.png"
get /map.png -H "${H[liaison-b]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/mapB.png"
check "A's /map.png (A's draft on it) has the amber marking bar at the top and the bottom" \
    'read -r r g b _ <<<"$("$PNGDIFF" --pixel "$FM_TMP/mapA.png" 5 3)" && [ "$r" -gt 200 ] && [ "$b" -lt 100 ] &&
     read -r r g b _ <<<"$("$PNGDIFF" --pixel "$FM_TMP/mapA.png" 5 716)" && [ "$r" -gt 200 ] && [ "$b" -lt 100 ]'
check "B's (no draft of B's drawn) has the dark one: RELEASABLE TO ALL PARTIES" \
    'read -r r g b _ <<<"$("$PNGDIFF" --pixel "$FM_TMP/mapB.png" 5 3)" && [ "$r" -lt 80 ] &&
     read -r r g b _ <<<"$("$PNGDIFF" --pixel "$FM_TMP/mapB.png" 5 716)" && [ "$r" -lt 80 ]'
check "the bar holds text (light pixels on B's dark bar)" \
    '[ "$("$PNGDIFF" --count "$FM_TMP/mapB.png" 255 255 255 60 0 0 1280 20)" -gt 100 ]'

# ---- overdue ---------------------------------------------------------------------------
check "the admin sets a movement's answer to 60 s (200)" \
    '[ "$(get /rules -X PUT -H "${H[admin]}" -H "$J" --data-binary "{\"collection\":\"movements\",\"type\":\"*\",\"notice_s\":3600,\"urgent_notice_s\":600,\"answer_s\":60,\"answer_before_s\":30}")" = 200 ]'
ROUTE='{"type":"LineString","coordinates":[[35.30,32.30],[35.34,32.32],[35.38,32.30]]}'
check "A notifies a movement, to be answered by B within 60 s (201)" \
    '[ "$(mk liaison-a movements "$ROUTE" "{\"title\":\"Overdue convoy Q\",\"type\":\"ground\",\"status\":\"notified\",\"corridor_width_m\":500,\"valid_from\":\"$(at "+3 hours")\",\"valid_to\":\"$(at "+5 hours")\"}")" = 201 ]'
Q=$(id_of)
read -r MX MY MPX MPY <<<"$(px 35.34 32.32 13)"
MT="/tiles/movements/13/$MX/$MY.png"
fetch q0 "$MT" -H "${H[liaison-b]}"
fetch q0hit "$MT" -H "${H[liaison-b]}"
check "before: B's tile of the route has no amber, and is cached" \
    '[ "$(amber q0)" = 0 ] && [ "$(cache_of q0hit)" = hit ]'
check "the clock moves 2 min: the movement is overdue" \
    '[ "$(get /rules/clock -X POST -H "${H[admin]}" -H "$J" --data-binary "{\"advance_s\":120}")" = 200 ] &&
     [ "$(get /collections/movements/items/$Q -H "${H[liaison-b]}")" = 200 ] && grep -q "\"overdue\": *true" "$FM_TMP/body"'
fetch q1 "$MT" -H "${H[liaison-b]}"
check "B's tile is drawn again (the overdue record dropped the cached one) with an amber dashed route" \
    '[ "$(cache_of q1)" = miss ] && [ "$(amber q1)" -gt 80 ]'
fetch qa "$MT" -H "${H[liaison-a]}"
check "A's too" '[ "$(amber qa)" -gt 80 ]'
fetch q1hit "$MT" -H "${H[liaison-b]}"
# A drafts a zone across the route: nothing of it reaches B's tile
check "A drafts a zone across the route (201)" \
    '[ "$(mk liaison-a zones "$(square 35.34 32.31 0.03)" "{\"title\":\"Secret draft Qx\",\"type\":\"restricted\",\"status\":\"draft\",\"valid_from\":\"2026-01-01T00:00:00Z\",\"valid_to\":\"2030-01-01T00:00:00Z\"}")" = 201 ]'
fetch q2 "$MT" -H "${H[liaison-b]}"
fetch q2all "/tiles/all/13/$MX/$MY.png" -H "${H[liaison-b]}"
check "B's overdue tile is still the cached one, byte for byte, after A's draft" \
    '[ "$(cache_of q2)" = hit ] && [ "$(etag_of q2)" = "$(etag_of q1hit)" ] && cmp -s "$FM_TMP/q2.png" "$FM_TMP/q1.png"'
fetch qa2 "/tiles/all/13/$MX/$MY.png" -H "${H[liaison-a]}"
check "(A's own tile shows the draft: it differs from B's)" '[ "$(pixels qa2 q2all)" -gt 100 ]'
get "/map.png?bbox=35.28,32.26,35.40,32.34&width=800&height=500&grid=none" -H "${H[liaison-b]}" >/dev/null &&
    cp "$FM_TMP/body" "$FM_TMP/qmap.png"
check "B's /map.png of the route draws it amber" '[ "$(amber qmap)" -gt 150 ]'
if have_poppler; then
    get /map.pdf -H "${H[liaison-b]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/B.pdf"
    pdftotext -raw "$FM_TMP/B.pdf" - | tr -s ' \n' ' ' >"$FM_TMP/B.txt"
    check "B's sheet labels it OVERDUE and lists it under the overdue answers, by title and party" \
        'grep -q "OVERDUE: Overdue convoy Q" "$FM_TMP/B.txt" &&
         grep -qE "Overdue answers, whole map, now \([1-9][0-9]*\)" "$FM_TMP/B.txt" &&
         grep -q "Overdue convoy Q (Side A): answer was due" "$FM_TMP/B.txt"'
    check "its legend explains the amber" 'grep -q "OVERDUE: answer late, amber dashed" "$FM_TMP/B.txt"'
    check "an item notified late says so in its label (the demo's medical evacuation flight: LATE NOTICE), one notified in time does not" \
        'grep -q "Medical evacuation flight (LATE NOTICE)" "$FM_TMP/B.txt" && ! grep -q "Supply convoy C-7 (LATE NOTICE)" "$FM_TMP/B.txt" && ! grep -q "Overdue convoy Q (LATE NOTICE)" "$FM_TMP/B.txt"'
    check "nothing of A's draft is on B's sheet" '! grep -q "Qx" "$FM_TMP/B.txt"'
    get /map.pdf -H "${H[liaison-a]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/A.pdf"
    pdftotext "$FM_TMP/A.pdf" - | tr -s ' \n' ' ' >"$FM_TMP/A.txt"
    check "A's sheet lists it too, and shows A's own draft" \
        'grep -q "Overdue convoy Q (Side A): answer was due" "$FM_TMP/A.txt" && grep -q "Secret draft Qx" "$FM_TMP/A.txt"'
    check "B's overdue count is the number of overdue items B's list of movements, zones and incidents marks" \
        'n=0; for c in zones incidents movements; do
            k=$(curl -sf -H "${H[liaison-b]}" "$FM_URL/collections/$c/items?limit=1000" | /usr/bin/python3 -c "import json,sys; print(sum(1 for f in json.load(sys.stdin)[\"features\"] if f[\"properties\"].get(\"overdue\")))")
            n=$((n + k)); done; grep -q "Overdue answers, whole map, now ($n)" "$FM_TMP/B.txt"'
fi
check "B answers: the mark ends, and B's tile loses its amber" \
    'v=$(curl -sf -H "${H[liaison-b]}" "$FM_URL/collections/movements/items/$Q" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[\"properties\"][\"version\"])") &&
     [ "$(get "/collections/movements/items/$Q/ack" -H "${H[liaison-b]}" -H "If-Match: \"$v\"" -H "$J" -d "{\"decision\":\"ack\"}")" = 200 ] &&
     fetch q3 "$MT" -H "${H[liaison-b]}" && [ "$(amber q3)" = 0 ]'

# ---- late notice ------------------------------------------------------------------------
# The demo's medical evacuation flight was notified as it started: its route
# is drawn with purple beads and its start symbol with a purple clock, on
# the tiles everybody gets (the picture's rows carry the mark). Moved to
# start in three days (the notice met), the mark goes: the cached tile is
# dropped, its bytes and ETag change.
purple() { "$PNGDIFF" --count "$FM_TMP/$1.png" 143 41 194 40 "${@:2}"; } # style_late
MEDEVAC=$(curl -sf -H "${H[liaison-a]}" "$FM_URL/collections/movements/items?limit=1000" | /usr/bin/python3 -c 'import json,sys
print([f["id"] for f in json.load(sys.stdin)["features"] if f["properties"]["title"] == "Medical evacuation flight"][0])')
read -r LX LY _ _ <<<"$(px 35.85 32.78 11)"
LT="/tiles/movements/11/$LX/$LY.png"
read -r SX SY _ _ <<<"$(px 35.76 33.10 11)"
fetch l0 "$LT" -H "${H[liaison-b]}"
fetch l0hit "$LT" -H "${H[liaison-b]}"
fetch s0 "/tiles/movements/11/$SX/$SY.png" -H "${H[liaison-b]}"
fetch l0v "$LT" -H "${H[viewer]}"
check "the medical evacuation flight (late notice) has purple beads on B's and the viewer's tiles; the supply convoy (notified in time) none" \
    'echo "# purple: B $(purple l0), viewer $(purple l0v), convoy $(purple s0)" && [ "$(purple l0)" -gt 150 ] && [ "$(purple l0v)" -gt 150 ] && [ "$(purple s0)" = 0 ] && [ "$(cache_of l0hit)" = hit ]'
read -r _ _ SPX SPY <<<"$(px 35.66 32.72 11)"
read -r SLX SLY _ _ <<<"$(px 35.66 32.72 11)"
fetch l0s "/tiles/movements/11/$SLX/$SLY.png" -H "${H[liaison-b]}"
check "its start symbol wears the clock: purple up and right of the symbol, none down and left" \
    '[ "$(purple l0s $((SPX + 8)) $((SPY - 30)) $((SPX + 34)) $((SPY - 4)))" -gt 15 ] && [ "$(purple l0s $((SPX - 34)) $((SPY + 4)) $((SPX - 8)) $((SPY + 30)))" -lt 5 ]'
check "A moves the flight to start in three days: notice met, late_notice false (200)" \
    'v=$(curl -sf -H "${H[liaison-a]}" "$FM_URL/collections/movements/items/$MEDEVAC" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[\"properties\"][\"version\"])") &&
     [ "$(get "/collections/movements/items/$MEDEVAC" -X PATCH -H "${H[liaison-a]}" -H "If-Match: \"$v\"" -H "Content-Type: application/merge-patch+json" \
        --data-binary "{\"properties\":{\"valid_from\":\"$(at "+3 days")\",\"valid_to\":\"$(at "+4 days")\"}}")" = 200 ] &&
     grep -q "\"late_notice\": *false" "$FM_TMP/body"'
fetch l1 "$LT" -H "${H[liaison-b]}"
check "B's tile is drawn anew without the beads: another ETag" \
    '[ "$(cache_of l1)" = miss ] && [ "$(purple l1)" = 0 ] && [ "$(etag_of l1)" != "$(etag_of l0hit)" ] && [ "$(pixels l0 l1)" -gt 150 ]'
if have_poppler; then
    check "B's sheet (before the move) explained the purple in its legend" 'grep -q "LATE NOTICE: notified late, purple beads, clock" "$FM_TMP/B.txt"'
fi

# ---- a sheet of the past draws the conflicts open then ----------------------------------
T=$(at "now")
if have_poppler; then
    get "/map.pdf?t=$T" -H "${H[liaison-b]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/past.pdf"
    pdftotext "$FM_TMP/past.pdf" - | tr -s ' \n' ' ' >"$FM_TMP/past.txt"
    check "B's sheet as of a past time draws the conflict open then, named by its items' titles" \
        'grep -q "as of" "$FM_TMP/past.txt" && grep -q "CONFLICT: Supply convoy C-7 crosses Range North exercise area" "$FM_TMP/past.txt"'
    check "and its list no longer says they are not drawn" '! grep -q "not drawn on a map of the past" "$FM_TMP/past.txt"'
    check "nothing of A's draft on it" '! grep -q "Qx" "$FM_TMP/past.txt" && ! grep -q "southern buffer" "$FM_TMP/past.txt"'
    get "/map.pdf?t=$T" -H "${H[liaison-a]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/pastA.pdf"
    pdftotext "$FM_TMP/pastA.pdf" - | tr -s ' \n' ' ' >"$FM_TMP/pastA.txt"
    check "A's past sheet draws the same conflict" \
        'grep -q "CONFLICT: Supply convoy C-7 crosses Range North exercise area" "$FM_TMP/pastA.txt"'
fi
# the conflict Range North / convoy C-7 lies near 35.76, 33.06
read -r CX CY _ _ <<<"$(px 35.76 33.06 11)"
fetch pastc "/tiles/conflicts/11/$CX/$CY.png?t=$T" -H "${H[liaison-b]}"
fetch nowc "/tiles/conflicts/11/$CX/$CY.png" -H "${H[liaison-b]}"
check "a conflicts tile of the past draws it in red, as the tile of now" \
    '[ "$("$PNGDIFF" --count "$FM_TMP/pastc.png" 217 13 13 50)" -gt 50 ] && [ "$("$PNGDIFF" --count "$FM_TMP/nowc.png" 217 13 13 50)" -gt 50 ]'
check "a malformed t is still a 400" '[ "$(get "/map.pdf?t=yesterday" -H "${H[liaison-b]}")" = 400 ]'

# ---- serve --frame-other hostile ---------------------------------------------------------
fm_stop
fm_start --frame-other hostile
fetch hB "$FT" -H "${H[liaison-b]}"
fetch hA "$FT" -H "${H[liaison-a]}"
check "with --frame-other hostile B sees A's incident in a diamond (filled 11 px above its centre, not at a rectangle's corner)" \
    '[ "$(alpha_at hB $PX $((PY - 11)))" -gt 200 ] && [ "$(alpha_at hB $((PX + 12)) $((PY - 6)))" -lt 50 ]'
check "and B's tile was drawn anew: the frames are not the neutral ones of the last run" \
    '[ "$(pixels hB fB)" -gt 50 ]'
check "and A still sees its own in a friend frame" \
    '[ "$(alpha_at hA $((PX + 12)) $PY)" -gt 200 ] && [ "$(alpha_at hA $((PX + 12)) $((PY - 6)))" -gt 200 ]'
finish
