#!/usr/bin/env bash
# Evidence bundles (issue 20), the rest: `fusionmap events verify --file`
# checks a bundle offline in C exactly as tests/verify_export.py does in
# Python, both refuse a bundle with bytes changed in any place (a record's
# field, a digest, a signature, a head, a given key) and name the same
# record; the bundle holds the conflicts the item was in and its thread, as
# the party may read them, and a picture of its area; and, as the other
# side, B's bundle carries nothing of A's draft: not the draft, not its
# thread, not the conflict with it.
. "$(dirname "$0")/../lib.sh"
fm_start --demo
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
A=(-H "Authorization: Bearer $TA")
B=(-H "Authorization: Bearer $TB")
J=(-H 'Content-Type: application/json')
KA="$FM_TMP/a.key" KB="$FM_TMP/b.key"
for k in KA KB; do "$FUSIONMAP" key new --out "${!k}" >/dev/null; done
fp() { "$FUSIONMAP" key show --key "$1" | jq -r .fingerprint; }
pub() { "$FUSIONMAP" key show --key "$1" | jq -r .public_key; }
FPA=$(fp "$KA") FPB=$(fp "$KB")
HAVE_NACL=0
/usr/bin/python3 -c 'import nacl' 2>/dev/null && HAVE_NACL=1
pyverify() { /usr/bin/python3 "$FM_SOURCE_DIR/tests/verify_export.py" "$@"; }
cverify() { "$FUSIONMAP" events verify --file "$@"; }
# both FILE: both verifiers' first lines, one per line
both() { cverify "$1" | head -1; [ $HAVE_NACL = 0 ] || pyverify "$1" | head -1; }

# zone WHO TITLE STATUS X0 Y0 X1 Y1: a square zone, its id
zone() {
    req POST /collections/zones/items "${@:7}" -H 'Content-Type: application/geo+json' \
        -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[['"$3"','"$4"'],['"$5"','"$4"'],['"$5"','"$6"'],['"$3"','"$6"'],['"$3"','"$4"']]]},"properties":{"title":"'"$1"'","type":"restricted","status":"'"$2"'"}}' >/dev/null
    jqb .id
}
post_msg() { req POST "/collections/zones/items/$1/messages" "${@:3}" "${J[@]}" -d "{\"text\":\"$2\"}"; }

req POST /keys "${A[@]}" "${J[@]}" -d "{\"public_key\":\"$(pub "$KA")\"}" >/dev/null
req POST /keys "${B[@]}" "${J[@]}" -d "{\"public_key\":\"$(pub "$KB")\"}" >/dev/null
# A's proposed zone Z; B's proposed zone ZB overlapping it (a conflict both
# see); A's draft AD overlapping ZB only (a conflict A alone sees)
Z=$(zone "A open range Kq" proposed 35.90 32.90 35.92 32.92 "${A[@]}")
ZB=$(zone "B field camp Mv" proposed 35.91 32.91 35.93 32.93 "${B[@]}")
AD=$(zone "A hidden draft Jx" draft 35.925 32.925 35.94 32.94 "${A[@]}")
# B acknowledges Z, signed
curl -s -o "$FM_TMP/stmt" "${B[@]}" -G --data-urlencode version=1 --data-urlencode decision=ack \
    --data-urlencode "comment=seen, signed" "$FM_URL/collections/zones/items/$Z/statement"
SIG=$("$FUSIONMAP" sign --key "$KB" <"$FM_TMP/stmt")
req POST "/collections/zones/items/$Z/ack" "${B[@]}" "${J[@]}" -H 'If-Match: "1"' \
    -d "$(jq -cn --arg k "$FPB" --argjson at "$(jq .at "$FM_TMP/stmt")" --arg v "$SIG" \
        '{decision: "ack", comment: "seen, signed", signature: {key: $k, at: $at, value: $v}}')" >/dev/null
