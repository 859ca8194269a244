#!/usr/bin/env bash
# Issue 20, the second part: signed rulings, cosigned heads (a history
# witnessed by both sides), evidence bundles. Everything against the real
# server binary, also as the other side; every refusal a problem that
# changes nothing; every check of a signature repeated offline by
# `fusionmap events verify` and by tests/verify_export.py (Python: JCS and
# Ed25519 only).
. "$(dirname "$0")/../lib.sh"
fm_start --demo
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
TS=$(fm_token supervisor)
A=(-H "Authorization: Bearer $TA")
B=(-H "Authorization: Bearer $TB")
S=(-H "Authorization: Bearer $TS")
J=(-H 'Content-Type: application/json')
KA="$FM_TMP/a.key" KB="$FM_TMP/b.key" KS="$FM_TMP/s.key"
for k in KA KB KS; do "$FUSIONMAP" key new --out "${!k}" >/dev/null; done
fp() { "$FUSIONMAP" key show --key "$1" | jq -r .fingerprint; }
pub() { "$FUSIONMAP" key show --key "$1" | jq -r .public_key; }
FPA=$(fp "$KA") FPB=$(fp "$KB") FPS=$(fp "$KS")
HAVE_NACL=0
/usr/bin/python3 -c 'import nacl' 2>/dev/null && HAVE_NACL=1
pyverify() { /usr/bin/python3 "$FM_SOURCE_DIR/tests/verify_export.py" "$@"; }

# a new proposed zone of A's, disputed by B (unsigned: B has no key yet); prints its id
disputed_zone() {
    req POST /collections/zones/items "${A[@]}" -H 'Content-Type: application/geo+json' \
        -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.61,32.61],[35.65,32.61],[35.65,32.65],[35.61,32.65],[35.61,32.61]]]},"properties":{"title":"'"$1"'","type":"restricted","status":"proposed"}}' >/dev/null
    local id
    id=$(jqb .id)
    req POST "/collections/zones/items/$id/ack" "${B[@]}" "${J[@]}" -H 'If-Match: "1"' \
        -d '{"decision":"dispute","comment":"on our road"}' >/dev/null
    echo "$id"
}
version() { req GET "/collections/zones/items/$1" "${A[@]}" >/dev/null; jqb .properties.version; }
# rstmt ID VERSION DECISION REASON [WHO]: the ruling's statement into $FM_TMP/stmt, status printed
rstmt() {
    local who=("${S[@]}")
    [ $# -ge 5 ] && who=("${@:5}")
    curl -s -o "$FM_TMP/stmt" -w '%{http_code}' "${who[@]}" -G --data-urlencode "version=$2" \
        --data-urlencode "decision=$3" --data-urlencode "comment=$4" \
        "$FM_URL/collections/zones/items/$1/statement"
}
sign() { "$FUSIONMAP" sign --key "$1" <"$FM_TMP/stmt"; }
st_at() { jq -r .at "$FM_TMP/stmt"; }
# rule ID DECISION REASON KEYFP AT SIG [WHO...]: a signed ruling, status printed
rule() {
    local body who=("${S[@]}")
    [ $# -ge 7 ] && who=("${@:7}")
    body=$(jq -cn --arg d "$2" --arg r "$3" --arg k "$4" --argjson at "$5" --arg v "$6" \
        '{decision: $d, reason: $r, signature: {key: $k, at: $at, value: $v}}')
    req POST "/collections/zones/items/$1/ruling" "${who[@]}" "${J[@]}" -d "$body"
}
nrulings() { req GET "/collections/zones/items/$1/acks" "${A[@]}" >/dev/null; jqb '.rulings | length'; }

# ======================= signed rulings =======================
check "the supervisor and A register their keys" \
    '[ "$(req POST /keys "${S[@]}" "${J[@]}" -d "{\"public_key\":\"$(pub "$KS")\"}")" = 201 ] &&
     [ "$(req POST /keys "${A[@]}" "${J[@]}" -d "{\"public_key\":\"$(pub "$KA")\"}")" = 201 ]'
Z=$(disputed_zone "ruled, signed")
V=$(version "$Z")
R='Too close to the road: move it 2 km north'
check "the supervisor, now with a key, may not rule unsigned (409, naming why); nothing written" \
    '[ "$(req POST /collections/zones/items/$Z/ruling "${S[@]}" "${J[@]}" -d "{\"decision\":\"uphold\",\"reason\":\"x\"}")" = 409 ] &&
     is_problem 409 && jqb .detail | grep -q "must be signed" && [ "$(nrulings $Z)" = 0 ]'
check "a ruling's statement: RFC 8785, purpose \"fusionmap ruling\", the decision, the reason's digest, the version's" \
    '[ "$(rstmt $Z $V uphold "$R")" = 200 ] && [ "$(cat "$FM_TMP/stmt")" = "$(jq -cS . "$FM_TMP/stmt")" ] &&
     [ "$(jq -r "[.purpose,.decision,.collection,.item,.version,.user,.party] | join(\" \")" "$FM_TMP/stmt")" = "fusionmap ruling uphold zones $Z $V supervisor SUP" ] &&
     [ "$(jq -r .comment_sha256 "$FM_TMP/stmt")" = "$(printf %s "$R" | sha256sum | cut -d" " -f1)" ] &&
     [ "$(jq -r .version_sha256 "$FM_TMP/stmt")" = "$(sqlite3 "$FM_DB" "SELECT feature FROM item_versions WHERE item_id = $Z AND version = $V" | tr -d "\n" | sha256sum | cut -d" " -f1)" ]'
N=$(req POST /collections/zones/items "${A[@]}" -H 'Content-Type: application/geo+json' -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.7,32.7],[35.71,32.7],[35.71,32.71],[35.7,32.7]]]},"properties":{"title":"n","type":"restricted","status":"proposed"}}' >/dev/null; jqb .id)
check "a liaison cannot get a ruling's statement (403); nor of an item not disputed (409); nor of an old version (412)" \
    '[ "$(rstmt $Z $V uphold "$R" "${A[@]}")" = 403 ] && [ "$(jq .status "$FM_TMP/stmt")" = 403 ] &&
     [ "$(rstmt $N 1 uphold "$R")" = 409 ] && [ "$(jq .status "$FM_TMP/stmt")" = 409 ] &&
     [ "$(rstmt $Z $((V - 1)) uphold "$R")" = 412 ] && [ "$(jq .status "$FM_TMP/stmt")" = 412 ]'
