#!/usr/bin/env bash
# The visibility rule against a reference model, on every channel: random
# steps by every role (tests/e2e/visibility_model.py says what it checks).
# FM_VIS_STEPS sets the number of steps (2,000 by default; 500 under
# ASan+UBSan, where the server runs five times slower); FM_SEED repeats a run.
. "$(dirname "$0")/../lib.sh"
# the demo's parties and users, and none of its items (the model starts empty)
"$FUSIONMAP" party add A --name "Side A" --colour '#1f77b4' --kind side --db "$FM_DB" >/dev/null
"$FUSIONMAP" party add B --name "Side B" --colour '#d62728' --kind side --db "$FM_DB" >/dev/null
"$FUSIONMAP" party add SUP --name Supervisor --colour '#555555' --kind supervisor --db "$FM_DB" >/dev/null
for u in liaison-a:A:liaison liaison-b:B:liaison supervisor:SUP:supervisor viewer:SUP:viewer; do
    IFS=: read -r name party role <<<"$u"
    echo "$name-password" | "$FUSIONMAP" user add "$name" --party "$party" --role "$role" \
        --password-stdin --db "$FM_DB" >/dev/null
done
export FM_MESSAGE_RATE=100000 # the model writes as fast as it can
fm_start --max-connections 256
tokens=()
for u in liaison-a liaison-b supervisor viewer; do tokens+=("$(fm_token "$u")"); done
python3 "$FM_SOURCE_DIR/tests/e2e/visibility_model.py" "$FM_URL" "${tokens[@]}" "${FM_VIS_STEPS:-$([ "${FM_SANITIZED:-}" = 1 ] && echo 500 || echo 2000)}"
status=$?
check "the model-based visibility run passed" test "$status" -eq 0
check "the event log still verifies" '"$FUSIONMAP" events verify --db "$FM_DB" >/dev/null'
fm_stop
finish
