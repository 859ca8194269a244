/* fuzz_cql2_json.c - CQL2 JSON filters as clients send them
 * (server/cql2.c, filter-lang=cql2-json), each accepted filter written as
 * SQL by both backends' dialects. The same invariants as fuzz_cql2
 * (cql2_check.h). The JSON front end builds the same tree as the text
 * one (checked by the unit test's pairs, not here). */
#include "cql2_check.h"

#include <stdint.h>

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
    cql2_check(cql2_compile_json(s, data_queryables(c), &f, &err), &f, &err);
    free(s);
    return 0;
}
