#!/usr/bin/env bash
# tiles_visibility.sh - a draft of party A never appears in party B's (or
# the supervisor's, or a viewer's) tiles or /map.png: compared pixel by
# pixel, before and after A draws a draft, cached and uncached.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
export FUSIONMAP_BASEMAP=none
fm_start --demo
A=(-H "Authorization: Bearer $(fm_token liaison-a)")
B=(-H "Authorization: Bearer $(fm_token liaison-b)")
S=(-H "Authorization: Bearer $(fm_token supervisor)")
V=(-H "Authorization: Bearer $(fm_token viewer)")

# the demo's draft "southern buffer (A only)" lies at 35.62-35.72, 32.66-32.74
T=$(tile_of 35.67 32.70 12)
for who in A B S V; do
    eval "args=(\"\${$who[@]}\")"
    fetch "demo_$who" "/tiles/zones/12/$T.png" "${args[@]}"
done
check "A sees its own demo draft; B does not" '[ "$(pixels demo_A demo_B)" -gt 200 ]'
check "B's tile equals the supervisor's and the viewer's (nobody else sees A's draft)" \
    '[ "$(pixels demo_B demo_S)" = 0 ] && [ "$(pixels demo_B demo_V)" = 0 ]'

# a new draft of A in an empty corner of the demo area
LON=36.17 LAT=33.32
N=$(tile_of $LON $LAT 12)
BBOX="36.10,33.26,36.24,33.38"
MAP="/map.png?bbox=$BBOX&width=600&height=400&layers=all"
fetch before_A "/tiles/all/12/$N.png" "${A[@]}"
fetch before_B "/tiles/all/12/$N.png" "${B[@]}"
fetch before_B2x "/tiles/all/12/$N@2x.png" "${B[@]}"
fetch map_before_A "$MAP" "${A[@]}"
fetch map_before_B "$MAP" "${B[@]}"
code=$(get /collections/zones/items "${A[@]}" -H 'Content-Type: application/geo+json' \
    -d "$(zone_json "$(square $LON $LAT 0.02)" draft 'Secret draft of A')")
check "A creates a draft (201)" '[ "$code" = 201 ]'
fetch after_A "/tiles/all/12/$N.png" "${A[@]}"
fetch after_B "/tiles/all/12/$N.png" "${B[@]}"
fetch after_B2x "/tiles/all/12/$N@2x.png" "${B[@]}"
fetch after_S "/tiles/all/12/$N.png" "${S[@]}"
fetch map_after_A "$MAP" "${A[@]}"
fetch map_after_B "$MAP" "${B[@]}"
fetch map_after_V "$MAP" "${V[@]}"
check "the draft appears in A's tile" '[ "$(pixels before_A after_A)" -gt 200 ]'
check "B's tile is unchanged, pixel for pixel" '[ "$(pixels before_B after_B)" = 0 ]'
check "B's @2x tile is unchanged" '[ "$(pixels before_B2x after_B2x)" = 0 ]'
check "the supervisor's tile shows no draft either" '[ "$(pixels before_B after_S)" = 0 ]'
check "the draft appears in A's /map.png" '[ "$(pixels map_before_A map_after_A 40)" -gt 200 ]'
# the marking and title bars (top 64 rows) carry the time stamp; everything below must match
check "B's /map.png is unchanged below the title bar" '[ "$(pixels map_before_B map_after_B 64)" = 0 ]'
check "a viewer's /map.png shows no draft" '[ "$(pixels map_before_B map_after_V 64)" = 0 ]'
check "B's cached tile is still B's picture (ETag as before)" \
    'fetch again_B "/tiles/all/12/$N.png" "${B[@]}" && [ "$(etag_of again_B)" = "$(etag_of before_B)" ]'
finish
