/* events.c - the append-only event log and its hash chain.
 *
 * Each record's hash is SHA-256(previous hash in hex || canonical record),
 * where the canonical record is the compact JSON object of its fields with
 * keys sorted. The first record's previous hash is 64 zeros. Triggers in
 * the schema refuse UPDATE and DELETE; the chain makes any edit of the
 * file itself detectable. */
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char zero_hash[65] =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct record {
    int64_t seq;
    fm_time at;
    const char *user, *party, *action, *collection, *owner;
    int64_t item, version;
    const char *before, *after; /* may be NULL */
};

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* hash = hex(SHA-256(prev || canonical(r))) */
static void record_hash(const char *prev, const struct record *r, char out[65])
{
    json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s,s:o,s:o,s:I,s:I,s:o,s:o}", "seq",
                          (json_int_t)r->seq, "at", (json_int_t)r->at, "user", r->user, "party",
                          r->party, "action", r->action, "collection",
                          text_or_null(r->collection), "owner", text_or_null(r->owner), "item",
                          (json_int_t)r->item, "version", (json_int_t)r->version, "before",
                          text_or_null(r->before), "after", text_or_null(r->after));
    char *canon = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    size_t n = strlen(canon);
    char *msg = fm_xmalloc(64 + n);
    memcpy(msg, prev, 64);
    memcpy(msg + 64, canon, n);
    unsigned char d[32];
    sha256(msg, 64 + n, d);
    fm_hex(d, 32, out);
    free(msg);
    free(canon);
}

static int is_draft(const char *feature)
{
    if (!feature) return 0;
    json_t *f = json_loads(feature, 0, NULL);
    const char *s = json_string_value(json_object_get(json_object_get(f, "properties"), "status"));
    int d = s && strcmp(s, "draft") == 0;
    json_decref(f);
    return d;
}

fm_rc events_append(struct data_db *db, const struct data_viewer *v, const char *action,
                    enum data_coll c, int64_t item, int64_t version, const char *before,
                    const char *after, fm_time at, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", &st, err);
    if (rc) return rc;
    char prev[65];
    int64_t seq = 1;
    memcpy(prev, zero_hash, sizeof prev);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        seq = sqlite3_column_int64(st, 0) + 1;
        snprintf(prev, sizeof prev, "%s", db_text(st, 1));
    }
    sqlite3_finalize(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE) return db_fail(db, err, "event head");

    /* the owner of the item is the party in its feature */
    const char *src = after ? after : before;
    json_t *f = src ? json_loads(src, 0, NULL) : NULL;
    const char *owner = json_string_value(json_object_get(json_object_get(f, "properties"), "party"));
    struct record r = {seq,   at,   v->user,    v->party, action, data_coll_name(c),
                       owner, item, version,    before,   after};
    char hash[65];
    record_hash(prev, &r, hash);

    rc = db_prepare(db,
                    "INSERT INTO events (seq, at, user, party, action, collection, item_id,"
                    " version, owner, before_draft, after_draft, before, after, prev_hash, hash)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    &st, err);
    if (rc) goto done;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_text(st, 3, v->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, v->party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, data_coll_name(c), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, item);
    sqlite3_bind_int64(st, 8, version);
    if (owner) sqlite3_bind_text(st, 9, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 10, is_draft(before));
    sqlite3_bind_int(st, 11, is_draft(after));
    if (before) sqlite3_bind_text(st, 12, before, -1, SQLITE_STATIC);
    if (after) sqlite3_bind_text(st, 13, after, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 14, prev, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 15, hash, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "append event");
    sqlite3_finalize(st);
done:
    json_decref(f);
    return rc;
}

fm_rc data_events_last(struct data_db *db, int64_t *out, struct fm_err *err)
{
    *out = 0;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT coalesce(max(seq), 0) FROM events", &st, err);
    if (rc) return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = db_fail(db, err, "last event");
    sqlite3_finalize(st);
    return rc;
}

#define EVENT_COLUMNS                                                                            \
    "seq, at, user, party, action, collection, item_id, version, owner, before, after,"          \
    " prev_hash, hash, before_draft, after_draft"

