#!/usr/bin/env bash
# Login throttling that the other side cannot weaponise (README "Sessions and
# transport"): wrong passwords from one address slow guessing down but never
# keep a liaison out of an address that has logged in before; guessing is
# bounded per account over all unknown addresses; delays end, nothing locks.
# Different loopback source addresses (127.0.0.x) stand for different
# machines. One second of the policy lasts UNIT ms here.
. "$(dirname "$0")/../lib.sh"
N=5    # --login-failures: free failures of one (account, address) pair
MAX=120 # --login-delay-max: an account's unknown addresses wait at most this
fm_start --demo

# login FROM USER PASSWORD: prints the status; headers in $FM_TMP/h, body in $FM_TMP/b
login() {
    curl -s --interface "$1" -D "$FM_TMP/h" -o "$FM_TMP/b" -w '%{http_code}' \
        -H 'Content-Type: application/json' -d "{\"user\":\"$2\",\"password\":\"$3\"}" "$FM_URL/login"
}

# The policy's second, from what one password check costs here: a check
# takes 60 ms in the normal build and up to 1.5 s under ASan on a loaded
# machine, and the guessing bound below needs a dozen checks to fit in its
# window (300 policy seconds). So a policy second is a tenth of a check,
# and at least 20 ms.
t0=$(date +%s%3N)
for i in 1 2 3; do login 127.0.0.250 nobody wrong >/dev/null; done
check_ms=$((($(date +%s%3N) - t0) / 3))
UNIT=$((check_ms / 10 > 20 ? check_ms / 10 : 20))
echo "one password check: $check_ms ms; a policy second: $UNIT ms"
fm_stop
fm_start --login-delay-unit-ms "$UNIT"

