/* fuzz_cql2.c - CQL2 text filters and sortby as clients send them
 * (server/cql2.c). Invariants: an accepted filter's SQL names only bound
 * values that exist (:fN, N < nvalues), its single quotes are the
 * server's own (balanced; no client text in the SQL), and a refused one
 * leaves nothing behind. */
#include "cql2.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    static struct data_filter f;
    struct fm_err err;
    enum data_coll c = size ? (enum data_coll)(data[0] % DATA_COLL_COUNT) : DATA_ZONES;
    if (cql2_compile(s, data_queryables(c), &f, &err) == FM_OK) {
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
    } else if (f.sql[0] || f.nvalues) {
        abort();
    }
    char order[1400];
    if (cql2_sortby(s, data_queryables(c), order, sizeof order, &err) == FM_OK && strchr(s, '\''))
        abort(); /* no queryable name holds a quote */
    free(s);
    return 0;
}
