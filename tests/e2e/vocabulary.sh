#!/usr/bin/env bash
# vocabulary.sh - one vocabulary, defined once (common/vocabulary.def) and
# served: GET /vocabulary lists the statuses, zone types, incident
# categories and severities and movement kinds with labels and looks;
# every category it lists validates and draws on tiles with its own
# 2525D symbol (those whose symbol is the catch-all's, a plain incident,
# as the catch-all), every zone type with its own pattern row; a word
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
    'jq -e "all(del(.workflow, .frames)[][]; .label|type == \"string\") and all(.statuses[]; (.colour|test(\"^#[0-9a-f]{6}$\")) and .line and (.collections|length) > 0) and all(.categories[]; .symbol) and all(.zone_types[]; .pattern)" "$FM_TMP/vocab.json" >/dev/null'
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
sym() { jq -c --arg n "$1" '.categories[] | select(.name == $n) | .symbol_2525d' "$FM_TMP/vocab.json"; }
for cat in "${!SUM[@]}"; do
    [ "$cat" = other ] && continue
    if [ "$(sym "$cat")" = "$(sym other)" ]; then
        [ "${SUM[$cat]}" = "${SUM[other]}" ] || { same=$((same + 1)); echo "  $cat has the catch-all's 2525D symbol but draws otherwise"; }
    else
        [ "${SUM[$cat]}" = "${SUM[other]}" ] && { same=$((same + 1)); echo "  $cat draws as the catch-all"; }
    fi
done
check "every category draws with its own 2525D symbol; those whose symbol is the catch-all's draw as it (${#SUM[@]} tiles)" '[ $same = 0 ] && [ ${#SUM[@]} -ge 8 ]'
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
# the workflow per role, and /api's enums, both from vocabulary.def: the
# document says what each role may do in each status, and the server does
# exactly that; /api lists the same words as the vocabulary
V="$FM_TMP/vocab.json"
req GET /api >/dev/null
cp "$FM_TMP/body" "$FM_TMP/api.json"
same() { # JQ-ON-API JQ-ON-VOCAB
    [ "$(jq -c "$1" "$FM_TMP/api.json")" = "$(jq -c "$2" "$V")" ]
}
check "/api's status enums are the vocabulary's statuses of each collection" \
    'same .components.schemas.ZoneStatus.enum "[.statuses[]|select(.collections|index(\"zones\"))|.name]" &&
     same .components.schemas.IncidentStatus.enum "[.statuses[]|select(.collections|index(\"incidents\"))|.name]" &&
     same .components.schemas.MovementStatus.enum "[.statuses[]|select(.collections|index(\"movements\"))|.name]" &&
     same .components.schemas.Status.enum "[.statuses[].name]"'
check "/api's zone types, categories, severities and movement kinds are the vocabulary's" \
    'same .components.schemas.ZoneType.enum "[.zone_types[].name]" &&
     same .components.schemas.IncidentCategory.enum "[.categories[].name]" &&
     same .components.schemas.Severity.enum "[.severities[].value]" &&
     same .components.schemas.MovementKind.enum "[.movement_kinds[].name]"'