rstmt $Z $V uphold "$R" >/dev/null
AT=$(st_at)
SIGS=$(sign "$KS")
SIGA=$(sign "$KA")
check "A cannot rule with a signature of its own (403: only the supervisor rules)" \
    '[ "$(rule $Z uphold "$R" "$FPA" "$AT" "$SIGA" "${A[@]}")" = 403 ] && is_problem 403'
check "the supervisor cannot sign with A's key (403: not a key of the supervisor)" \
    '[ "$(rule $Z uphold "$R" "$FPA" "$AT" "$SIGA")" = 403 ] && is_problem 403 && [ "$(jqb .pointer)" = /signature/key ]'
check "a changed reason, a changed decision, a changed time: 400 (does not verify)" \
    '[ "$(rule $Z uphold "$R!" "$FPS" "$AT" "$SIGS")" = 400 ] && jqb .detail | grep -q "does not verify" &&
     [ "$(rule $Z overrule "$R" "$FPS" "$AT" "$SIGS")" = 400 ] &&
     [ "$(rule $Z uphold "$R" "$FPS" "$((AT + 1))" "$SIGS")" = 400 ]'
# the same fields signed as an acknowledgement's statement ("fusionmap answer"): must not stand for a ruling
ANS=$(jq -cS '.purpose = "fusionmap answer"' "$FM_TMP/stmt")
printf %s "$ANS" >"$FM_TMP/ans.stmt"
SIGANS=$("$FUSIONMAP" sign --key "$KS" <"$FM_TMP/ans.stmt")
check "a signature over an answer's statement (another purpose) does not stand for a ruling (400)" \
    '[ "$(rule $Z uphold "$R" "$FPS" "$AT" "$SIGANS")" = 400 ]'
