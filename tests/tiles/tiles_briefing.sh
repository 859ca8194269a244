#!/usr/bin/env bash
# tiles_briefing.sh - briefing images people read: /map.png without a bbox
# frames what the viewer may see (another party's drafts never move the
# frame); zones are labelled with their titles and conflicts with their
# items' titles, never internal ids; /map.pdf is one A4 page drawn by the
# same renderer (title, time, legend) that poppler renders and reads; and
# neither image shows the other party's drafts or the conflicts only they
# see. The text checks read the PDF with pdftotext (poppler-utils).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
export FUSIONMAP_BASEMAP=none
fm_start --demo
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
A=(-H "Authorization: Bearer $TA")
B=(-H "Authorization: Bearer $TB")
have_poppler() { command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null; }

check "/map.png without a bbox is a PNG of what the viewer sees (200)" \
    '[ "$(get /map.png "${A[@]}")" = 200 ] && [ "$(header Content-Type)" = image/png ]'
cp "$FM_TMP/body" "$FM_TMP/mapA.png"
check "/map.pdf without a bbox is a PDF (200, application/pdf, %PDF ... %%EOF)" \
    '[ "$(get /map.pdf "${A[@]}")" = 200 ] && [ "$(header Content-Type)" = application/pdf ] &&
     [ "$(head -c 5 "$FM_TMP/body")" = "%PDF-" ] && tail -c 8 "$FM_TMP/body" | grep -q "%%EOF"'
cp "$FM_TMP/body" "$FM_TMP/A1.pdf"
check "/map.pdf needs a login (401)" '[ "$(get /map.pdf)" = 401 ]'
check "a bad bbox is still a problem (400 problem+json)" \
    '[ "$(get "/map.pdf?bbox=1,2,3" "${A[@]}")" = 400 ] && header Content-Type | grep -q problem+json'

if have_poppler; then
    pdfinfo "$FM_TMP/A1.pdf" >"$FM_TMP/info"
    check "the PDF is one A4 landscape page" 'grep -q "^Pages: *1$" "$FM_TMP/info" && grep -q "842 x 595 pts" "$FM_TMP/info"'
    pdftoppm -r 50 -png "$FM_TMP/A1.pdf" "$FM_TMP/page"
    check "pdftoppm renders it: the dark title bar at the top, a drawn page (not blank)" \
        'read -r r g b _ <<<"$("$PNGDIFF" --pixel "$FM_TMP/page-1.png" 20 5)" && [ "$r" -lt 80 ] && [ "$b" -lt 90 ] &&
         [ $(stat -c %s "$FM_TMP/page-1.png") -gt 20000 ]'
    pdftotext "$FM_TMP/A1.pdf" - | tr -s ' \n' ' ' >"$FM_TMP/A1.txt"
    check "it has the title, the time and the legend" \
        'grep -q "Situation map" "$FM_TMP/A1.txt" && grep -qE "at 20[0-9-]+ [0-9:]+ UTC" "$FM_TMP/A1.txt" && grep -q "Legend" "$FM_TMP/A1.txt" && grep -q "Side A" "$FM_TMP/A1.txt"'
    check "every zone in view is labelled with its title" \
        'for t in "Range North exercise area" "Eastern airspace closure" "Humanitarian corridor H-1"; do grep -q "$t" "$FM_TMP/A1.txt" || { echo "  missing: $t"; exit 1; }; done'
    check "conflicts are named by their items' titles (Supply convoy C-7 crosses Range North exercise area)" \
        'grep -q "CONFLICT: Supply convoy C-7 crosses Range North exercise area" "$FM_TMP/A1.txt"'
    check "no label names an internal id (movement 7, zone 1, incident 5)" \
        '! grep -qE "(movement|zone|zones|incident) [0-9]+" "$FM_TMP/A1.txt"'
    check "each label is there once (the PDF's halo is an outline, not copies of the text)" \
        '[ "$(grep -o "Humanitarian corridor H-1" "$FM_TMP/A1.txt" | wc -l)" = 1 ]'
fi

# the other side: A draws drafts far to the north-east and over B's zone
# (a conflict only A sees); B's images neither show them nor move
get /map.png "${B[@]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/B1.png"
get /map.pdf "${B[@]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/B1.pdf"
code=$(get /collections/zones/items "${A[@]}" -H 'Content-Type: application/geo+json' \
    -d "$(zone_json "$(square 37.5 34.5 0.05)" draft 'Secret draft far away')")
code2=$(get /collections/zones/items "${A[@]}" -H 'Content-Type: application/geo+json' \
    -d "$(zone_json "$(square 36.03 32.88 0.01)" draft 'Secret draft over B')")
check "A drafts two zones, one far off, one over B's zone (201, 201)" '[ "$code" = 201 ] && [ "$code2" = 201 ]'
get /map.png "${B[@]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/B2.png"
get /map.png "${A[@]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/A2.png"
check "B's /map.png without a bbox is the same picture below the title bar (A's drafts neither drawn nor framed)" \
    '[ "$(pixels B1 B2 40)" = 0 ]'
check "A's own frame grows to take in A's far draft" '[ "$(pixels mapA A2 40)" -gt 1000 ]'
get /map.pdf "${B[@]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/B2.pdf"
get /map.pdf "${A[@]}" >/dev/null && cp "$FM_TMP/body" "$FM_TMP/A2.pdf"
if have_poppler; then
    for f in B1 B2 A2; do pdftotext "$FM_TMP/$f.pdf" - | grep -v " UTC" | tr -s ' \n' ' ' >"$FM_TMP/$f.txt"; done
    check "A's PDF names A's drafts" 'grep -q "Secret draft far away" "$FM_TMP/A2.txt" && grep -q "Secret draft over B" "$FM_TMP/A2.txt"'
    check "B's PDF names neither draft, nor the conflict only A sees, and its words are unchanged" \
        '! grep -q "Secret" "$FM_TMP/B2.txt" && cmp -s "$FM_TMP/B1.txt" "$FM_TMP/B2.txt"'
    pdftoppm -r 50 -png "$FM_TMP/B1.pdf" "$FM_TMP/b1" && pdftoppm -r 50 -png "$FM_TMP/B2.pdf" "$FM_TMP/b2"
    check "B's PDF page is the same picture below the title bar" '[ "$("$PNGDIFF" "$FM_TMP/b1-1.png" "$FM_TMP/b2-1.png" 30)" = 0 ]'
fi
finish
