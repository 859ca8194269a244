#!/usr/bin/env bash
# tiles_invalidation.sh - an edit changes exactly the tiles it should: the
# tiles its old and new extents touch, at every zoom, are rendered anew
# (cache miss, new ETag); every other cached tile stays (hit, same ETag).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
export FUSIONMAP_BASEMAP=none
fm_start --demo
A=(-H "Authorization: Bearer $(fm_token liaison-a)")

L1="36.17 33.32" # where the new zone goes
L2="35.65 33.36" # where it moves
FAR1="35.78 33.08" # Range North, untouched
FAR2="36.05 32.88" # the UAV sighting, untouched
declare -A P
for z in 8 12 14; do
    P[l1_$z]=$(tile_of $L1 $z)
    P[l2_$z]=$(tile_of $L2 $z)
    P[far1_$z]=$(tile_of $FAR1 $z)
    P[far2_$z]=$(tile_of $FAR2 $z)
done
NAMES="l1_12 l1_14 l2_12 l2_14 far1_12 far1_14 far2_12 far2_14 l1_8"
# fetch by zoom: /tiles/all/Z/X/Y.png
tile() { # NAME KEY
    local key=$2 z=${2##*_}
    fetch "$1" "/tiles/all/$z/${P[$key]}.png" "${A[@]}"
}
for n in $NAMES; do tile "v0_$n" $n; done
all_hit=1
for n in $NAMES; do tile "v0b_$n" $n && [ "$(cache_of v0b_$n)" = hit ] || { all_hit=0; echo "# $n: $(cache_of v0b_$n)"; }; done
check "a second fetch of each tile is a cache hit" '[ $all_hit = 1 ]'

code=$(get /collections/zones/items "${A[@]}" -H 'Content-Type: application/geo+json' \
    -d "$(zone_json "$(square $L1 0.01)" proposed 'Moving zone')")
ID=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$FM_TMP/body")
check "a zone is created (201)" '[ "$code" = 201 ] && [ -n "$ID" ]'
for n in $NAMES; do tile "v1_$n" $n; done
changed() { [ "$(cache_of $2_$1)" = miss ] && [ "$(etag_of $2_$1)" != "$(etag_of $3_$1)" ]; }
kept() { [ "$(cache_of $2_$1)" = hit ] && [ "$(etag_of $2_$1)" = "$(etag_of $3_$1)" ]; }
check "creating it re-renders its tile at z12 and z14, with a new ETag" 'changed l1_12 v1 v0 && changed l1_14 v1 v0'
check "and at z8, where it is a few pixels" 'changed l1_8 v1 v0'
check "tiles it does not touch stay cached with the same ETag" \
    'kept l2_12 v1 v0 && kept l2_14 v1 v0 && kept far1_12 v1 v0 && kept far1_14 v1 v0 && kept far2_12 v1 v0 && kept far2_14 v1 v0'

code=$(get /collections/zones/items/$ID "${A[@]}" -X PATCH -H 'Content-Type: application/merge-patch+json' \
    -H 'If-Match: "1"' -d "{\"geometry\":$(square $L2 0.01)}")
check "the zone is moved (PATCH 200)" '[ "$code" = 200 ]'
for n in $NAMES; do tile "v2_$n" $n; done
check "its old tiles are re-rendered, and look as before it came" \
    'changed l1_12 v2 v1 && changed l1_14 v2 v1 && [ "$(etag_of v2_l1_12)" = "$(etag_of v0_l1_12)" ] &&
     [ "$(pixels v0_l1_14 v2_l1_14)" = 0 ]'
check "its new tiles are re-rendered with the zone" \
    'changed l2_12 v2 v1 && changed l2_14 v2 v1 && [ "$(pixels v1_l2_14 v2_l2_14)" -gt 100 ]'
check "the other tiles are still cached, unchanged" \
    'kept far1_12 v2 v1 && kept far1_14 v2 v1 && kept far2_12 v2 v1 && kept far2_14 v2 v1'
code=$(get /collections/zones/items/$ID "${A[@]}" -X DELETE -H 'If-Match: "2"')
for n in l2_14 far1_14; do tile "v3_$n" $n; done
check "withdrawing it clears it from its tile and keeps the others" \
    '[ "$code" = 204 ] && changed l2_14 v3 v2 && [ "$(pixels v0_l2_14 v3_l2_14)" = 0 ] && kept far1_14 v3 v2'

# another process writes (the command line imports a zone into the same
# file): the server sees it within its re-read interval (200 ms), not only
# after its own writes
for n in l1_14 far2_14; do tile "v4_$n" $n; done
printf '{"type":"FeatureCollection","features":[%s]}' \
    "$(zone_json "$(square $L1 0.01)" draft 'Imported zone')" >"$FM_TMP/import.geojson"
"$FUSIONMAP" import "$FM_TMP/import.geojson" --collection zones --party A --db "$FM_DB" \
    >"$FM_TMP/import.out" 2>&1
seen=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
    sleep 0.3
    tile v5_l1_14 l1_14
    if changed l1_14 v5 v4; then seen=1; break; fi
done
tile v5_far2_14 far2_14
check "a zone imported by another process shows in its tile within a few tenths of a second" \
    '[ $seen = 1 ] && [ "$(pixels v4_l1_14 v5_l1_14)" -gt 100 ] && kept far2_14 v5 v4'
# a token cached as good does not make a near miss good
T=$(fm_token liaison-a)
code1=$(get /tiles/all/14/${P[far2_14]}.png -H "Authorization: Bearer $T")
code2=$(get /tiles/all/14/${P[far2_14]}.png -H "Authorization: Bearer ${T%?}x")
code3=$(get /tiles/all/14/${P[far2_14]}.png -H "Authorization: Bearer ${T%?}x")
check "a token one letter off a good one is refused, each time (401)" \
    '[ "$code1" = 200 ] && [ "$code2" = 401 ] && [ "$code3" = 401 ]'
finish