check "/api's feature body refers to them (a new item's properties by collection)" \
    '[ "$(jq -r ".paths[\"/collections/{collectionId}/items\"].post.requestBody.content[\"application/geo+json\"].schema[\"\$ref\"]" "$FM_TMP/api.json")" = "#/components/schemas/Feature" ] &&
     [ "$(jq -r ".components.schemas.IncidentProperties.properties.category[\"\$ref\"]" "$FM_TMP/api.json")" = "#/components/schemas/IncidentCategory" ]'
check "every step of the served workflow is between statuses of its collection, by someone" \
    'jq -e "[.workflow | to_entries[] | select(.key != \"roles\") | .key as \$c | .value.steps[] | (\$c as \$k | .from, .to) ] | length > 20" "$V" >/dev/null &&
     for c in zones incidents movements; do
         jq -e --arg c $c "([.statuses[]|select(.collections|index(\$c))|.name]) as \$s | all(.workflow[\$c].steps[]; (.from as \$f | \$s|index(\$f)) and (.to as \$t | \$s|index(\$t)) and (.by|length) > 0) and all(.workflow[\$c].start[]; . as \$x | \$s|index(\$x))" "$V" >/dev/null || exit 1
     done'
check "a viewer and an admin may take no step; a liaison's own draft zone may go to proposed or be withdrawn" \
    'jq -e "all(.workflow.roles.viewer[][]; (.own|length) == 0 and (.other|length) == 0) and all(.workflow.roles.admin[][]; (.own|length) == 0 and (.other|length) == 0) and .workflow.roles.liaison.zones.draft.own == [\"proposed\",\"withdrawn\"] and .workflow.roles.liaison.zones.proposed.other == [\"active\",\"disputed\"]" "$V" >/dev/null'
check "only the supervisor may take another party's item to a settled status (disputed zone: proposed, active)" \
    'jq -e ".workflow.roles.supervisor.zones.disputed.other == [\"proposed\",\"active\"] and .workflow.roles.liaison.zones.disputed.other == []" "$V" >/dev/null'

# the server does what the document says: every start status is taken and
# nothing else; every step a liaison may take from a draft works
geom_of() {
    case $1 in
    zones) echo '{"type":"Polygon","coordinates":[[[36.2,33.4],[36.21,33.4],[36.21,33.41],[36.2,33.4]]]}' ;;
    incidents) echo '{"type":"Point","coordinates":[36.2,33.4]}' ;;
    movements) echo '{"type":"LineString","coordinates":[[36.2,33.4],[36.21,33.41]]}' ;;
    esac
}
props_of() { # COLLECTION STATUS
    case $1 in
    zones) echo "{\"title\":\"w\",\"type\":\"restricted\",\"status\":\"$2\",\"valid_from\":\"2026-01-01T00:00:00Z\",\"valid_to\":\"2030-01-01T00:00:00Z\"}" ;;
    incidents) echo "{\"title\":\"w\",\"category\":\"other\",\"severity\":2,\"status\":\"$2\",\"occurred_at\":\"2026-01-01T00:00:00Z\"}" ;;
    movements) echo "{\"title\":\"w\",\"type\":\"ground\",\"corridor_width_m\":100,\"status\":\"$2\",\"valid_from\":\"2026-01-01T00:00:00Z\",\"valid_to\":\"2030-01-01T00:00:00Z\"}" ;;
    esac
}
bad=""
for c in zones incidents movements; do
    for s in $(jq -r --arg c $c '[.statuses[]|select(.collections|index($c))|.name][]' "$V"); do
        code=$(req POST /collections/$c/items "${A[@]}" -d "{\"type\":\"Feature\",\"geometry\":$(geom_of $c),\"properties\":$(props_of $c $s)}")
        want=400
        jq -e --arg c $c --arg s $s '.workflow[$c].start|index($s)' "$V" >/dev/null && want=201
        [ "$code" = "$want" ] || bad="$bad $c/$s:$code(want $want)"
    done
done
check "a new item is taken in exactly the workflow's start statuses (201), any other is 400" '[ -z "$bad" ] || { echo "  $bad"; false; }'
bad=""
for c in zones incidents movements; do
    for to in $(jq -r --arg c $c '.workflow.roles.liaison[$c].draft.own[]' "$V"); do
        req POST /collections/$c/items "${A[@]}" -d "{\"type\":\"Feature\",\"geometry\":$(geom_of $c),\"properties\":$(props_of $c draft)}" >/dev/null
        id=$(jqb .id)
        if [ "$to" = withdrawn ]; then
            code=$(req DELETE /collections/$c/items/$id "${A[@]}" -H 'If-Match: "1"')
            [ "$code" = 204 ] || bad="$bad $c:draft->$to:$code"
        else
            code=$(req PATCH /collections/$c/items/$id "${A[@]}" -H 'Content-Type: application/merge-patch+json' -H 'If-Match: "1"' -d "{\"properties\":{\"status\":\"$to\"}}")
            [ "$code" = 200 ] || bad="$bad $c:draft->$to:$code"
        fi
    done
done
check "every step the document gives a liaison from a draft of its own is taken (PATCH 200, DELETE 204)" '[ -z "$bad" ] || { echo "  $bad"; false; }'
check "every category and movement kind has a 2525D symbol (set, entity); the others' frame is neutral by default, never hostile" \
    'jq -e "all(.categories[], .movement_kinds[]; (.symbol_2525d.set|test(\"^[0-9]{2}$\")) and (.symbol_2525d.entity|test(\"^[0-9]{6}$\"))) and .frames.own.code == \"3\" and .frames.others.identity == \"neutral\" and .frames.others.code == \"4\"" "$V" >/dev/null'
fm_stop
fm_start --frame-other hostile
check "serve --frame-other hostile gives the others a hostile frame (6) in /vocabulary" \
    '[ "$(req GET /vocabulary)" = 200 ] && [ "$(jqb .frames.others.code)" = 6 ] && [ "$(jqb .frames.own.code)" = 3 ]'
check "serve --frame-other enemy is refused at the start (exit 2)" \
    '"$FUSIONMAP" serve --db "$FM_TMP/x.db" --port 0 --frame-other enemy >/dev/null 2>&1; [ $? = 2 ]'
finish