static void record_from_row(sqlite3_stmt *st, struct record *r)
{
    r->seq = sqlite3_column_int64(st, 0);
    r->at = sqlite3_column_int64(st, 1);
    r->user = db_text(st, 2);
    r->party = db_text(st, 3);
    r->action = db_text(st, 4);
    r->collection = sqlite3_column_type(st, 5) == SQLITE_NULL ? NULL : db_text(st, 5);
    r->item = sqlite3_column_int64(st, 6);
    r->version = sqlite3_column_int64(st, 7);
    r->owner = sqlite3_column_type(st, 8) == SQLITE_NULL ? NULL : db_text(st, 8);
    r->before = sqlite3_column_type(st, 9) == SQLITE_NULL ? NULL : db_text(st, 9);
    r->after = sqlite3_column_type(st, 10) == SQLITE_NULL ? NULL : db_text(st, 10);
}

fm_rc data_events_since(struct data_db *db, const struct data_viewer *v, int64_t since,
                        long limit, json_t **out, struct fm_err *err)
{
    *out = NULL;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT " EVENT_COLUMNS " FROM events WHERE seq > ? ORDER BY seq"
                          " LIMIT ?",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int64(st, 2, limit);
    const char *vp = v->role == DATA_ROLE_VIEWER || v->role == DATA_ROLE_NONE ? "" : v->party;
    json_t *arr = json_array();
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct record r;
        record_from_row(st, &r);
        int own = r.owner && strcmp(r.owner, vp) == 0;
        if (sqlite3_column_int(st, 14) && !own) continue; /* a draft of another party */
        const char *before = sqlite3_column_int(st, 13) && !own ? NULL : r.before;
        char at[FM_TIME_STAMP_LEN];
        fm_time_format(r.at, at);
        json_array_append_new(
            arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:I,s:I,s:s,s:o*,s:o*}", "seq",
                           (json_int_t)r.seq, "at", at, "user", r.user, "party", r.party,
                           "action", r.action, "collection", text_or_null(r.collection), "item",
                           (json_int_t)r.item, "version", (json_int_t)r.version, "hash",
                           db_text(st, 12), "before",
                           before ? json_loads(before, 0, NULL) : json_null(), "after",
                           r.after ? json_loads(r.after, 0, NULL) : json_null()));
    }
    if (s != SQLITE_DONE) {
        rc = db_fail(db, err, "events since");
        json_decref(arr);
    } else {
        *out = arr;
    }
    sqlite3_finalize(st);
    return rc;
}

fm_rc data_events_verify(struct data_db *db, int64_t *bad_seq, int64_t *count, struct fm_err *err)
{
    *bad_seq = 0;
    *count = 0;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT " EVENT_COLUMNS " FROM events ORDER BY rowid", &st, err);
    if (rc) return rc;
    char prev[65];
    memcpy(prev, zero_hash, sizeof prev);
    int64_t expect = 1;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct record r;
        record_from_row(st, &r);
        (*count)++;
        char hash[65];
        record_hash(prev, &r, hash);
        const char *stored_prev = db_text(st, 11), *stored = db_text(st, 12);
        if (r.seq != expect) {
            *bad_seq = r.seq;
            fm_fail(err, FM_OK, NULL, "record %" PRId64 " stands where %" PRId64 " should", r.seq,
                    expect);
        } else if (strcmp(stored_prev, prev) != 0) {
            *bad_seq = r.seq;
            fm_fail(err, FM_OK, NULL, "record %" PRId64 " does not follow its predecessor", r.seq);
        } else if (strcmp(stored, hash) != 0) {
            *bad_seq = r.seq;
            fm_fail(err, FM_OK, NULL, "record %" PRId64 " was changed after it was written",
                    r.seq);
        }
        if (*bad_seq) break;
        memcpy(prev, hash, sizeof prev);
        expect++;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE) rc = db_fail(db, err, "verify");
    sqlite3_finalize(st);
    return rc;
}