post_msg "$ZB" "B words on the camp Tz" "${B[@]}" >/dev/null
post_msg "$ZB" "A words on the camp Pw" "${A[@]}" >/dev/null
post_msg "$AD" "A words on the draft Hq" "${A[@]}" >/dev/null
# both sides cosign the head
gethead() { curl -s -o "$FM_TMP/head" "$@" "$FM_URL/events/head"; }
cosign() {
    local kf=$1 kfp=$2 st at sig
    shift 2
    gethead "$@"
    st=$(jq -r .statement "$FM_TMP/head")
    at=$(jq -r .at <<<"$st")
    sig=$(printf %s "$st" | "$FUSIONMAP" sign --key "$kf")
    req POST /heads "$@" "${J[@]}" -d "$(jq -cn --argjson s "$(jq .seq <<<"$st")" --arg h "$(jq -r .hash <<<"$st")" \
        --arg k "$kfp" --argjson at "$at" --arg v "$sig" '{seq: $s, hash: $h, signature: {key: $k, at: $at, value: $v}}')"
}
check "the setup: conflicts opened with ZB (A sees 3: one with its draft; B sees 2), both sides cosigned the head" \
    'req GET "/collections/conflicts/items?limit=100" "${A[@]}" >/dev/null && [ "$(jqb "[.features[] | select(.properties.items | map(.id) | index($ZB))] | length")" = 3 ] &&
     req GET "/collections/conflicts/items?limit=100" "${B[@]}" >/dev/null && [ "$(jqb "[.features[] | select(.properties.items | map(.id) | index($ZB))] | length")" = 2 ] &&
     [ "$(cosign "$KA" "$FPA" "${A[@]}")" = 201 ] && [ "$(cosign "$KB" "$FPB" "${B[@]}")" = 201 ]'
# the conflicts B sees with ZB; those A alone sees with its draft
CZ=$(req GET "/collections/conflicts/items?limit=100" "${B[@]}" >/dev/null; jqb "[.features[] | select(.properties.items | map(.id) | index($ZB)) | .id] | sort | join(\",\")")
CD=$(req GET "/collections/conflicts/items?limit=100" "${A[@]}" >/dev/null; jqb "[.features[] | select(.properties.items | map(.id) | index($AD)) | .id] | sort | join(\",\")")
evid() { curl -s -o "$2" -w '%{http_code}' "${@:3}" "$FM_URL/collections/zones/items/$1/evidence"; }
evid "$Z" "$FM_TMP/a.json" "${A[@]}" >/dev/null
evid "$ZB" "$FM_TMP/b.json" "${B[@]}" >/dev/null
evid "$ZB" "$FM_TMP/ab.json" "${A[@]}" >/dev/null

# ======================= the C verifier reads bundles =======================
check "events verify --file: A's bundle of zone $Z holds, offline (chain, the signed ack, 2 heads)" \
    'out=$(cverify "$FM_TMP/a.json"); echo "# $out"; [[ $out == "ok: evidence of zones/$Z for liaison-a (A): "* ]] &&
     grep -q "1 signed answers verify, 2 cosigned heads hold" <<<"$out"'
check "on a clean directory with no database: the binary and the file alone" \
    'd=$(mktemp -d) && cp "$FM_TMP/a.json" "$d/" && (cd "$d" && env -i PATH=/usr/bin:/bin "$FUSIONMAP" events verify --file a.json) | grep -q "^ok: evidence"; r=$?;
     ls "$d" | grep -qv "^a.json$"; n=$?; rm -rf "$d"; [ $r = 0 ] && [ $n = 1 ]'
[ $HAVE_NACL = 1 ] && check "the C verifier and tests/verify_export.py say the same of the three bundles" \
    '(for f in a b ab; do [ "$(cverify "$FM_TMP/$f.json")" = "$(pyverify "$FM_TMP/$f.json")" ] || exit 1; done)'
check "an export still verifies as an export (not taken for a bundle)" \
    '"$FUSIONMAP" events export --db "$FM_DB" --out "$FM_TMP/export.jsonl" 2>/dev/null &&
     cverify "$FM_TMP/export.jsonl" | grep -q "^ok: .* the chain is intact"'


