/* fuzz_cql2.c - CQL2 text filters and sortby as clients send them
 * (server/cql2.c), each accepted filter written as SQL by both backends'
 * dialects. Invariants (cql2_check.h): the SQL names only bound values
 * that exist, its single quotes are the server's own (balanced; no
 * client text in the SQL), and a refused filter leaves nothing behind. */
#include "cql2_check.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    static struct data_filter f;
    struct fm_err err;
    enum data_coll c = size ? (enum data_coll)(data[0] % DATA_COLL_COUNT) : DATA_ZONES;
    cql2_check(cql2_compile(s, data_queryables(c), &f, &err), &f, &err);
    struct data_sort so;
    if (cql2_sortby(s, data_queryables(c), &so, &err) == FM_OK) {
        if (strchr(s, '\'') || so.n < 1 || so.n > DATA_SORT_MAX) abort(); /* no queryable name holds a quote */
        for (int i = 0; i < so.n; i++)
            if (so.key[i].q->type == 'g') abort();
    }
    free(s);
    return 0;
}
