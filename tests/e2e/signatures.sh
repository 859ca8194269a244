#!/usr/bin/env bash
# Signed answers (issue 20): key files, registering and revoking public
# keys (records in the log), the statement an answer signs, the server's
# refusals (unsigned once a key is registered, a wrong key, a changed
# statement, a signature for another version, a revoked key, malformed
# input), who sees whose keys, and `events verify` checking every
# signature offline, from the database and from an export, also with
# Python (tests/verify_export.py: JCS + Ed25519 only).
. "$(dirname "$0")/../lib.sh"
fm_start --demo
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
TS=$(fm_token supervisor)
A=(-H "Authorization: Bearer $TA")
B=(-H "Authorization: Bearer $TB")
S=(-H "Authorization: Bearer $TS")
J=(-H 'Content-Type: application/json')
K1="$FM_TMP/k1.key" K2="$FM_TMP/k2.key" K3="$FM_TMP/k3.key"

# a new proposed zone of A's; prints its id
zone() {
    req POST /collections/zones/items "${A[@]}" -H 'Content-Type: application/geo+json' \
        -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.61,32.61],[35.65,32.61],[35.65,32.65],[35.61,32.65],[35.61,32.61]]]},"properties":{"title":"'"$1"'","type":"restricted","status":"proposed"}}' >/dev/null
    jqb .id
}
# stmt ITEM VERSION DECISION [COMMENT]: B's statement into $FM_TMP/stmt
stmt() {
    curl -s -o "$FM_TMP/stmt" -w '%{http_code}' "${B[@]}" -G \
        --data-urlencode "version=$2" --data-urlencode "decision=$3" \
        ${4:+--data-urlencode "comment=$4"} "$FM_URL/collections/zones/items/$1/statement"
}
# answer ITEM IF_MATCH DECISION COMMENT KEYFP AT SIG: B's answer, status printed
answer() {
    local body
    body=$(jq -cn --arg d "$3" --arg c "$4" --arg k "$5" --argjson at "$6" --arg v "$7" \
        '{decision: $d, comment: $c, signature: {key: $k, at: $at, value: $v}}')
    req POST "/collections/zones/items/$1/ack" "${B[@]}" "${J[@]}" -H "If-Match: \"$2\"" -d "$body"
}
sign() { "$FUSIONMAP" sign --key "$1" <"$FM_TMP/stmt"; }
st_at() { jq -r .at "$FM_TMP/stmt"; }
verify_db() { "$FUSIONMAP" events verify --db "$FM_DB"; }