check "malformed signatures are 400 problems: bad base64, not an object, a member missing, a bad fingerprint" \
    '[ "$(rule $Z uphold "$R" "$FPS" "$AT" "%%%")" = 400 ] && [ "$(jqb .pointer)" = /signature/value ] &&
     [ "$(req POST /collections/zones/items/$Z/ruling "${S[@]}" "${J[@]}" -d "{\"decision\":\"uphold\",\"reason\":\"x\",\"signature\":\"$SIGS\"}")" = 400 ] && is_problem 400 &&
     [ "$(req POST /collections/zones/items/$Z/ruling "${S[@]}" "${J[@]}" -d "{\"decision\":\"uphold\",\"reason\":\"x\",\"signature\":{\"key\":\"$FPS\",\"value\":\"$SIGS\"}}")" = 400 ] &&
     [ "$(rule $Z uphold "$R" "${FPS:1}" "$AT" "$SIGS")" = 400 ] && is_problem 400'
check "none of the refused rulings was taken; the zone is still disputed at version $V" \
    '[ "$(nrulings $Z)" = 0 ] && [ "$(version $Z)" = "$V" ] && req GET /collections/zones/items/$Z "${A[@]}" >/dev/null && [ "$(jqb .properties.status)" = disputed ]'
check "the right signature is taken (200) and its record holds it" \
    '[ "$(rule $Z uphold "$R" "$FPS" "$AT" "$SIGS")" = 200 ] && [ "$(jqb .ruling.decision)" = uphold ] &&
     [ "$(sqlite3 "$FM_DB" "SELECT json_extract(after, '"'"'$.signature.key'"'"') || '"'"' '"'"' || json_extract(after, '"'"'$.signature.value'"'"') FROM events WHERE action = '"'"'ruling'"'"' AND item_id = $Z")" = "$FPS $SIGS" ]'
check "the same signature again (a replay) is refused: one ruling per version (409)" \
    '[ "$(rule $Z uphold "$R" "$FPS" "$AT" "$SIGS")" = 409 ] && [ "$(nrulings $Z)" = 1 ]'
Z2=$(disputed_zone "overruled, signed")
V2=$(version "$Z2")
check "a signature for zone $Z replayed for zone $Z2 is 400; its own signed overrule is taken" \
    '[ "$(rule $Z2 uphold "$R" "$FPS" "$AT" "$SIGS")" = 400 ] &&
     rstmt $Z2 $V2 overrule "No objection stands" >/dev/null && [ "$(rule $Z2 overrule "No objection stands" "$FPS" "$(st_at)" "$(sign "$KS")")" = 200 ] &&
     [ "$(jqb .item.properties.status)" = active ]'
check "events verify: the signed rulings verify" \
    'out=$("$FUSIONMAP" events verify --db "$FM_DB"); echo "# $out"; [[ $out == "ok: "* ]]'
"$FUSIONMAP" events export --db "$FM_DB" --out "$FM_TMP/export.jsonl" 2>/dev/null
check "events verify --file: 2 signed rulings verify offline" \
    'out=$("$FUSIONMAP" events verify --file "$FM_TMP/export.jsonl"); echo "# ${out//$'"'"'\n'"'"'/ / }"; grep -qx "ok: 2 signed answers verify" <<<"$out"'
if [ $HAVE_NACL = 1 ]; then
    check "tests/verify_export.py verifies the 2 signed rulings with JCS and Ed25519 alone" \
        'out=$(pyverify "$FM_TMP/export.jsonl"); echo "# $out"; grep -q "^ok: .* 2 signed answers" <<<"$out"'
fi
# a forger holding the file makes the upheld ruling an overrule and re-hashes (chain v1 here: the
# forger's own choice of format)
/usr/bin/python3 - "$FM_TMP/export.jsonl" "$FM_TMP/forged.jsonl" <<'PY'
import hashlib, json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
def h(prev, r):
    rec = {k: r[k] for k in ("seq", "at", "user", "party", "action", "collection", "owner", "item", "version", "before", "after")}
    return hashlib.sha256((prev + json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)).encode()).hexdigest()
prev = "0" * 64
with open(sys.argv[2], "w") as f:
    for r in lines:
        if "seq" not in r:
            r["head"] = prev
        else:
            if r["action"] == "ruling" and '"uphold"' in r["after"]:
                a = json.loads(r["after"]); a["decision"] = "overrule"; r["after"] = json.dumps(a, separators=(",", ":"))
            r.pop("chain", None)
            r["prev_hash"], r["hash"] = prev, h(prev, r)
            prev = r["hash"]
        f.write(json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n")
PY
SEQR=$(jq -r 'select(.action == "ruling") | .seq' "$FM_TMP/export.jsonl" | head -n1)
check "a signed ruling rewritten (uphold -> overrule) and re-hashed is caught at its record ($SEQR)" \
    'out=$("$FUSIONMAP" events verify --file "$FM_TMP/forged.jsonl"); echo "# $out"; [[ $out == "BROKEN at record $SEQR "* ]] && grep -q signature <<<"$out"'
[ $HAVE_NACL = 1 ] && check "and by tests/verify_export.py" \
    'out=$(pyverify "$FM_TMP/forged.jsonl"); echo "# $out"; [[ $out == "BROKEN: record $SEQR:"* ]]'

finish