# the wait the last 429 told, in ms (its detail says "try again in 1.280 s")
told_ms() {
    local s
    s=$(grep -o 'try again in [0-9]*\.[0-9][0-9][0-9] s' "$FM_TMP/b" | grep -o '[0-9]*\.[0-9]*')
    if [ -n "$s" ]; then echo $((10#${s%.*} * 1000 + 10#${s#*.})); else echo -1; fi
}
nap_ms() { sleep "$(echo "scale=3; ($1 + 5) / 1000" | bc)"; }

# (a) the lock-out attempt: liaison-a has logged in from .3; the other side
# hammers liaison-a with wrong passwords from .2 and from twenty other addresses
check "liaison-a logs in from 127.0.0.3 (which becomes a known address)" '[ "$(login 127.0.0.3 liaison-a liaison-a)" = 200 ]'
for i in $(seq 1 30); do login 127.0.0.2 liaison-a wrong >/dev/null; done
# then from twenty other addresses until the account-wide wait is long
# enough (50 policy seconds, 1 s here) to look at
told=0
for i in $(seq 1 400); do
    a=$((100 + i % 20))
    [ "$(login 127.0.0.$a liaison-a wrong)" = 429 ] && told=$(told_ms) && [ "$told" -ge $((50 * UNIT)) ] && break
done
check "the right password from 127.0.0.2 is refused now (429 with Retry-After): guessing is slowed" \
    '[ "$(login 127.0.0.2 liaison-a liaison-a)" = 429 ] && grep -qi "^retry-after: [0-9]" "$FM_TMP/h"'
check "so is the right password from an address that never logged in (the account-wide wait, ${told} ms)" \
    '[ "$(login 127.0.0.4 liaison-a liaison-a)" = 429 ]'
check "liaison-a from 127.0.0.3, at once: 200 (wrong passwords elsewhere do not lock a known address out)" \
    '[ "$(login 127.0.0.3 liaison-a liaison-a)" = 200 ]'

# the shared NAT: the other side guesses liaison-a from 127.0.0.3 itself;
# liaison-a there waits, but never more than MAX/4 policy seconds
maxtold=0
for i in $(seq 1 80); do
    [ "$(login 127.0.0.3 liaison-a wrong)" = 429 ] && w=$(told_ms) && [ "$w" -gt "$maxtold" ] && maxtold=$w
done
check "guessed at from its own known address, liaison-a is made to wait, at most $((MAX / 4)) policy seconds (longest ${maxtold} ms)" \
    '[ "$maxtold" -ge $((8 * UNIT)) ] && [ "$maxtold" -le $((MAX / 4 * UNIT)) ]'
code=$(login 127.0.0.3 liaison-a liaison-a)
wait_ms=0
[ "$code" = 429 ] && wait_ms=$(told_ms)
nap_ms "$wait_ms"
check "and gets in once that wait has passed (200; first answer $code, told $wait_ms ms)" \
    '[ "$(login 127.0.0.3 liaison-a liaison-a)" = 200 ]'

# the shared NAT again, with a browser: its device cookie (set at login,
# sent back only to /login) marks it as one that has logged in to the
# account, so the other side guessing from the very same address, and
# taking every turn the address gets, does not hold it up at all
login_jar() {
    curl -s --interface "$1" -b "$4" -c "$4" -D "$FM_TMP/h" -o "$FM_TMP/b" -w '%{http_code}' \
        -H 'Content-Type: application/json' -d "{\"user\":\"$2\",\"password\":\"$3\"}" "$FM_URL/login"
}
check "liaison-a's browser logs in from 127.0.0.5 and gets a device cookie (HttpOnly, SameSite=Strict, Path=/login; after the session cookie)" \
    '[ "$(login_jar 127.0.0.5 liaison-a liaison-a "$FM_TMP/a.jar")" = 200 ] &&
     grep -i "^set-cookie: fm_device=[0-9a-f]\{64\};" "$FM_TMP/h" | grep -i httponly | grep -i samesite=strict | grep -qi "path=/login;" &&
     grep -i "^set-cookie:" "$FM_TMP/h" | head -n1 | grep -qi "fm_session="'
for i in $(seq 1 100); do
    [ "$(login 127.0.0.5 liaison-a wrong)" = 429 ] && [ "$(told_ms)" -ge $((10 * UNIT)) ] && break
done
check "after the other side's guesses from 127.0.0.5, liaison-a from there without the browser's cookie must wait (429)" \
    '[ "$(login 127.0.0.5 liaison-a liaison-a)" = 429 ]'
check "and with it gets in at once (200)" '[ "$(login_jar 127.0.0.5 liaison-a liaison-a "$FM_TMP/a.jar")" = 200 ]'
(
    end=$(($(date +%s%3N) + 3000))
    while [ "$(date +%s%3N)" -lt "$end" ]; do
        curl -s --interface 127.0.0.5 -o /dev/null -H 'Content-Type: application/json' \
            -d '{"user":"liaison-a","password":"wrong"}' "$FM_URL/login"
    done
) &
GUESSER=$!
in=0
for i in 1 2 3; do
    sleep 0.4
    [ "$(login_jar 127.0.0.5 liaison-a liaison-a "$FM_TMP/a.jar")" = 200 ] && in=$((in + 1))
done
kill $GUESSER 2>/dev/null
wait $GUESSER 2>/dev/null
check "while the other side keeps guessing liaison-a from the same address, liaison-a's browser gets in every time (${in} of 3)" \
    '[ "$in" = 3 ]'

# (b) the guessing bound: from twenty unknown addresses, as fast as curl
# goes, for T policy seconds, against supervisor (who never logged in). The
# account's unknown addresses together have 2N free failures, then waits of
# 1, 2, 4, ..., 64 (7 checks, 127 s in all), then one check per MAX s.
T=300
bound=$((2 * N + 7 + (T - 127) / MAX + 1))
checks=0
refused=0
maxwait=0
end=$(($(date +%s%3N) + T * UNIT))
a=150
while [ "$(date +%s%3N)" -lt "$end" ]; do
    code=$(login 127.0.0.$a supervisor wrong)
    case $code in
    401) checks=$((checks + 1)) ;;
    429) refused=$((refused + 1)); w=$(told_ms); [ "$w" -gt "$maxwait" ] && maxwait=$w ;;
    *) echo "unexpected $code"; cat "$FM_TMP/b" ;;
    esac
    a=$((a == 169 ? 150 : a + 1))
done
check "from 20 addresses in $T policy seconds: $checks password checks (bound $bound), $refused refused" \
    '[ "$checks" -le "$bound" ] && [ "$checks" -gt $((2 * N)) ] && [ "$refused" -gt 0 ]'
