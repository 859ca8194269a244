#!/usr/bin/env bash
# vocabulary.sh - one vocabulary, defined once (common/vocabulary.def) and
# served: GET /vocabulary lists the statuses, zone types, incident
# categories and severities and movement kinds with labels and looks;
# every category it lists validates and draws with its own symbol (not
# the catch-all circle), every zone type with its own pattern row; a word
# it does not list is refused with a problem naming the field.
. "$(dirname "$0")/../lib.sh"
export FUSIONMAP_BASEMAP=none
fm_start --demo
TA=$(fm_token liaison-a)
A=(-H "Authorization: Bearer $TA" -H 'Content-Type: application/geo+json')

code=$(req GET /vocabulary)
cp "$FM_TMP/body" "$FM_TMP/vocab.json"
check "GET /vocabulary answers 200 JSON without a login" '[ "$code" = 200 ] && jq -e . "$FM_TMP/vocab.json" >/dev/null'
check "it lists statuses, zone types, categories, severities and movement kinds" \
    'jq -e "(.statuses|length) >= 10 and (.zone_types|length) >= 5 and (.categories|length) >= 8 and (.severities|length) == 5 and (.movement_kinds|length) >= 3" "$FM_TMP/vocab.json" >/dev/null'
check "every term has a label; statuses a colour, a line and their collections; categories a symbol; zone types a pattern" \
    'jq -e "all(.[][]; .label|type == \"string\") and all(.statuses[]; (.colour|test(\"^#[0-9a-f]{6}$\")) and .line and (.collections|length) > 0) and all(.categories[]; .symbol) and all(.zone_types[]; .pattern)" "$FM_TMP/vocab.json" >/dev/null'
check "the statuses of zones are the ones validation takes (draft, proposed, active, ...)" \
    '[ "$(jq -r "[.statuses[] | select(.collections|index(\"zones\")) | .name] | join(\",\")" "$FM_TMP/vocab.json")" = "draft,proposed,active,disputed,expired,withdrawn" ]'

# tile z14 x y whose centre is (lon, lat): one tile per category, side by side
read -r X0 Y0 <<<"$(python3 -c 'import math; lon,lat=36.17,33.32; n=2**14; print(int((lon+180)/360*n), int((1-math.asinh(math.tan(math.radians(lat)))/math.pi)/2*n))')"
centre() { python3 -c "import math,sys; x,y=int(sys.argv[1])+0.5,int(sys.argv[2])+0.5; n=2**14; print('%.7f,%.7f' % (x/n*360-180, math.degrees(math.atan(math.sinh(math.pi*(1-2*y/n))))))" "$1" "$2"; }

i=0
bad_post=0
declare -A SUM
for cat in $(jq -r '.categories[].name' "$FM_TMP/vocab.json"); do
    x=$((X0 + i)) y=$Y0
    code=$(req POST /collections/incidents/items "${A[@]}" \
        -d "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[$(centre $x $y)]},\"properties\":{\"title\":\"V\",\"category\":\"$cat\",\"severity\":3}}")
    [ "$code" = 201 ] || { bad_post=$((bad_post + 1)); echo "  $cat: $code $(body)"; }
    curl -sf "${A[@]}" -o "$FM_TMP/t.png" "$FM_URL/tiles/incidents/14/$x/$y.png"
    SUM[$cat]=$(sha256sum <"$FM_TMP/t.png" | cut -c1-16)
    i=$((i + 1))
done
check "every category /vocabulary lists is accepted (201)" '[ $bad_post = 0 ]'
same=0
for cat in "${!SUM[@]}"; do
    [ "$cat" = other ] && continue
    [ "${SUM[$cat]}" = "${SUM[other]}" ] && { same=$((same + 1)); echo "  $cat draws as the catch-all circle"; }
done
check "every category but other draws with its own symbol, not the catch-all circle (${#SUM[@]} tiles)" '[ $same = 0 ] && [ ${#SUM[@]} -ge 8 ]'
check "a star, a triangle and a square differ" '[ "${SUM[shelling]}" != "${SUM[uav]}" ] && [ "${SUM[uav]}" != "${SUM[movement]}" ]'

pt='"geometry":{"type":"Point","coordinates":[36.1,33.3]}'
code=$(req POST /collections/incidents/items "${A[@]}" -d "{\"type\":\"Feature\",$pt,\"properties\":{\"title\":\"x\",\"category\":\"picnic\",\"severity\":2}}")
check "an unknown category is 400 naming /properties/category and the words it takes" \
    '[ "$code" = 400 ] && is_problem 400 && body | grep -q "/properties/category" && body | grep -q "shelling"'
code=$(req POST /collections/incidents/items "${A[@]}" -d "{\"type\":\"Feature\",$pt,\"properties\":{\"title\":\"x\",\"category\":\"other\",\"severity\":6}}")
check "severity 6 is 400 (the vocabulary has five)" '[ "$code" = 400 ] && body | grep -q "/properties/severity"'
sq='"geometry":{"type":"Polygon","coordinates":[[[36.1,33.3],[36.11,33.3],[36.11,33.31],[36.1,33.3]]]}'
code=$(req POST /collections/zones/items "${A[@]}" -d "{\"type\":\"Feature\",$sq,\"properties\":{\"title\":\"x\",\"type\":\"picnic_area\"}}")
check "an unknown zone type is 400 naming /properties/type" '[ "$code" = 400 ] && body | grep -q "/properties/type"'
ln='"geometry":{"type":"LineString","coordinates":[[36.1,33.3],[36.11,33.31]]}'
code=$(req POST /collections/movements/items "${A[@]}" -d "{\"type\":\"Feature\",$ln,\"properties\":{\"title\":\"x\",\"type\":\"teleport\",\"corridor_width_m\":100}}")
check "an unknown movement type is 400 naming /properties/type" '[ "$code" = 400 ] && body | grep -q "/properties/type"'
bad_zone=0
for z in $(jq -r '.zone_types[].name' "$FM_TMP/vocab.json"); do
    code=$(req POST /collections/zones/items "${A[@]}" -d "{\"type\":\"Feature\",$sq,\"properties\":{\"title\":\"z $z\",\"type\":\"$z\",\"status\":\"draft\"}}")
    [ "$code" = 201 ] || { bad_zone=$((bad_zone + 1)); echo "  zone type $z: $code"; }
done
check "every zone type /vocabulary lists is accepted" '[ $bad_zone = 0 ]'
finish
