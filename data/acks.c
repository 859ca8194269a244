/* acks.c - acknowledgement and dispute of one version of an item by
 * another party, in the same transaction as the step of the workflow it
 * causes; and the lists of what a party still has to acknowledge and of
 * open disputes. */
#include "sqlite/sqlite.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The status an acknowledgement moves an item to, or NULL for none
 * (internal.h: rulings.c reads it too). */
const char *ack_next_status(enum data_coll c, const char *status)
{
    if (c == DATA_ZONES && !strcmp(status, "proposed")) return "active";
    if (c == DATA_INCIDENTS && !strcmp(status, "reported")) return "acknowledged";
    if (c == DATA_MOVEMENTS && !strcmp(status, "notified")) return "acknowledged";
    return NULL;
}

static fm_rc insert_ack(struct data_db *db, const struct data_viewer *v, int64_t id,
                        int64_t version, const char *decision, const char *comment, fm_time now,
                        struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "INSERT INTO acks (item_id, version, party, user, at, decision, comment)"
                          " VALUES (?,?,?,?,?,?,?)",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_text(st, 3, v->party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, v->user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_text(st, 6, decision, -1, SQLITE_STATIC);
    if (comment) sqlite3_bind_text(st, 7, comment, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_CONSTRAINT)
        rc = fm_fail(err, FM_ECONFLICT, NULL,
                     "party %s has already answered version %" PRId64 " of item %" PRId64,
                     v->party, version, id);
    else if (s != SQLITE_DONE)
        rc = db_fail(db, err, "insert ack");
    sqlite3_finalize(st);
    return rc;
}

fm_rc data_item_ack(struct data_db *db, const struct data_viewer *v, enum data_coll c, int64_t id,
                    int64_t if_match, const char *decision, const char *comment,
                    json_t **updated, struct fm_err *err)
{
    *updated = NULL;
    if (v->role != DATA_ROLE_LIAISON && v->role != DATA_ROLE_SUPERVISOR)
        return fm_fail(err, FM_EFORBID, NULL, "a %s does not acknowledge items",
                       data_role_name(v->role));
    if (!decision || (strcmp(decision, "ack") != 0 && strcmp(decision, "dispute") != 0))
        return fm_fail(err, FM_EINVAL, "/decision", "decision is \"ack\" or \"dispute\"");
    if (comment && strlen(comment) > 4000)
        return fm_fail(err, FM_ETOOBIG, "/comment", "a comment holds at most 4000 bytes");
    if (!strcmp(decision, "dispute") && (!comment || !*comment))
        return fm_fail(err, FM_EINVAL, "/comment", "a dispute needs a comment saying why");

    struct item_current cur;
    fm_rc rc = db_begin(db, err);
    if (rc) return rc;
    if ((rc = item_load_current(db, v, c, id, &cur, err))) goto fail;
    if (!strcmp(cur.party, v->party)) {
        rc = fm_fail(err, FM_EFORBID, NULL, "a party does not acknowledge its own item");
    } else if (if_match != cur.version) {
        rc = fm_fail(err, FM_ESTALE, NULL,
                     "item %" PRId64 " is at version %" PRId64 ", not %" PRId64
                     ": an acknowledgement is of one version; reload and read it again",
                     id, cur.version, if_match);
    } else {
        fm_time now = fm_time_now();
        int dispute = !strcmp(decision, "dispute");
        const char *next = dispute ? (coll_transition_ok(c, cur.status, "disputed") &&
                                              strcmp(cur.status, "disputed") != 0
                                          ? "disputed"
                                          : NULL)
                                   : ack_next_status(c, cur.status);
        json_t *ack = json_pack("{s:s,s:s,s:I,s:I,s:s,s:s,s:s?}", "type", "Acknowledgement",
                                "collection", data_coll_name(c), "item", (json_int_t)id,
                                "version", (json_int_t)cur.version, "party", v->party, "decision",
                                decision, "comment", comment);
        char *ack_text = json_dumps(ack, JSON_COMPACT);
        json_decref(ack);
        if (!(rc = insert_ack(db, v, id, cur.version, decision, comment, now, err)) &&
            !(rc = events_append_ex(db, v, decision, data_coll_name(c), id, cur.version, NULL,
                                      ack_text, cur.party, 0, cur.owner_only, now, err))) {
            if (next) {
                json_t *proposed = json_deep_copy(cur.feature);
                json_object_set_new(json_object_get(proposed, "properties"), "status",
                                    json_string(next));
                struct data_limits unlimited = {INT32_MAX, INT32_MAX};
                rc = item_write_next(db, v, c, id, &cur, cur.version, proposed,
                                     dispute ? "disputed" : "acknowledged", &unlimited,
                                     ITEM_BY_WORKFLOW, updated, err);
                json_decref(proposed);
            } else {
                *updated = json_incref(cur.feature);
            }
        }
        free(ack_text);
    }
    item_current_cleanup(&cur);
    if (rc) goto fail;
    if ((rc = db_commit(db, err))) goto fail;
    return FM_OK;
fail:
    db_rollback(db);
    json_decref(*updated);
    *updated = NULL;
    return rc;
}

fm_rc data_item_acks(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                     int64_t id, json_t **out, struct fm_err *err)
{
    *out = NULL;
    struct item_current cur;
    fm_rc rc = item_load_current(db, v, c, id, &cur, err);
    if (rc) return rc;
    item_current_cleanup(&cur);
    sqlite3_stmt *st;
    if ((rc = db_prepare(db,
                         "SELECT version, party, user, at, decision, comment FROM acks"
                         " WHERE item_id = ? ORDER BY id",
                         &st, err)))
        return rc;
    sqlite3_bind_int64(st, 1, id);
    json_t *arr = json_array();
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        char at[FM_TIME_STAMP_LEN];
        fm_time_format(sqlite3_column_int64(st, 3), at);
        json_array_append_new(
            arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s?}", "version",
                           (json_int_t)sqlite3_column_int64(st, 0), "party", db_text(st, 1), "by",
                           db_text(st, 2), "at", at, "decision", db_text(st, 4), "comment",
                           sqlite3_column_type(st, 5) == SQLITE_NULL ? NULL : db_text(st, 5)));
    }
    if (s != SQLITE_DONE) rc = db_fail(db, err, "acks");
    sqlite3_finalize(st);
    if (rc)
        json_decref(arr);
    else
        *out = arr;
    return rc;
}