check "no wait told to them is longer than the account-wide cap of $MAX policy seconds (longest ${maxwait} ms)" \
    '[ "$maxwait" -gt 0 ] && [ "$maxwait" -le $((MAX * UNIT)) ]'

# (c) no permanent lock: once the wait has passed (at most the cap), the
# right password from an address that never logged in gets in, and that
# address is known from then on
nap_ms $((MAX * UNIT))
check "after the wait, supervisor from an address that never logged in: 200" \
    '[ "$(login 127.0.0.200 supervisor supervisor)" = 200 ]'
for a in 150 151 152; do login 127.0.0.$a supervisor wrong >/dev/null; done
check "the other side guesses again from elsewhere; 127.0.0.200 is known now and gets in at once" \
    '[ "$(login 127.0.0.200 supervisor supervisor)" = 200 ]'

# spraying one address over many accounts: delays for the accounts never
# logged in from it, not for those that have (a cell behind one NAT)
check "liaison-b logs in from 127.0.0.60" '[ "$(login 127.0.0.60 liaison-b liaison-b)" = 200 ]'
for i in $(seq 1 400); do
    [ "$(login 127.0.0.60 "nobody$i" wrong)" = 429 ] && [ "$(told_ms)" -ge $((50 * UNIT)) ] && break
done
check "after $i failures over many accounts from 127.0.0.60, an account new to it waits (429)" \
    '[ "$(login 127.0.0.60 admin admin)" = 429 ]'
check "but liaison-b, known there, gets in at once (200)" '[ "$(login 127.0.0.60 liaison-b liaison-b)" = 200 ]'

# a wrong password takes as long for a real account as for a made-up one
t_of() { curl -s --interface "$1" -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' \
             -d "{\"user\":\"$2\",\"password\":\"wrong\"}" "$FM_URL/login"; }
# (the fastest of 9 each, alternating, each from an address of its own so
# that no delay of the policy comes in: on a loaded machine, of 5 one side
# once had no quiet moment and took twice the other's 0.087 s)
for i in 1 2 3 4 5 6 7 8 9; do
    t_of 127.0.0.8$i liaison-b >>"$FM_TMP/t.real"
    t_of 127.0.0.10$i nosuchuser >>"$FM_TMP/t.fake"
done
real=$(sort -n "$FM_TMP/t.real" | head -n1)
fake=$(sort -n "$FM_TMP/t.fake" | head -n1)
check "a wrong password for a real and for a made-up account takes about as long (fastest of 9: ${real} s, ${fake} s)" \
    '[ "$(echo "$real < 2 * $fake && $fake < 2 * $real" | bc)" = 1 ]'
check "bad options are refused with a clear message" \
    '! "$FUSIONMAP" serve --db "$FM_TMP/x.db" --port 0 --login-delay-unit-ms 0 2>"$FM_TMP/opt.err" &&
     grep -q -- "--login-delay-unit-ms" "$FM_TMP/opt.err"'
fm_stop

# (b) the delays of one unknown (account, address) pair double. A longer
# policy second here (500 ms), so that the time a request takes does not blur them
fm_start --demo --login-delay-unit-ms 500
for i in $(seq 1 $N); do login 127.0.0.40 viewer wrong >/dev/null; done
waits=""
for step in 1 2 3 4; do
    code=$(login 127.0.0.40 viewer wrong) # at once after a password check
    [ "$code" = 429 ] || { waits="$waits $code!"; break; }
    w=$(told_ms)
    waits="$waits $w"
    # wait it out; then the one check it allows
    while :; do
        nap_ms "$w"
        code=$(login 127.0.0.40 viewer wrong)
        [ "$code" = 429 ] || break
        w=$(told_ms)
    done
done
check "after $N free failures one address is told to wait 1, 2, 4, 8 policy seconds of 500 ms, with 429 and no password check (told:$waits ms)" \
    'python3 - $waits <<"EOF"
import sys
w = [int(x) for x in sys.argv[1:]]
want = [500 * 2**i for i in range(4)]
sys.exit(0 if len(w) == 4 and all(y - 450 <= x <= y for x, y in zip(w, want)) else 1)
EOF'
fm_stop
finish
