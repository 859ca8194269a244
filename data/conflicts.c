/* conflicts.c - the deconfliction engine (issue 7): finds conflicts
 * between items in space, time and altitude on every write.
 * Until the engine lands, the check finds nothing. */
#include "internal.h"

fm_rc conflicts_check_item(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                           int64_t item, fm_time now, struct fm_err *err)
{
    (void)db, (void)v, (void)c, (void)item, (void)now, (void)err;
    return FM_OK;
}