# ======================= what a bundle holds, and not =======================
# fullc FILE: the ids of the conflicts whose records are in full in the bundle, sorted
fullc() { jq -r '[.records[] | select(.collection == "conflicts") | .item] | unique | sort | join(",")' "$1"; }
CA=$(req GET "/collections/conflicts/items?limit=100" "${A[@]}" >/dev/null; jqb "[.features[] | select(.properties.items | map(.id) | index($Z)) | .id] | sort | join(\",\")")
check "A's bundle of zone $Z holds the records of the conflicts A sees it in ($CA), and no other conflict's" \
    '[ -n "$CA" ] && [ "$(fullc "$FM_TMP/a.json")" = "$CA" ]'
check "B's bundle of zone $ZB holds the conflicts B sees it in ($CZ), not the one with A's draft ($CD)" \
    '[ -n "$CZ" ] && [ "$(fullc "$FM_TMP/b.json")" = "$CZ" ]'
check "A's bundle of the same zone $ZB holds the conflicts with A's own draft too (the rule is the reader's)" \
    '[[ ",$(fullc "$FM_TMP/ab.json")," == *",${CD##*,},"* ]] && [ "$(fullc "$FM_TMP/ab.json")" != "$CZ" ]'
check "B's bundle holds the zone's thread (both sides' messages), not the draft's thread" \
    'grep -q "B words on the camp Tz" "$FM_TMP/b.json" && grep -q "A words on the camp Pw" "$FM_TMP/b.json" &&
     ! grep -q "A words on the draft Hq" "$FM_TMP/b.json" && grep -q "A words on the draft Hq" "$FM_TMP/export.jsonl"'
