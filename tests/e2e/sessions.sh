#!/usr/bin/env bash
# Session security: cookie attributes, a new id at every login, idle and
# absolute timeouts, cross-site requests refused, login throttling (a
# glance; tests/e2e/login.sh has the policy), HTTPS, loopback by default, no password in logs.
. "$(dirname "$0")/../lib.sh"
export FM_STREAM_HEARTBEAT_MS=500 # streams check their session twice a second
fm_start --demo --session-idle 4 --session-max 7 --login-failures 3
check "the server binds to loopback unless told otherwise" '[[ $FM_URL == http://127.0.0.1:* ]]'
login() { curl -s -c "$1" -b "$1" -D "$FM_TMP/login.h" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
              -d "{\"user\":\"$2\",\"password\":\"$3\"}" "$FM_URL/login"; }
sid() { awk '$6 == "fm_session" {print $7}' "$1"; }
me() { curl -s -o /dev/null -w '%{http_code}' -b "$1" "$FM_URL/me"; }

check "login sets fm_session HttpOnly, SameSite=Strict, Path=/ with a Max-Age" \
    '[ "$(login "$FM_TMP/a.jar" liaison-a liaison-a)" = 200 ] &&
     grep -i "^set-cookie: fm_session=" "$FM_TMP/login.h" | grep -i "httponly" | grep -i "samesite=strict" | grep -i "path=/" | grep -qi "max-age="'
check "the session id is 256 random bits (64 hex digits)" '[[ $(sid "$FM_TMP/a.jar") =~ ^[0-9a-f]{64}$ ]]'
OLD=$(sid "$FM_TMP/a.jar")
cp "$FM_TMP/a.jar" "$FM_TMP/old.jar"
check "a second login gives a new id and ends the old session" \
    '[ "$(login "$FM_TMP/a.jar" liaison-a liaison-a)" = 200 ] && [ "$(sid "$FM_TMP/a.jar")" != "$OLD" ] &&
     [ "$(me "$FM_TMP/a.jar")" = 200 ] && [ "$(me "$FM_TMP/old.jar")" = 401 ]'
check "a form login from another site is refused" \
    '[ "$(curl -s -o /dev/null -w "%{http_code}" -H "Origin: http://evil.example" --data "user=liaison-a&password=liaison-a" "$FM_URL/login")" = 403 ]'
check "a form login from this server works (303 to the viewer)" \
    '[ "$(curl -s -o /dev/null -w "%{http_code}" -H "Origin: $FM_URL" --data "user=liaison-b&password=liaison-b" "$FM_URL/login")" = 303 ]'
check "a cross-site state change with the cookie is refused" \
    '[ "$(curl -s -o /dev/null -w "%{http_code}" -b "$FM_TMP/a.jar" -H "Origin: http://evil.example" -H "X-Requested-With: fusionmap" -X POST "$FM_URL/me/tokens")" = 403 ] &&
     [ "$(curl -s -o /dev/null -w "%{http_code}" -b "$FM_TMP/a.jar" -X POST "$FM_URL/me/tokens")" = 403 ]'

# idle: unused for longer than 4 s
login "$FM_TMP/idle.jar" viewer viewer >/dev/null
sleep 5
check "a session unused for longer than the idle timeout is over" '[ "$(me "$FM_TMP/idle.jar")" = 401 ]'
# an open event stream is not "use": an unattended tab still idles out
login "$FM_TMP/tab.jar" liaison-b liaison-b >/dev/null
curl -s -N -b "$FM_TMP/tab.jar" "$FM_URL/events" >"$FM_TMP/tab.events" &
TAB=$!
sleep 5.5
check "a tab left open on the live stream still idles out, and its stream ends" \
    '[ "$(me "$FM_TMP/tab.jar")" = 401 ] && sleep 1 && ! kill -0 $TAB 2>/dev/null'
kill $TAB 2>/dev/null
wait $TAB 2>/dev/null

# absolute: used every second, still over 7 s after login (measured, not counted)
login "$FM_TMP/abs.jar" supervisor supervisor >/dev/null
start=$(date +%s.%N)
last_ok=0
while :; do
    sleep 1
    now=$(date +%s.%N)
    if [ "$(me "$FM_TMP/abs.jar")" = 200 ]; then last_ok=$(echo "$now - $start" | bc); else break; fi
    [ "$(echo "$now - $start > 12" | bc)" = 1 ] && break
done
ended=$(echo "$(date +%s.%N) - $start" | bc)
check "a session in constant use still ends at the absolute timeout (last use at ${last_ok}s, refused at ${ended}s)" \
    '[ "$(echo "$last_ok >= 3 && $ended <= 10" | bc)" = 1 ]'

# throttling (the whole policy is tests/e2e/login.sh): 3 failures of one
# account from one address, and its next attempt must wait
for i in 1 2 3; do login "$FM_TMP/x.jar" liaison-b wrong >/dev/null; done
check "after 3 failures the right password must wait too (429 with Retry-After)" \
    '[ "$(login "$FM_TMP/x.jar" liaison-b liaison-b)" = 429 ] && grep -qi "^retry-after: [0-9]" "$FM_TMP/login.h"'
check "another account from the same address is not held up by it" '[ "$(login "$FM_TMP/y.jar" liaison-a liaison-a)" = 200 ]'
for i in $(seq 1 30); do login "$FM_TMP/x.jar" "nobody$i" wrong >/dev/null; done
check "after 30 failures from one address, an account that never logged in from it must wait (429)" \
    '[ "$(login "$FM_TMP/z.jar" admin admin)" = 429 ]'
check "one that has logged in from it gets in (200)" '[ "$(login "$FM_TMP/z.jar" supervisor supervisor)" = 200 ]'
check "bearer tokens are not throttled by it" \
    'tok=$(fm_token viewer); [ "$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $tok" "$FM_URL/me")" = 200 ]'
check "no password appears in the server's log" \
    '! grep -q -e "liaison-b\"" -e "password" "$FM_TMP/serve.err" && ! grep -q "wrong" "$FM_TMP/serve.err"'
fm_stop

# HTTPS with a certificate of our own
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$FM_TMP/key.pem" -out "$FM_TMP/cert.pem" 2>/dev/null
fm_start --tls-cert "$FM_TMP/cert.pem" --tls-key "$FM_TMP/key.pem"
check "with --tls-cert and --tls-key the server speaks HTTPS" '[[ $FM_URL == https://127.0.0.1:* ]]'
check "a login over HTTPS sets Secure cookies (session and device)" \
    'curl -s --cacert "$FM_TMP/cert.pem" -D "$FM_TMP/tls.h" -o /dev/null -H "Content-Type: application/json" -d "{\"user\":\"viewer\",\"password\":\"viewer\"}" "$FM_URL/login" &&
     grep -i "^set-cookie: fm_session=" "$FM_TMP/tls.h" | grep -qi "; secure" &&
     grep -i "^set-cookie: fm_device=" "$FM_TMP/tls.h" | grep -qi "; secure"'
check "plain HTTP on the HTTPS port gets no answer" '! curl -s -m 5 "${FM_URL/https/http}/conformance" | grep -q conformsTo'
check "an unreadable certificate is refused at start with a clear message" \
    '! "$FUSIONMAP" serve --db "$FM_DB" --port 0 --tls-cert /nonexistent --tls-key "$FM_TMP/key.pem" 2>"$FM_TMP/tls.err" && grep -q "tls-cert" "$FM_TMP/tls.err"'
finish