# ---- key files ----
check "key new makes a key file of mode 0600 and prints its public half" \
    'out=$("$FUSIONMAP" key new --out "$K1") && [ "$(stat -c %a "$K1")" = 600 ] &&
     PUB1=$(jq -r .public_key <<<"$out") && FP1=$(jq -r .fingerprint <<<"$out") &&
     [ ${#PUB1} = 44 ] && [[ $FP1 =~ ^[0-9a-f]{64}$ ]] &&
     grep -qx "format: fusionmap-ed25519-1" "$K1" && grep -qx "public_key: $PUB1" "$K1"'
PUB1=$("$FUSIONMAP" key show --key "$K1" | jq -r .public_key)
FP1=$("$FUSIONMAP" key show --key "$K1" | jq -r .fingerprint)
"$FUSIONMAP" key new --out "$K2" >/dev/null
FP2=$("$FUSIONMAP" key show --key "$K2" | jq -r .fingerprint)
PUB2=$("$FUSIONMAP" key show --key "$K2" | jq -r .public_key)
"$FUSIONMAP" key new --out "$K3" >/dev/null
FP3=$("$FUSIONMAP" key show --key "$K3" | jq -r .fingerprint)
PUB3=$("$FUSIONMAP" key show --key "$K3" | jq -r .public_key)
check "the fingerprint is the SHA-256 of the 32 raw bytes of the public key" \
    '[ "$(base64 -d <<<"$PUB1" | sha256sum | cut -d" " -f1)" = "$FP1" ]'
check "key new never overwrites a file" \
    '! "$FUSIONMAP" key new --out "$K1" 2>/dev/null && [ "$("$FUSIONMAP" key show --key "$K1" | jq -r .fingerprint)" = "$FP1" ]'
cp "$K1" "$FM_TMP/open.key" && chmod 644 "$FM_TMP/open.key"
check "a key file others may read is refused (chmod 600)" \
    'echo x | "$FUSIONMAP" sign --key "$FM_TMP/open.key" 2>&1 >/dev/null | grep -q "chmod 600"'
sed "s|^public_key: .*|public_key: $PUB2|" "$K1" >"$FM_TMP/edited.key"; chmod 600 "$FM_TMP/edited.key"
check "a key file whose public key is not its seed's is refused" \
    'grep -qx "public_key: $PUB2" "$FM_TMP/edited.key" &&
     echo x | "$FUSIONMAP" sign --key "$FM_TMP/edited.key" 2>&1 >/dev/null | grep -q "not the one its seed makes"'
check "sign prints a 64-byte signature in base64 that verifies over stdin's bytes" \
    'printf "hello" >"$FM_TMP/stmt" && sig=$(sign "$K1") && [ "$(base64 -d <<<"$sig" | wc -c)" = 64 ] &&
     /usr/bin/python3 -c "import sys,base64,nacl.signing as s; s.VerifyKey(base64.b64decode(sys.argv[1])).verify(b\"hello\", base64.b64decode(sys.argv[2]))" "$PUB1" "$sig" 2>/dev/null ||
     { [ $? = 1 ] && ! /usr/bin/python3 -c "import nacl" 2>/dev/null; }'

# ---- the transition rule: no key yet, unsigned answers are taken ----
Z0=$(zone "unsigned before any key")
check "B, with no key registered, may still answer unsigned (the transition rule)" \
    '[ "$(req POST /collections/zones/items/$Z0/ack "${B[@]}" "${J[@]}" -H "If-Match: \"1\"" -d "{\"decision\":\"ack\"}")" = 200 ]'

# ---- registering keys ----
check "POST /keys with text that is not base64 is 400 at /public_key" \
    '[ "$(req POST /keys "${B[@]}" "${J[@]}" -d "{\"public_key\":\"not base64!\"}")" = 400 ] && is_problem 400 && [ "$(jqb .pointer)" = /public_key ]'
check "POST /keys with 31 bytes is 400" \
    '[ "$(req POST /keys "${B[@]}" "${J[@]}" -d "{\"public_key\":\"$(head -c 31 /dev/zero | base64)\"}")" = 400 ] && is_problem 400'
check "POST /keys with 33 bytes is 400" \
    '[ "$(req POST /keys "${B[@]}" "${J[@]}" -d "{\"public_key\":\"$(head -c 33 /dev/zero | base64)\"}")" = 400 ]'
# URL-safe base64 of a key, with a "-" for certain (PUB1 itself holds no
# "+" or "/" one time in four, and would then be registered here)
URLSAFE=$(head -c 32 /dev/urandom | base64 | tr "+/" "-_")
check "POST /keys with unpadded or URL-safe base64 is 400" \
    '[ "$(req POST /keys "${B[@]}" "${J[@]}" -d "{\"public_key\":\"${PUB1%=}\"}")" = 400 ] &&
     [ "$(req POST /keys "${B[@]}" "${J[@]}" -d "{\"public_key\":\"-${URLSAFE:1}\"}")" = 400 ]'
check "POST /keys with a point of small order (all zeros) is 400" \
    '[ "$(req POST /keys "${B[@]}" "${J[@]}" -d "{\"public_key\":\"$(head -c 32 /dev/zero | base64)\"}")" = 400 ]'
check "POST /keys without public_key, or with a number, is 400; bytes that are not JSON are 400" \
    '[ "$(req POST /keys "${B[@]}" "${J[@]}" -d "{}")" = 400 ] && [ "$(req POST /keys "${B[@]}" "${J[@]}" -d "{\"public_key\":5}")" = 400 ] &&
     [ "$(req POST /keys "${B[@]}" "${J[@]}" --data-binary $'"'"'\xff\xfe{'"'"')" = 400 ] && is_problem 400'
check "POST /keys without a login is 401" \
    '[ "$(req POST /keys "${J[@]}" -d "{\"public_key\":\"$PUB1\"}")" = 401 ]'
check "nothing was registered by the refused requests" \
    '[ "$(req GET /keys "${B[@]}")" = 200 ] && [ "$(jqb ".keys | length")" = 0 ]'
check "B registers key 1: 201 with its fingerprint, time and where from" \
    '[ "$(req POST /keys "${B[@]}" "${J[@]}" -H "User-Agent: sigtest/1" -d "{\"public_key\":\"$PUB1\"}")" = 201 ] &&
     [ "$(jqb .fingerprint)" = "$FP1" ] && jqb .from | grep -q "^127.0.0.1, sigtest/1" && [ -n "$(jqb .created)" ]'
check "the same key again is 409, for B and for A" \
    '[ "$(req POST /keys "${B[@]}" "${J[@]}" -d "{\"public_key\":\"$PUB1\"}")" = 409 ] && is_problem 409 &&
     [ "$(req POST /keys "${A[@]}" "${J[@]}" -d "{\"public_key\":\"$PUB1\"}")" = 409 ]'
check "A registers key 3 for A (a key is always its caller's own)" \
    '[ "$(req POST /keys "${A[@]}" "${J[@]}" -d "{\"public_key\":\"$PUB3\",\"user\":\"liaison-b\"}")" = 201 ]'
check "GET /keys: B sees key 1 only, A sees key 3 only, the supervisor none of theirs" \
    'req GET /keys "${B[@]}" >/dev/null && [ "$(jqb "[.keys[].fingerprint] | join(\",\")")" = "$FP1" ] &&
     req GET /keys "${A[@]}" >/dev/null && [ "$(jqb "[.keys[].fingerprint] | join(\",\")")" = "$FP3" ] &&
     req GET /keys "${S[@]}" >/dev/null && [ "$(jqb ".keys | length")" = 0 ]'
check "A cannot revoke B's key (404, as for no key), and it stays current" \
    '[ "$(req DELETE /keys/$FP1 "${A[@]}")" = 404 ] && [ "$(req POST /keys/$FP1/revoke "${A[@]}")" = 404 ] &&
     req GET /keys "${B[@]}" >/dev/null && [ "$(jqb ".keys[0].revoked")" = null ]'
check "a fingerprint that is not 64 hex digits is 400" \
    '[ "$(req DELETE /keys/xyz "${B[@]}")" = 400 ] && is_problem 400'
check "B's key records are B's party's: A's log and the supervisor's do not show them" \
    'req GET "/events/log?limit=10000" "${A[@]}" >/dev/null && ! grep -q "$FP1" "$FM_TMP/body" &&
     req GET "/events/log?limit=10000" "${S[@]}" >/dev/null && ! grep -q "$FP1" "$FM_TMP/body" &&
     req GET "/events/log?limit=10000" "${B[@]}" >/dev/null && grep -q "$FP1" "$FM_TMP/body"'

# ---- signed answers ----
Z=$(zone "signed")
check "B, now with a key, may not answer unsigned (409, naming why)" \
    '[ "$(req POST /collections/zones/items/$Z/ack "${B[@]}" "${J[@]}" -H "If-Match: \"1\"" -d "{\"decision\":\"ack\"}")" = 409 ] &&
     is_problem 409 && jqb .detail | grep -q "must be signed"'
check "the statement is RFC 8785 JSON of the answer's fields, the version's digest included" \
    '[ "$(stmt $Z 1 ack "seen, ok")" = 200 ] &&
     [ "$(cat "$FM_TMP/stmt")" = "$(jq -cS . "$FM_TMP/stmt")" ] &&
     [ "$(jq -r "[.collection,.item,.version,.decision,.user,.party,.purpose] | join(\" \")" "$FM_TMP/stmt")" = "zones $Z 1 ack liaison-b B fusionmap answer" ] &&
     [ "$(jq -r .comment_sha256 "$FM_TMP/stmt")" = "$(printf "seen, ok" | sha256sum | cut -d" " -f1)" ] &&
     [ "$(jq -r .version_sha256 "$FM_TMP/stmt")" = "$(sqlite3 "$FM_DB" "SELECT feature FROM item_versions WHERE item_id = $Z AND version = 1" | tr -d "\n" | sha256sum | cut -d" " -f1)" ]'
check "the statement of a version that is not current is 412; of an unknown decision 400; of A's own item for A 403" \
    '[ "$(stmt $Z 2 ack)" = 412 ] && [ "$(stmt $Z 1 maybe)" = 400 ] &&
     [ "$(req GET "/collections/zones/items/$Z/statement?version=1&decision=ack" "${A[@]}")" = 403 ]'
stmt $Z 1 ack "seen, ok" >/dev/null
AT=$(st_at)
SIG2=$(sign "$K2")
check "a wrong key: signed with key 2 but naming key 1 is 400 (does not verify)" \
    '[ "$(answer $Z 1 ack "seen, ok" "$FP1" "$AT" "$SIG2")" = 400 ] && is_problem 400 && jqb .detail | grep -q "does not verify"'
check "a key that is not B's (A's key 3, or key 2 never registered) is 403" \
    '[ "$(answer $Z 1 ack "seen, ok" "$FP3" "$AT" "$(sign "$K3")")" = 403 ] && is_problem 403 &&
     [ "$(answer $Z 1 ack "seen, ok" "$FP2" "$AT" "$SIG2")" = 403 ]'
SIG1=$(sign "$K1")
check "a changed statement: another comment than the one signed is 400" \
    '[ "$(answer $Z 1 ack "seen, NOT ok" "$FP1" "$AT" "$SIG1")" = 400 ] && jqb .detail | grep -q "does not verify"'
check "a changed statement: another decision than the one signed is 400" \
    '[ "$(answer $Z 1 dispute "seen, ok" "$FP1" "$AT" "$SIG1")" = 400 ]'
check "a changed statement: another time than the one signed is 400" \
    '[ "$(answer $Z 1 ack "seen, ok" "$FP1" "$((AT - 1))" "$SIG1")" = 400 ]'
check "a statement more than 15 minutes old is 400 at /signature/at" \
    'cp "$FM_TMP/stmt" "$FM_TMP/stmt.keep"; jq -cS ".at -= 1000" "$FM_TMP/stmt.keep" >"$FM_TMP/stmt"; printf %s "$(cat "$FM_TMP/stmt")" >"$FM_TMP/stmt";
     [ "$(answer $Z 1 ack "seen, ok" "$FP1" "$((AT - 1000))" "$(sign "$K1")")" = 400 ] && [ "$(jqb .pointer)" = /signature/at ];
     r=$?; cp "$FM_TMP/stmt.keep" "$FM_TMP/stmt"; [ $r = 0 ]'
check "malformed signatures are 400: bad base64, 63 bytes, not an object, a missing member, a bad fingerprint" \
    '[ "$(answer $Z 1 ack "seen, ok" "$FP1" "$AT" "%%%")" = 400 ] && [ "$(jqb .pointer)" = /signature/value ] &&
     [ "$(answer $Z 1 ack "seen, ok" "$FP1" "$AT" "$(head -c 63 /dev/zero | base64 -w0)")" = 400 ] &&
     [ "$(req POST /collections/zones/items/$Z/ack "${B[@]}" "${J[@]}" -H "If-Match: \"1\"" -d "{\"decision\":\"ack\",\"signature\":\"$SIG1\"}")" = 400 ] &&
     [ "$(req POST /collections/zones/items/$Z/ack "${B[@]}" "${J[@]}" -H "If-Match: \"1\"" -d "{\"decision\":\"ack\",\"signature\":{\"key\":\"$FP1\",\"value\":\"$SIG1\"}}")" = 400 ] &&
     [ "$(answer $Z 1 ack "seen, ok" "${FP1^^}" "$AT" "$SIG1")" = 400 ] && is_problem 400'
check "none of the refused answers was taken" \
    '[ "$(req GET /collections/zones/items/$Z/acks "${B[@]}")" = 200 ] && [ "$(jqb ".acks | length")" = 0 ]'
check "the right signature is taken: 200, the zone becomes active" \
    '[ "$(answer $Z 1 ack "seen, ok" "$FP1" "$AT" "$SIG1")" = 200 ] && [ "$(jqb .properties.status)" = active ]'
check "its record holds the signature and the key's fingerprint" \
    '[ "$(sqlite3 "$FM_DB" "SELECT json_extract(after, '"'"'$.signature.key'"'"') || '"'"' '"'"' || json_extract(after, '"'"'$.signature.value'"'"') FROM events WHERE action = '"'"'ack'"'"' AND item_id = $Z")" = "$FP1 $SIG1" ]'

# a signature for another version: B signs version 1 of Z2, A changes it to
# version 2, and B sends the old signature for version 2
Z2=$(zone "replayed")
stmt $Z2 1 dispute "too close to the road" >/dev/null
AT2=$(st_at)
SIGV1=$(sign "$K1")
req PATCH "/collections/zones/items/$Z2" "${A[@]}" -H 'Content-Type: application/merge-patch+json' -H 'If-Match: "1"' \
    -d '{"properties":{"title":"replayed, moved"}}' >/dev/null
check "a signature for version 1 sent for version 2 is 400 (does not verify)" \
    '[ "$(answer $Z2 2 dispute "too close to the road" "$FP1" "$AT2" "$SIGV1")" = 400 ] && jqb .detail | grep -q "does not verify"'
check "a signature for Z2 version 1 sent for another item is 400" \
    'Z3=$(zone "other item"); [ "$(answer $Z3 1 dispute "too close to the road" "$FP1" "$AT2" "$SIGV1")" = 400 ]'
check "the signed dispute of version 2 is taken" \
    'stmt $Z2 2 dispute "too close to the road" >/dev/null && [ "$(answer $Z2 2 dispute "too close to the road" "$FP1" "$(st_at)" "$(sign "$K1")")" = 200 ] &&
     [ "$(jqb .properties.status)" = disputed ]'

# ---- revocation ----
Z4=$(zone "after revocation")
stmt $Z4 1 ack >/dev/null
AT4=$(st_at)
SIG4=$(sign "$K1")
check "B revokes key 1 (204); GET /keys shows when" \
    '[ "$(req DELETE /keys/$FP1 "${B[@]}")" = 204 ] && req GET /keys "${B[@]}" >/dev/null && [ "$(jqb ".keys[0].revoked | length")" -gt 0 ]'
check "revoking it again is 409" '[ "$(req POST /keys/$FP1/revoke "${B[@]}")" = 409 ] && is_problem 409'
check "a signature by the revoked key is 403, naming the revocation" \
    '[ "$(answer $Z4 1 ack "" "$FP1" "$AT4" "$SIG4")" = 403 ] && jqb .detail | grep -q "revoked"'
check "with its only key revoked B still may not answer unsigned (409)" \
    '[ "$(req POST /collections/zones/items/$Z4/ack "${B[@]}" "${J[@]}" -H "If-Match: \"1\"" -d "{\"decision\":\"ack\"}")" = 409 ]'
check "a revoked key cannot be registered again (409)" \
    '[ "$(req POST /keys "${B[@]}" "${J[@]}" -d "{\"public_key\":\"$PUB1\"}")" = 409 ]'
check "B registers key 2 and answers with it" \
    '[ "$(req POST /keys "${B[@]}" "${J[@]}" -d "{\"public_key\":\"$PUB2\"}")" = 201 ] &&
     stmt $Z4 1 ack >/dev/null && [ "$(answer $Z4 1 ack "" "$FP2" "$(st_at)" "$(sign "$K2")")" = 200 ]'

# ---- verify, offline ----
check "events verify: the log, the keys table and every signature check out" \
    'out=$(verify_db); echo "# $out"; [[ $out == "ok: "* ]]'
check "the API's verify agrees" \
    '[ "$(req GET /events/verify "${S[@]}")" = 200 ] && [ "$(jqb .ok)" = true ]'
"$FUSIONMAP" events export --db "$FM_DB" --out "$FM_TMP/export.jsonl" 2>/dev/null
check "events verify --file: the export's chain and its 3 signed answers verify" \
    'out=$("$FUSIONMAP" events verify --file "$FM_TMP/export.jsonl"); echo "# ${out//$'"'"'\n'"'"'/ / }"; grep -qx "ok: 3 signed answers verify" <<<"$out"'
if /usr/bin/python3 -c 'import nacl' 2>/dev/null; then
    check "tests/verify_export.py (Python, JCS + Ed25519 only) verifies the export's 3 signed answers" \
        'out=$(/usr/bin/python3 "$FM_SOURCE_DIR/tests/verify_export.py" "$FM_TMP/export.jsonl"); echo "# $out"; grep -q "^ok: .* 3 signed answers" <<<"$out"'
else
    echo "SKIP - python3-nacl is not installed: tests/verify_export.py not run"
fi

# A forger holding the file rewrites the comment of the signed dispute and
# re-hashes the chain from there: the chain alone calls it intact, the
# signature does not.
/usr/bin/python3 - "$FM_TMP/export.jsonl" "$FM_TMP/forged.jsonl" <<'PY'
import hashlib, json, sys
src, dst = sys.argv[1], sys.argv[2]
lines = [json.loads(l) for l in open(src)]
def h(prev, r):
    rec = {k: r[k] for k in ("seq", "at", "user", "party", "action", "collection", "owner", "item", "version", "before", "after")}
    return hashlib.sha256((prev + json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)).encode()).hexdigest()
prev = "0" * 64
out = []
for r in lines:
    if "seq" not in r:
        r["head"] = prev
        out.append(r)
        continue
    if r["action"] == "dispute" and "signature" in r["after"]:
        a = json.loads(r["after"])
        a["comment"] = "no objection"
        r["after"] = json.dumps(a, separators=(",", ":"))
    r["prev_hash"], r["hash"] = prev, h(prev, r)
    prev = r["hash"]
    out.append(r)
with open(dst, "w") as f:
    for r in out:
        f.write(json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n")
PY
SEQD=$(jq -r 'select(.action == "dispute") | .seq' "$FM_TMP/export.jsonl" | tail -n1)
check "a signed answer rewritten and re-hashed in an export is caught at its record ($SEQD)" \
    'out=$("$FUSIONMAP" events verify --file "$FM_TMP/forged.jsonl"); echo "# $out"; [[ $out == "BROKEN at record $SEQD "* ]] && grep -q "signature" <<<"$out"'
if /usr/bin/python3 -c 'import nacl' 2>/dev/null; then
    check "and by tests/verify_export.py" \
        '! /usr/bin/python3 "$FM_SOURCE_DIR/tests/verify_export.py" "$FM_TMP/forged.jsonl" >/dev/null 2>&1'
fi

# the same forgery in the database, the acks row changed along
sqlite3 "$FM_DB" ".backup '$FM_TMP/forged.db'"
sqlite3 "$FM_TMP/forged.db" "UPDATE acks SET comment = 'no objection' WHERE decision = 'dispute'"
/usr/bin/python3 - "$FM_TMP/forged.db" <<'PY'
import hashlib, json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("DROP TRIGGER IF EXISTS events_no_update")
rows = c.execute("SELECT seq, at, user, party, action, collection, owner, item_id, version, before, after FROM events ORDER BY seq").fetchall()
def h(prev, r):
    rec = dict(seq=r[0], at=r[1], user=r[2], party=r[3], action=r[4], collection=r[5], owner=r[6], item=r[7], version=r[8], before=r[9], after=r[10])
    return hashlib.sha256((prev + json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)).encode()).hexdigest()
prev = "0" * 64
for r in rows:
    r = list(r)
    if r[4] == "dispute" and r[10] and "signature" in r[10]:
        a = json.loads(r[10]); a["comment"] = "no objection"; r[10] = json.dumps(a, separators=(",", ":"))
    hh = h(prev, r)
    c.execute("UPDATE events SET after = ?, prev_hash = ?, hash = ? WHERE seq = ?", (r[10], prev, hh, r[0]))
    prev = hh
c.commit()
PY
check "the same in the database (acks row and record, re-hashed) is caught at its record ($SEQD)" \
    'out=$("$FUSIONMAP" events verify --db "$FM_TMP/forged.db"); echo "# $out"; [[ $out == "BROKEN at record $SEQD "* ]] && grep -q "signature" <<<"$out"'
sqlite3 "$FM_DB" ".backup '$FM_TMP/keyrow.db'"
sqlite3 "$FM_TMP/keyrow.db" "UPDATE user_keys SET revoked_at = NULL WHERE fingerprint = '$FP1'"
check "a key's revocation undone in the table alone is named by verify (user_keys row)" \
    'out=$("$FUSIONMAP" events verify --db "$FM_TMP/keyrow.db"); echo "# $out"; [[ $out == BROKEN* ]] && grep -q "user_keys row" <<<"$out"'
finish
