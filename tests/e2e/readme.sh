#!/usr/bin/env bash
# The README's examples, run in order against a fresh demo server: every
# ```sh block between the readme-test markers must succeed (set -e).
. "$(dirname "$0")/../lib.sh"
fm_start --demo
README="$FM_SOURCE_DIR/README.md"
awk '/<!-- readme-test:start -->/{on=1;next} /<!-- readme-test:end -->/{on=0}
     on && /^```sh$/{inblock=1;next} on && /^```$/{inblock=0;next} inblock{print}' "$README" >"$FM_TMP/examples.sh"
check "the README has examples to run" '[ "$(grep -c curl "$FM_TMP/examples.sh")" -ge 10 ]'
fusionmap() { "$FUSIONMAP" "$@" --db "$FM_DB"; }
export -f fusionmap
export FUSIONMAP FM_DB
check "every README example runs and succeeds" \
    '(cd "$FM_TMP" && FM=$FM_URL bash -e -o pipefail examples.sh >"$FM_TMP/examples.out" 2>&1) || { tail -n 20 "$FM_TMP/examples.out"; false; }'
check "the examples printed what the README says they show" \
    'grep -qx zones "$FM_TMP/examples.out" && grep -q "Self-intersection" "$FM_TMP/examples.out" && grep -q "1 .* liaison-a create" "$FM_TMP/examples.out"'
finish
