/* fuzz_cql2_json.c - CQL2 JSON filters as clients send them
 * (server/cql2.c, filter-lang=cql2-json). The same invariants as
 * fuzz_cql2: an accepted filter's SQL names only bound values that exist
 * (:fN, N < nvalues), its single quotes are the server's own (balanced:
 * no client text in the SQL), and a refused one leaves nothing behind.
 * Also: the JSON front end builds the same tree as the text one, so an
 * accepted JSON filter's SQL uses only the text front end's vocabulary
 * (checked by the unit test's pairs, not here). */
#include "cql2.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192) return 0;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    static struct data_filter f;
    struct fm_err err;
    /* the collection from the length, so the text stays pure JSON */
    enum data_coll c = (enum data_coll)(size % DATA_COLL_COUNT);
    if (cql2_compile_json(s, data_queryables(c), &f, &err) == FM_OK) {
        if (f.nvalues > DATA_FILTER_MAX_VALUES || f.text_len > sizeof f.text) abort();
        int quotes = 0;
        for (const char *p = f.sql; *p; p++) {
            quotes += *p == '\'';
            if (p[0] == ':' && p[1] == 'f') {
                int n = atoi(p + 2);
                if (n < 0 || n >= f.nvalues) abort();
            }
        }
        if (quotes % 2) abort();
        for (int i = 0; i < f.nvalues; i++)
            if (f.values[i].kind == 't' &&
                (f.values[i].t < f.text || f.values[i].t >= f.text + sizeof f.text))
                abort();
    } else if (f.sql[0] || f.nvalues || !err.msg[0] || strcmp(err.pointer, "filter") != 0) {
        abort();
    }
    free(s);
    return 0;
}
