/* fuzz_feature.c - a client's body as the server reads it: JSON with
 * duplicate keys refused, then validated as a Feature of each collection.
 * Any input must end in FM_OK or a clean error naming a pointer. */
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) return 0;
    struct data_limits lim;
    data_limits_default(&lim);
    lim.max_vertices = 1000;
    for (int c = 0; c < DATA_COLL_COUNT; c++) {
        struct item_fields f;
        struct fm_err err;
        fm_err_clear(&err);
        fm_rc rc = feature_validate((enum data_coll)c, j, &lim, &f, &err);
        if (rc == FM_OK) {
            /* what validation accepts must be a geometry the store can write */
            if (!f.geometry || !f.props) abort();
            char *text = json_dumps(f.geometry, JSON_COMPACT);
            if (!text) abort();
            free(text);
            feature_fields_cleanup(&f);
        } else if (err.msg[0] == '\0') {
            abort(); /* every refusal says why */
        }
    }
    json_decref(j);
    return 0;
}