check "nothing of A's draft in B's bundle: not its title, not a record of it, not its conflicts' records" \
    '! grep -q "A hidden draft Jx" "$FM_TMP/b.json" &&
     [ "$(jq "[.records[] | select(.action and .collection == \"zones\" and .item == $AD)] | length" "$FM_TMP/b.json")" = 0 ] &&
     [ "$(jq "[.records[] | select(.action and (.after // \"\" | test(\"\\\"id\\\":$AD[,}]\")))] | length" "$FM_TMP/b.json")" = 0 ]'
check "every record B's bundle holds in full is one B reads in its own log (GET /events/log)" \
    'req GET "/events/log?since=0&limit=10000" "${B[@]}" >/dev/null &&
     jqb "[.events[].seq] | sort" >"$FM_TMP/bseen" &&
     [ "$(jq -c "[.records[] | select(.action) | .seq] - $(jq -c . "$FM_TMP/bseen") | length" "$FM_TMP/b.json")" = 0 ]'
check "every other record is its seq, digest and hash alone (no time, user, party or size of it)" \
    '[ "$(jq -c "[.records[] | select(.action | not) | keys] | unique" "$FM_TMP/b.json")" = "[[\"digest\",\"hash\",\"seq\"]]" ]'
# A works on its draft (a message on its thread, a new version of it, near ZB): B's bundle of ZB
# gains records as digests only; what it held in full is the same, byte for byte
post_msg "$AD" "A more draft words Ny" "${A[@]}" >/dev/null
req PUT "/collections/zones/items/$AD" "${A[@]}" -H 'Content-Type: application/geo+json' -H 'If-Match: "1"' \
    -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.92,32.92],[35.94,32.92],[35.94,32.94],[35.92,32.94],[35.92,32.92]]]},"properties":{"title":"A hidden draft Jx","type":"restricted","status":"draft"}}' >"$FM_TMP/put.status"
evid "$ZB" "$FM_TMP/b2.json" "${B[@]}" >/dev/null
check "A's draft work after B's bundle: B's next bundle only gains digests (the draft's $(cat "$FM_TMP/put.status") PUT)" \
    '[ "$(cat "$FM_TMP/put.status")" = 200 ] &&
     [ "$(jq .head.seq "$FM_TMP/b2.json")" -gt "$(jq .head.seq "$FM_TMP/b.json")" ] &&
     [ "$(jq -c "[.records[] | select(.action)]" "$FM_TMP/b2.json")" = "$(jq -c "[.records[] | select(.action)]" "$FM_TMP/b.json")" ] &&
     ! grep -q "A more draft words Ny\|A hidden draft Jx" "$FM_TMP/b2.json" &&
     cverify "$FM_TMP/b2.json" | grep -q "^ok: evidence"'
check "the bundle's picture: a PNG of the zone's area, drawn for B, with its digest" \
    'jq -r .picture.png "$FM_TMP/b.json" | base64 -d >"$FM_TMP/b.png" && file "$FM_TMP/b.png" | grep -q "PNG image data, 800 x 600" &&
     [ "$(sha256sum <"$FM_TMP/b.png" | cut -d" " -f1)" = "$(jq -r .picture.sha256 "$FM_TMP/b.json")" ] &&
     [ "$(jq -c ".picture.bbox | map(. * 1000 | round)" "$FM_TMP/b.json")" = "[35900,32900,35940,32940]" ]'
# the picture is /map.png's drawing for its reader: B's is B's map of that area (the same pixels
# below the marking and title bars, which hold the time), and A's, with A's draft on it, is not
mappng() { curl -s -o "$2" "${@:3}" -G --data-urlencode "bbox=$(jq -r ".picture.bbox | join(\",\")" "$1")" \
    --data-urlencode width=800 --data-urlencode height=600 "$FM_URL/map.png"; }
check "B's picture is the map B itself gets of that area (/map.png, as B); A's, with its draft, differs there" \
    'mappng "$FM_TMP/b.json" "$FM_TMP/b-map.png" "${B[@]}" && jq -r .picture.png "$FM_TMP/ab.json" | base64 -d >"$FM_TMP/ab.png" &&
     /usr/bin/python3 - "$FM_TMP/b.png" "$FM_TMP/b-map.png" "$FM_TMP/ab.png" <<'"'"'PY'"'"'
import sys
from PIL import Image, ImageChops
body = lambda p: Image.open(p).convert("RGB").crop((0, 64, 800, 600))
b, bmap, ab = (body(p) for p in sys.argv[1:4])
same = ImageChops.difference(b, bmap).getbbox() is None
differs = ImageChops.difference(b, ab).getbbox() is not None
print("# the same as the map of B:", same, ImageChops.difference(b, bmap).getbbox(), "; the one of A differs:", differs)
sys.exit(0 if same and differs else 1)
PY'
# tamper NAME PYTHON: a copy of A's bundle, changed by the python lines (b: the bundle;
# relink(): the chain re-hashed after the change, as a forger would); into $FM_TMP/t-NAME.json
tamper() {
    /usr/bin/python3 - "$FM_TMP/a.json" "$FM_TMP/t-$1.json" <<PY
import hashlib, json, sys
b = json.load(open(sys.argv[1]))
sha = lambda t: hashlib.sha256(t.encode()).hexdigest()
F = ("seq", "at", "user", "party", "action", "collection", "owner", "item", "version", "before", "after")
def relink():
    prev = "0" * 64
    for r in b["records"]:
        d = sha(json.dumps({k: r[k] for k in F}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)) if "action" in r else r["digest"]
        r["hash"] = prev = sha(prev + d)
    b["head"]["hash"] = prev
full = lambda act: [r for r in b["records"] if r.get("action") == act]
hidden = [r for r in b["records"] if "digest" in r]
$2
json.dump(b, open(sys.argv[2], "w"), separators=(",", ":"))
PY
}
ACK=$(jq "[.records[] | select(.action == \"ack\")][0].seq" "$FM_TMP/a.json")
COS=$(jq "[.records[] | select(.action == \"cosign\")][0].seq" "$FM_TMP/a.json")
HID=$(jq "[.records[] | select(.digest)][5].seq" "$FM_TMP/a.json")
LASTSEQ=$(jq .head.seq "$FM_TMP/a.json")
tamper field 'a = json.loads(full("ack")[0]["after"]); a["comment"] = "never seen"; full("ack")[0]["after"] = json.dumps(a)'
tamper digest 'hidden[5]["digest"] = ("1" if hidden[5]["digest"][0] != "1" else "2") + hidden[5]["digest"][1:]'
tamper sig 'a = json.loads(full("ack")[0]["after"]); v = a["signature"]["value"]; a["signature"]["value"] = ("A" if v[0] != "A" else "B") + v[1:]; full("ack")[0]["after"] = json.dumps(a, sort_keys=True, separators=(",", ":")); relink()'
tamper head 'b["head"]["hash"] = b["records"][-2]["hash"]'
tamper headsig 'a = json.loads(full("cosign")[0]["after"]); a["hash"] = b["records"][0]["hash"]; full("cosign")[0]["after"] = json.dumps(a, sort_keys=True, separators=(",", ":")); relink()'
tamper relinked 'r = full("ack")[0]; r["at"] += 86400; relink()'
tamper cut 'del b["records"][7]'
tamper key 'k = next(iter(b["keys"])); b["keys"][k]["public_key"] = json.loads(full("key_add")[0]["after"])["public_key"]'
tamper user 'r = full("create")[0]; r["user"], r["party"] = "liaison-b", "B"'
tamper item 'b["item"] = '"$ZB"
tamper picture 'import base64; p = bytearray(base64.b64decode(b["picture"]["png"])); p[100] ^= 1; b["picture"]["png"] = base64.b64encode(bytes(p)).decode()'
# refused NAME WANT...: both verifiers exit 1, saying BROKEN and each WANT
refused() {
    local f="$FM_TMP/t-$1.json"
    shift
    local out py
    out=$(cverify "$f") && return 1
    if [ $HAVE_NACL = 1 ]; then
        py=$(pyverify "$f") && return 1
        out="$out"$'\n'"$py"
    fi
    echo "# ${out//$'\n'/ | }"
    [ "$(grep -c BROKEN <<<"$out")" = $((1 + HAVE_NACL)) ] || return 1
    local w
    for w in "$@"; do [ "$(grep -c -- "$w" <<<"$out")" = $((1 + HAVE_NACL)) ] || return 1; done
}
check "a record's field changed (the ack's comment): both refuse, at record $ACK" \
    'refused field "record $ACK" && cverify "$FM_TMP/t-field.json" | grep -q "^BROKEN at record $ACK:"'
check "a hidden record's digest changed: both refuse, at record $HID (the chain breaks there)" \
    'refused digest "record $HID" "chain breaks here"'
check "the ack's signature changed and the chain re-hashed: both refuse, at record $ACK, the signature named" \
    'refused sig "record $ACK" "signature does not verify"'
check "the bundle's head changed: both refuse, naming the head" \
    'refused head "head is not its last record"'
check "a cosigned head's hash changed and the chain re-hashed: both refuse at the head's record ($COS)" \
    'refused headsig "record $COS" "cosigned"'
check "the ack moved a day and the chain re-hashed: the cosigned heads catch it (both)" \
    'refused relinked "BROKEN" "cosigned"'
check "a record cut out: both refuse, naming the order" \
    'refused cut "not the log.s in order"'
check "a given key replaced by another: both refuse (its fingerprint)" \
    'refused key "not its fingerprint"'
check "a record's user and party changed: both refuse" \
    'refused user "BROKEN"'
check "the bundle made to name another item (zone $ZB): both refuse" \
    'refused item "no version of the item"'
check "a byte of the picture changed: both refuse (its digest; the picture is outside the chain)" \
    'refused picture "picture"'
# any byte of the records, the head or the keys: 30 positions at random, each alone
check "a byte changed anywhere from the records to the end: both refuse (30 random bytes, each alone)" \
    '/usr/bin/python3 - "$FM_TMP/a.json" "$FUSIONMAP" "$FM_SOURCE_DIR/tests/verify_export.py" $HAVE_NACL <<'"'"'PY'"'"'
import random, subprocess, sys, tempfile
data = open(sys.argv[1], "rb").read()
lo = data.index(b"\"records\":")
hi = data.index(b"\"picture\":")
survived = []
for pos in random.Random(21).sample(range(lo + 11, hi), 30):
    b = bytearray(data)
    b[pos] = ord("7") if b[pos] != ord("7") else ord("8")
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        f.write(bytes(b)); f.flush()
        cmds = [[sys.argv[2], "events", "verify", "--file", f.name]]
        if sys.argv[4] == "1": cmds.append(["/usr/bin/python3", sys.argv[3], f.name])
        for c in cmds:
            if subprocess.run(c, capture_output=True).returncode == 0:
                survived.append((pos, c[0]))
print("# survived:", survived)
sys.exit(1 if survived else 0)
PY'
finish