/* Rows of (collection, id, version, party, status, title) as a JSON array. */
static fm_rc item_list(struct data_db *db, sqlite3_stmt *st, json_t **out, struct fm_err *err)
{
    json_t *arr = json_array();
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:s,s:I,s:I,s:s,s:s,s:s}", "collection",
                                             db_text(st, 0), "id",
                                             (json_int_t)sqlite3_column_int64(st, 1), "version",
                                             (json_int_t)sqlite3_column_int64(st, 2), "party",
                                             db_text(st, 3), "status", db_text(st, 4), "title",
                                             db_text(st, 5)));
    fm_rc rc = FM_OK;
    if (s != SQLITE_DONE) {
        rc = db_fail(db, err, "list");
        json_decref(arr);
    } else {
        *out = arr;
    }
    sqlite3_finalize(st);
    return rc;
}

fm_rc data_pending(struct data_db *db, const struct data_viewer *v, const char *party,
                   json_t **out, struct fm_err *err)
{
    *out = NULL;
    if (v->role != DATA_ROLE_LIAISON && v->role != DATA_ROLE_SUPERVISOR)
        return fm_fail(err, FM_EFORBID, NULL, "a %s acknowledges nothing",
                       data_role_name(v->role));
    if (!party) party = v->party;
    if (strcmp(party, v->party) != 0 && v->role != DATA_ROLE_SUPERVISOR)
        return fm_fail(err, FM_EFORBID, "party", "only the supervisor sees another party's list");
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(
        db,
        "SELECT v.collection, v.item_id, v.version, v.party, v.status, coalesce(v.title, '')"
        " FROM item_versions v WHERE v.sys_to IS NULL AND v.party <> ?1"
        " AND v.status <> 'draft' AND v.status NOT IN " ENDED_STATUSES_SQL
        " AND NOT EXISTS (SELECT 1 FROM acks a WHERE a.item_id = v.item_id"
        " AND a.version = v.version AND a.party = ?1) ORDER BY v.item_id",
        &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, party, -1, SQLITE_TRANSIENT);
    return item_list(db, st, out, err);
}

fm_rc data_disputes(struct data_db *db, const struct data_viewer *v, json_t **out,
                    struct fm_err *err)
{
    (void)v; /* a disputed item is never a draft: everyone sees the list */
    *out = NULL;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT v.collection, v.item_id, v.version, v.party, v.status,"
                          " coalesce(v.title, '') FROM item_versions v"
                          " WHERE v.sys_to IS NULL AND v.status = 'disputed' ORDER BY v.item_id",
                          &st, err);
    if (rc) return rc;
    return item_list(db, st, out, err);
}
