/* replay.c - the log replayed against the state the server acts on.
 *
 * The hash chain (events.c) proves the records; this proves that the
 * tables the server reads to decide anything say what the records say:
 *
 * - item_versions: every column from the recorded Feature and its record
 *   (party, status, type, title, validity, altitude band, geometry,
 *   sys_from from the record's time, sys_to from the next version's,
 *   action, by_user, the version numbers), and items (created_at, by);
 * - the visibility the server reads: item_versions.owner_only and the
 *   events' flags (before_draft, after_draft), which are not hashed, by
 *   the rule (vis_owner_only, visibility.c);
 * - acks: each row has its record, with the same decision, comment,
 *   party, user, version and time, and each record its row;
 * - conflicts: each row equals its last record's Feature; a row refreshed
 *   in place since (its items changed but still clash: conflicts.c
 *   records no event for that) is open, names the items' current
 *   versions, keeps its opening and carries the visibility those versions
 *   give it (its clash geometry, severity, interval and band are the
 *   engine's and not re-derived here); and the geometry it keeps for
 *   drawing and search is the one its Feature's text tells;
 * - parties and users: as their records (party_add, party_change,
 *   user_add, user_role) leave them;
 * - user_keys: as their records (key_add, key_revoke) leave them, through
 *   the store (data/sqlite/keys.c); and every signed answer's signature
 *   against the keys the log registers (keys.c), with no table's word;
 * - messages and their "seen" receipts: each row equals its record, and
 *   each record has its row; the records' visibility flags and owner are
 *   those of their thread (messages.c);
 * - rulings: each row equals its record, each record has its row;
 * - cosigned_heads: each row equals its record (cosign), each record has
 *   its row (the chain's passing through each head: events.c);
 * - the caches the server draws and searches by (pic_* R*Trees, the
 *   corridor reach, the spatial indexes): checked, not rebuilt.
 *
 * The first difference is named by table, row and column. Runs inside
 * the caller's read: a few full scans, one pass over the log. */
#include "sqlite/sqlite.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The actions whose `after` is a version of an item (as events.c). */
#define REPLAY_VERSION_ACTIONS EVENT_VERSION_ACTIONS_SQL

/* ---- what the replay knows of each item -------------------------------- */

struct item_st {
    int64_t id; /* 0: an empty slot */
    int64_t nver;
    unsigned char *own; /* own[v - 1]: version v is owner-only */
    size_t aown;
    char party[16];
};

struct replay {
    struct data_db *db;
    struct fm_err *err;
    int64_t last, *bad;
    struct item_st *slot;
    size_t cap, n;
    json_t *parties, *users; /* code / name -> the last record's after, with "_seq" */
    json_t *keys;            /* fingerprint -> key_add's after (+ revoked_at), with "_seq" */
    json_t *messages, *receipts; /* id -> the record's after, with "_seq" */
    json_t *rulings;             /* "item/version" -> the record's after, with "_seq" */
    json_t *heads;               /* "user/seq" -> the cosign record's after, with "_seq" */
};

static struct item_st *item_get(struct replay *r, int64_t id, int create)
{
    if (id <= 0) return NULL;
    if (create && (r->n + 1) * 2 > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        struct item_st *s = fm_xcalloc(cap, sizeof *s);
        for (size_t i = 0; i < r->cap; i++) {
            if (!r->slot[i].id) continue;
            size_t j = (size_t)r->slot[i].id * 2654435761u % cap;
            while (s[j].id) j = (j + 1) % cap;
            s[j] = r->slot[i];
        }
        free(r->slot);
        r->slot = s;
        r->cap = cap;
    }
    if (!r->cap) return NULL;
    size_t j = (size_t)id * 2654435761u % r->cap;
    while (r->slot[j].id && r->slot[j].id != id) j = (j + 1) % r->cap;
    if (r->slot[j].id) return &r->slot[j];
    if (!create) return NULL;
    r->slot[j].id = id;
    r->n++;
    return &r->slot[j];
}

/* Is version v of item id owner-only (as replayed)? 0 if unknown. */
static int item_own(struct replay *r, int64_t id, int64_t v)
{
    struct item_st *it = item_get(r, id, 0);
    return it && v >= 1 && v <= it->nver ? it->own[v - 1] : 0;
}

/* ---- naming the first difference --------------------------------------- */

/* Sets the first difference (seq: the record concerned, 0 for none) and
 * returns 1. */
__attribute__((format(printf, 3, 4))) static int differ(struct replay *r, int64_t seq,
                                                        const char *fmt, ...)
{
    char what[224];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    *r->bad = seq > 0 ? seq : r->last + 1;
    /* where, without the values (which may be another party's draft):
     * err->pointer, for those who may not read the values */
    char where[96];
    size_t n = strnlen(what, sizeof where - 1);
    memcpy(where, what, n);
    where[n] = '\0';
    char *col = strstr(where, ": column ");
    if (col) {
        char *cut = strstr(col + 9, " is ");
        if (!cut) cut = strstr(col + 9, " differs");
        if (cut) *cut = '\0';
    }
    if (seq > 0)
        fm_fail(r->err, FM_OK, NULL, "the state differs from the log: %s (record %" PRId64 ")",
                what, seq);
    else
        fm_fail(r->err, FM_OK, NULL, "the state differs from the log: %s", what);
    snprintf(r->err->pointer, sizeof r->err->pointer, "%s", where);
    return 1;
}

/* A value for a message: NULL, or quoted and cut to 40 bytes. */
static const char *show(const char *s, char buf[48])
{
    if (!s) return "NULL";
    snprintf(buf, 48, "%.40s%s", s, strlen(s) > 40 ? "..." : "");
    return buf;
}

static const char *col_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL : db_text(st, col);
}

/* The column as text (NULL for NULL), for a message. */
static const char *col_show(sqlite3_stmt *st, int col, char buf[48])
{
    return show(col_or_null(st, col), buf);
}

static int text_same(sqlite3_stmt *st, int col, const char *want)
{
    int null = sqlite3_column_type(st, col) == SQLITE_NULL;
    if (!want) return null;
    return !null && sqlite3_column_type(st, col) == SQLITE_TEXT &&
           strcmp(db_text(st, col), want) == 0;
}

static int int_same(sqlite3_stmt *st, int col, int has, int64_t want)
{
    int type = sqlite3_column_type(st, col);
    if (!has) return type == SQLITE_NULL;
    return type == SQLITE_INTEGER && sqlite3_column_int64(st, col) == want;
}

static int real_same(sqlite3_stmt *st, int col, int has, double want)
{
    int type = sqlite3_column_type(st, col);
    if (!has) return type == SQLITE_NULL;
    if (type != SQLITE_FLOAT && type != SQLITE_INTEGER) return 0;
    double d = sqlite3_column_double(st, col);
    /* the Feature holds the number to 15 digits, the column the double */
    return fabs(d - want) <= 1e-12 * fmax(1.0, fabs(want));
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* ---- item versions ------------------------------------------------------ */

enum {
    V_VID, V_ITEM, V_VERSION, V_COLL, V_PARTY, V_STATUS, V_TYPE, V_TITLE, V_FROM, V_TO, V_FLOOR,
    V_CEIL, V_SYS_FROM, V_SYS_TO, V_ACTION, V_BY, E_SEQ, E_AT, E_USER, E_ACTION, E_COLL, E_AFTER,
    E_BEFORE_DRAFT, E_AFTER_DRAFT, V_GEOM_SAME, V_OWNER_ONLY
};

/* The row of one version against its record. */
static int version_row(struct replay *r, sqlite3_stmt *st, int64_t expect_version, int prev_own)
{
    int64_t item = sqlite3_column_int64(st, V_ITEM), version = sqlite3_column_int64(st, V_VERSION);
    int64_t seq = sqlite3_column_int64(st, E_SEQ);
    char row[64], a[48], b[48];
    snprintf(row, sizeof row, "item_versions row item %" PRId64 " version %" PRId64, item, version);
    if (version != expect_version)
        return differ(r, seq, "%s: column version is %" PRId64 ", the log says %" PRId64, row,
                      version, expect_version);
    if (expect_version == 1 && strcmp(db_text(st, E_ACTION), "create") != 0)
        return differ(r, seq, "%s: the log has no create record for the first version", row);
    json_t *f = json_loads(db_text(st, E_AFTER), 0, NULL);
    json_t *p = json_object_get(f, "properties");
    const char *status = jstr(p, "status");
    int res = 0;
    struct {
        const char *col;
        int c;
        const char *want;
    } texts[] = {
        {"collection", V_COLL, col_or_null(st, E_COLL)},
        {"party", V_PARTY, jstr(p, "party")},
        {"status", V_STATUS, status},
        {"type", V_TYPE, jstr(p, "type")},
        {"title", V_TITLE, jstr(p, "title")},
        {"action", V_ACTION, db_text(st, E_ACTION)},
        {"by_user", V_BY, db_text(st, E_USER)},
    };
    for (size_t i = 0; !res && i < sizeof texts / sizeof *texts; i++)
        if (!text_same(st, texts[i].c, texts[i].want))
            res = differ(r, seq, "%s: column %s is %s, the log says %s", row, texts[i].col,
                         col_show(st, texts[i].c, a), show(texts[i].want, b));
    static const char *const times[2][2] = {{"valid_from", "valid_from"}, {"valid_to", "valid_to"}};
    for (int i = 0; !res && i < 2; i++) {
        const char *s = jstr(p, times[i][1]);
        fm_time t = 0;
        int has = s && fm_time_parse(s, &t) == FM_OK;
        if (!int_same(st, i ? V_TO : V_FROM, has, t))
            res = differ(r, seq, "%s: column %s is %s, the log says %s", row, times[i][0],
                         col_show(st, i ? V_TO : V_FROM, a), show(has ? s : NULL, b));
    }
    static const char *const alts[2][2] = {{"alt_floor", "altitude_floor_m"},
                                           {"alt_ceiling", "altitude_ceiling_m"}};
    for (int i = 0; !res && i < 2; i++) {
        json_t *n = json_object_get(p, alts[i][1]);
        int has = json_is_number(n);
        if (!real_same(st, i ? V_CEIL : V_FLOOR, has, json_number_value(n))) {
            char want[48];
            snprintf(want, sizeof want, "%.15g", json_number_value(n));
            res = differ(r, seq, "%s: column %s is %s, the log says %s", row, alts[i][0],
                         col_show(st, i ? V_CEIL : V_FLOOR, a), has ? want : "NULL");
        }
    }
    if (!res && !int_same(st, V_SYS_FROM, 1, sqlite3_column_int64(st, E_AT)))
        res = differ(r, seq, "%s: column sys_from is %s, the log says %" PRId64 " (the record's time)",
                     row, col_show(st, V_SYS_FROM, a), (int64_t)sqlite3_column_int64(st, E_AT));
    if (!res && sqlite3_column_int(st, V_GEOM_SAME) != 1)
        res = differ(r, seq, "%s: column geom is not the recorded Feature's geometry", row);

    /* ===== the visibility rule (vis_owner_only, visibility.c): the version's
     * own answer and its record's flags ===== */
    int own = vis_owner_only(status ? status : "", prev_own);
    if (!res && !int_same(st, V_OWNER_ONLY, 1, own))
        res = differ(r, seq, "%s: column owner_only is %s, the log says %d", row,
                     col_show(st, V_OWNER_ONLY, a), own);
    if (!res && sqlite3_column_int(st, E_BEFORE_DRAFT) != (expect_version > 1 ? prev_own : 0))
        res = differ(r, seq, "events row %" PRId64 ": column before_draft is %d, the log says %d",
                     seq, sqlite3_column_int(st, E_BEFORE_DRAFT), expect_version > 1 ? prev_own : 0);
    if (!res && sqlite3_column_int(st, E_AFTER_DRAFT) != own)
        res = differ(r, seq, "events row %" PRId64 ": column after_draft is %d, the log says %d",
                     seq, sqlite3_column_int(st, E_AFTER_DRAFT), own);

    struct item_st *it = item_get(r, item, 1);
    if (it->aown < (size_t)version) {
        it->aown = (size_t)version * 2;
        it->own = realloc(it->own, it->aown);
        if (!it->own) abort();
    }
    it->own[version - 1] = (unsigned char)own;
    it->nver = version;
    snprintf(it->party, sizeof it->party, "%s", jstr(p, "party") ? jstr(p, "party") : "");
    json_decref(f);
    return res;
}

static fm_rc check_versions(struct replay *r)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(
        r->db,
        "SELECT v.vid, v.item_id, v.version, v.collection, v.party, v.status, v.type, v.title,"
        " v.valid_from, v.valid_to, v.alt_floor, v.alt_ceiling, v.sys_from, v.sys_to, v.action,"
        " v.by_user, e.seq, e.at, e.user, e.action, e.collection, e.after, e.before_draft,"
        " e.after_draft, CASE WHEN json_valid(e.after) THEN v.geom IS NOT NULL AND v.geom ="
        " CastToXY(SetSRID(GeomFromGeoJSON(json_extract(e.after, '$.geometry')), 4326)) END,"
        " v.owner_only FROM item_versions v JOIN events e ON e.item_id = v.item_id AND e.version = v.version"
        " AND e.action IN " REPLAY_VERSION_ACTIONS " ORDER BY v.item_id, v.version, e.seq",
        &st, r->err);
    if (rc) return rc;
    int64_t p_item = 0, p_version = 0, p_seq = 0;
    int p_own = 0, p_null = 1;
    int64_t p_sys_to = 0;
    int s, found = 0;
    while (!found && (s = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t item = sqlite3_column_int64(st, V_ITEM);
        int64_t at = sqlite3_column_int64(st, E_AT);
        if (item == p_item && sqlite3_column_int64(st, V_VERSION) == p_version) {
            found = differ(r, sqlite3_column_int64(st, E_SEQ),
                           "item_versions row item %" PRId64 " version %" PRId64
                           ": two records tell this version",
                           item, p_version);
            break;
        }
        if (item != p_item && p_item && !p_null) {
            found = differ(r, p_seq,
                           "item_versions row item %" PRId64 " version %" PRId64
                           ": column sys_to is %" PRId64 ", the log says NULL (its last version)",
                           p_item, p_version, p_sys_to);
            break;
        }
        if (item == p_item && (p_null || p_sys_to != at)) {
            char buf[32];
            snprintf(buf, sizeof buf, "%" PRId64, p_sys_to);
            found = differ(r, p_seq,
                           "item_versions row item %" PRId64 " version %" PRId64
                           ": column sys_to is %s, the log says %" PRId64
                           " (the next version's time)",
                           p_item, p_version, p_null ? "NULL" : buf, at);
            break;
        }
        int64_t expect = item == p_item ? p_version + 1 : 1;
        if ((found = version_row(r, st, expect, item == p_item ? p_own : 0))) break;
        p_item = item;
        p_version = expect;
        p_seq = sqlite3_column_int64(st, E_SEQ);
        p_own = item_own(r, item, expect);
        p_null = sqlite3_column_type(st, V_SYS_TO) == SQLITE_NULL;
        p_sys_to = sqlite3_column_int64(st, V_SYS_TO);
    }
    if (!found && s != SQLITE_DONE) rc = db_fail(r->db, r->err, "replay versions");
    if (!rc && !found && p_item && !p_null)
        differ(r, p_seq,
               "item_versions row item %" PRId64 " version %" PRId64
               ": column sys_to is %" PRId64 ", the log says NULL (its last version)",
               p_item, p_version, p_sys_to);
    sqlite3_finalize(st);
    return rc;
}

/* ---- items -------------------------------------------------------------- */

static fm_rc check_items(struct replay *r)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(r->db,
                          "SELECT i.id, i.collection, i.party, i.created_at, i.created_by, e.seq,"
                          " e.collection, e.party, e.at, e.user FROM items i LEFT JOIN events e"
                          " ON e.item_id = i.id AND e.version = 1 AND e.action = 'create'"
                          " ORDER BY i.id",
                          &st, r->err);
    if (rc) return rc;
    int s, found = 0;
    char a[48], b[48];
    while (!found && (s = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), seq = sqlite3_column_int64(st, 5);
        if (sqlite3_column_type(st, 5) == SQLITE_NULL) {
            found = differ(r, 0, "items row %" PRId64 ": no create record in the log", id);
            break;
        }
        static const char *const cols[] = {"collection", "party"};
        for (int i = 0; !found && i < 2; i++)
            if (!text_same(st, 1 + i, col_or_null(st, 6 + i)))
                found = differ(r, seq, "items row %" PRId64 ": column %s is %s, the log says %s",
                               id, cols[i], col_show(st, 1 + i, a), col_show(st, 6 + i, b));
        if (!found && !int_same(st, 3, 1, sqlite3_column_int64(st, 8)))
            found = differ(r, seq, "items row %" PRId64 ": column created_at is %s, the log says %s",
                           id, col_show(st, 3, a), col_show(st, 8, b));
        if (!found && !text_same(st, 4, db_text(st, 9)))
            found = differ(r, seq, "items row %" PRId64 ": column created_by is %s, the log says %s",
                           id, col_show(st, 4, a), col_show(st, 9, b));
    }
    if (!found && s != SQLITE_DONE) rc = db_fail(r->db, r->err, "replay items");
    sqlite3_finalize(st);
    if (rc || found) return rc;
    if ((rc = db_prepare(r->db,
                         "SELECT e.seq, e.item_id FROM events e WHERE e.action = 'create'"
                         " AND NOT EXISTS (SELECT 1 FROM items i WHERE i.id = e.item_id)"
                         " ORDER BY e.seq LIMIT 1",
                         &st, r->err)))
        return rc;
    if ((s = sqlite3_step(st)) == SQLITE_ROW)
        differ(r, sqlite3_column_int64(st, 0), "items row %lld: missing (the log creates it)",
               (long long)sqlite3_column_int64(st, 1));
    else if (s != SQLITE_DONE)
        rc = db_fail(r->db, r->err, "replay items");
    sqlite3_finalize(st);
    return rc;
}

/* ---- the other records: flags, parties, users --------------------------- */

/* Is a conflict Feature's pair owner-only (either version named is)? */
static int conflict_own(struct replay *r, const char *text)
{
    if (!text) return 0;
    json_t *f = json_loads(text, 0, NULL);
    json_t *items = json_object_get(json_object_get(f, "properties"), "items");
    int own = 0;
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        own |= item_own(r, json_integer_value(json_object_get(it, "id")),
                        json_integer_value(json_object_get(it, "version")));
    }
    json_decref(f);
    return own;
}

/* Keeps a party's or user's state as its record leaves it. */
static void account_set(json_t *map, const char *key, const char *after, int64_t seq)
{
    json_t *a = after ? json_loads(after, 0, NULL) : NULL;
    if (!json_is_object(a) || !key) {
        json_decref(a);
        return;
    }
    json_object_set_new(a, "_seq", json_integer(seq));
    json_object_set_new(map, key, a);
}

static fm_rc check_flags(struct replay *r)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(r->db,
                          "SELECT seq, action, collection, item_id, before, after, before_draft,"
                          " after_draft, version, owner FROM events WHERE action NOT IN "
                          REPLAY_VERSION_ACTIONS
                          " ORDER BY seq",
                          &st, r->err);
    if (rc) return rc;
    int s, found = 0;
    while (!found && (s = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        const char *action = db_text(st, 1), *coll = db_text(st, 2);
        const char *before = col_or_null(st, 4), *after = col_or_null(st, 5);
        int want_before, want_after;
        /* ===== the rule for the records that are not item versions ===== */
        if (!strcmp(coll, "conflicts")) {
            /* a conflict is owner-only when a version it names is. A
             * record without its before (conflicts.c drops a revision
             * another party alone saw) keeps that revision's flag, which
             * then shows nothing: not compared */
            want_before = before ? conflict_own(r, before) : sqlite3_column_int(st, 6);
            want_after = conflict_own(r, after);
        } else if (!strcmp(coll, "users") || !strcmp(coll, "parties")) {
            /* the operator's records: read by no party (users.c) */
            int user = coll[0] == 'u';
            want_before = before != NULL;
            want_after = 1;
            json_t *a = after ? json_loads(after, 0, NULL) : NULL;
            account_set(user ? r->users : r->parties, jstr(a, user ? "name" : "code"), after, seq);
            json_decref(a);
        } else if (!strcmp(coll, "keys")) {
            /* a user's key: its party's records (keys.c) */
            want_before = 0;
            want_after = 1;
            json_t *a = after ? json_loads(after, 0, NULL) : NULL;
            const char *fp = jstr(a, "fingerprint");
            if (!strcmp(action, "key_add")) {
                account_set(r->keys, fp, after, seq);
            } else if (fp && json_object_get(r->keys, fp)) {
                fm_time t = 0;
                if (jstr(a, "revoked_at")) fm_time_parse(jstr(a, "revoked_at"), &t);
                json_t *k = json_object_get(r->keys, fp);
                json_object_set_new(k, "revoked_at", json_integer(t));
                json_object_set_new(k, "_seq", json_integer(seq));
            }
            json_decref(a);
        } else if (!strcmp(action, "ack") || !strcmp(action, "dispute")) {
            /* an answer is as the version it answers (acks.c) */
            want_before = 0;
            want_after = item_own(r, sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 8));
        } else if (!strcmp(action, "ruling")) {
            /* as the version it rules on, told to its owner (rulings.c) */
            int64_t item = sqlite3_column_int64(st, 3);
            struct item_st *it = item_get(r, item, 0);
            char a48[48], b48[48];
            want_before = 0;
            want_after = item_own(r, item, sqlite3_column_int64(st, 8));
            if (!text_same(st, 9, it ? it->party : "")) {
                found = differ(r, seq, "events row %" PRId64 ": column owner is %s, the log says %s",
                               seq, col_show(st, 9, a48), show(it ? it->party : "", b48));
                break;
            }
            json_t *a = after ? json_loads(after, 0, NULL) : NULL;
            char key[48];
            snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(a, "item")),
                     json_integer_value(json_object_get(a, "version")));
            if (json_is_object(a)) {
                json_object_set_new(a, "_seq", json_integer(seq));
                json_object_set(r->rulings, key, a);
            }
            json_decref(a);
        } else if (!strcmp(action, "cosign") && !strcmp(coll, "heads")) {
            /* a cosigned head: read by everyone (heads.c) */
            want_before = want_after = 0;
            json_t *a = after ? json_loads(after, 0, NULL) : NULL;
            char key[96];
            snprintf(key, sizeof key, "%s/%" JSON_INTEGER_FORMAT, jstr(a, "user") ? jstr(a, "user") : "",
                     json_integer_value(json_object_get(a, "seq")));
            if (json_is_object(a)) {
                json_object_set_new(a, "_seq", json_integer(seq));
                json_object_set(r->heads, key, a);
            }
            json_decref(a);
        } else if (!strcmp(action, "message") || !strcmp(action, "seen")) {
            /* as its thread was when written (messages.c): an item's as
             * that version of it, a channel's as its readers, who are
             * also its owner */
            json_t *a = after ? json_loads(after, 0, NULL) : NULL;
            int chan = !strcmp(coll, "channels");
            int64_t item = sqlite3_column_int64(st, 3);
            want_before = 0;
            want_after = chan ? json_is_array(json_object_get(a, "readers"))
                              : item_own(r, item, sqlite3_column_int64(st, 8));
            char owner[160] = "", a48[48], b48[48];
            struct item_st *it = chan ? NULL : item_get(r, item, 0);
            json_t *rd = json_object_get(a, "readers");
            for (size_t i = 0; chan && i < json_array_size(rd); i++) {
                size_t n = strlen(owner);
                snprintf(owner + n, sizeof owner - n, "%s%s", i ? "," : "",
                         json_string_value(json_array_get(rd, i)));
            }
            const char *want_owner = chan ? (owner[0] ? owner : NULL) : it ? it->party : "";
            if (!text_same(st, 9, want_owner)) {
                found = differ(r, seq, "events row %" PRId64 ": column owner is %s, the log says %s",
                               seq, col_show(st, 9, a48), show(want_owner, b48));
                json_decref(a);
                break;
            }
            json_t *id = json_object_get(a, "id");
            if (json_is_integer(id)) {
                char key[32];
                snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
                json_object_set_new(a, "_seq", json_integer(seq));
                json_object_set(action[0] == 'm' ? r->messages : r->receipts, key, a);
            }
            json_decref(a);
        } else {
            continue; /* an action this build does not write */
        }
        /* ================================================================ */
        if (sqlite3_column_int(st, 6) != want_before)
            found = differ(r, seq, "events row %" PRId64 ": column before_draft is %d, the log says %d",
                           seq, sqlite3_column_int(st, 6), want_before);
        else if (sqlite3_column_int(st, 7) != want_after)
            found = differ(r, seq, "events row %" PRId64 ": column after_draft is %d, the log says %d",
                           seq, sqlite3_column_int(st, 7), want_after);
    }
    if (!found && s != SQLITE_DONE) rc = db_fail(r->db, r->err, "replay records");
    sqlite3_finalize(st);
    return rc;
}

/* ---- acknowledgements --------------------------------------------------- */

static fm_rc check_acks(struct replay *r)
{
    sqlite3_stmt *st;
    /* each row with the record of its (item, version, party), else with a
     * record of its (item, version) that no row answers: a row whose
     * party was changed is then named by its column */
    fm_rc rc = db_prepare(
        r->db,
        "SELECT a.id, a.item_id, a.version, a.party, a.user, a.at, a.decision, a.comment,"
        " e.seq, e.party, e.user, e.at, e.action, e.after FROM acks a LEFT JOIN events e"
        " ON e.seq = coalesce((SELECT min(seq) FROM events x WHERE x.item_id = a.item_id"
        "  AND x.version = a.version AND x.party = a.party AND x.action IN ('ack', 'dispute')),"
        " (SELECT min(seq) FROM events x WHERE x.item_id = a.item_id AND x.version = a.version"
        "  AND x.action IN ('ack', 'dispute') AND NOT EXISTS (SELECT 1 FROM acks y"
        "  WHERE y.item_id = x.item_id AND y.version = x.version AND y.party = x.party)))"
        " ORDER BY a.id",
        &st, r->err);
    if (rc) return rc;
    int s, found = 0;
    char a[48], b[48];
    while (!found && (s = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), seq = sqlite3_column_int64(st, 8);
        if (sqlite3_column_type(st, 8) == SQLITE_NULL) {
            found = differ(r, 0,
                           "acks row %" PRId64 " (item %lld version %lld party %s): no record of"
                           " this answer in the log",
                           id, (long long)sqlite3_column_int64(st, 1),
                           (long long)sqlite3_column_int64(st, 2), db_text(st, 3));
            break;
        }
        json_t *f = json_loads(db_text(st, 13), 0, NULL);
        const char *comment = jstr(f, "comment");
        struct {
            const char *col;
            int c;
            const char *want;
        } texts[] = {
            {"party", 3, db_text(st, 9)},
            {"user", 4, db_text(st, 10)},
            {"decision", 6, db_text(st, 12)},
            {"comment", 7, comment},
        };
        for (size_t i = 0; !found && i < sizeof texts / sizeof *texts; i++)
            if (!text_same(st, texts[i].c, texts[i].want))
                found = differ(r, seq, "acks row %" PRId64 ": column %s is %s, the log says %s", id,
                               texts[i].col, col_show(st, texts[i].c, a), show(texts[i].want, b));
        if (!found && !int_same(st, 5, 1, sqlite3_column_int64(st, 11)))
            found = differ(r, seq, "acks row %" PRId64 ": column at is %s, the log says %s", id,
                           col_show(st, 5, a), col_show(st, 11, b));
        if (!found && json_integer_value(json_object_get(f, "version")) !=
                          sqlite3_column_int64(st, 2))
            found = differ(r, seq, "acks row %" PRId64 ": column version is %s, the log says %lld",
                           id, col_show(st, 2, a),
                           (long long)json_integer_value(json_object_get(f, "version")));
        json_decref(f);
    }
    if (!found && s != SQLITE_DONE) rc = db_fail(r->db, r->err, "replay acks");
    sqlite3_finalize(st);
    if (rc || found) return rc;
    if ((rc = db_prepare(r->db,
                         "SELECT e.seq, e.item_id, e.version, e.party FROM events e"
                         " WHERE e.action IN ('ack', 'dispute') AND NOT EXISTS (SELECT 1 FROM"
                         " acks a WHERE a.item_id = e.item_id AND a.version = e.version"
                         " AND a.party = e.party) ORDER BY e.seq LIMIT 1",
                         &st, r->err)))
        return rc;
    if ((s = sqlite3_step(st)) == SQLITE_ROW)
        differ(r, sqlite3_column_int64(st, 0),
               "acks: the answer of party %s to item %lld version %lld has no row (removed)",
               db_text(st, 3), (long long)sqlite3_column_int64(st, 1),
               (long long)sqlite3_column_int64(st, 2));
    else if (s != SQLITE_DONE)
        rc = db_fail(r->db, r->err, "replay acks");
    sqlite3_finalize(st);
    return rc;
}

/* ---- conflicts ---------------------------------------------------------- */

/* Where a conflict's Feature keeps each column. */
static const struct {
    const char *col;
    const char *path[4];
} conflict_fields[] = {
    {"kind", {"properties", "kind"}},
    {"a_coll", {"properties", "items", "0", "collection"}},
    {"a_id", {"properties", "items", "0", "id"}},
    {"a_version", {"properties", "items", "0", "version"}},
    {"b_coll", {"properties", "items", "1", "collection"}},
    {"b_id", {"properties", "items", "1", "id"}},
    {"b_version", {"properties", "items", "1", "version"}},
    {"state", {"properties", "state"}},
    {"resolved_by", {"properties", "resolved_by"}},
    {"comment", {"properties", "comment"}},
    {"resolved_at", {"properties", "resolved_at"}},
    {"opened_at", {"properties", "opened_at"}},
    {"revision", {"properties", "revision"}},
    {"geom", {"geometry"}},
    {"severity", {"properties", "severity"}},
    {"t_from", {"properties", "interval", "0"}},
    {"t_to", {"properties", "interval", "1"}},
    {"alt_floor", {"properties", "altitude_band", "0"}},
    {"alt_ceiling", {"properties", "altitude_band", "1"}},
    {"updated_at", {"properties", "updated_at"}},
    {"kind", {"properties", "title"}},
};
#define NCONFLICT_FIELDS (sizeof conflict_fields / sizeof *conflict_fields)

static json_t *jpath(json_t *j, const char *const *path)
{
    for (int i = 0; i < 4 && path[i] && j; i++)
        j = json_is_array(j) ? json_array_get(j, (size_t)atoi(path[i])) : json_object_get(j, path[i]);
    return j;
}

/* A JSON value for a message (cut to 40 bytes). */
static const char *jshow(json_t *v, char buf[48])
{
    if (!v || json_is_null(v)) return "NULL";
    if (json_is_string(v)) return show(json_string_value(v), buf);
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    show(t, buf);
    free(t);
    return buf;
}

/* The first column where the row's Feature and the record's differ;
 * NULL if none does. *got, *want: their values. */
static const char *conflict_field_diff(json_t *row, json_t *log, size_t from, size_t to,
                                       char got[48], char want[48])
{
    for (size_t i = from; i < to; i++) {
        json_t *x = jpath(row, conflict_fields[i].path), *y = jpath(log, conflict_fields[i].path);
        int same = (!x || json_is_null(x)) ? (!y || json_is_null(y)) : y && json_equal(x, y);
        if (!same) {
            char t[48];
            snprintf(got, 48, "%s", jshow(x, t));
            snprintf(want, 48, "%s", jshow(y, t));
            return conflict_fields[i].col;
        }
    }
    return NULL;
}

static fm_rc check_conflicts(struct replay *r)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(
        r->db,
        "SELECT c.id, c.a_id, c.a_version, c.b_id, c.b_version, c.state, c.vis_party, c.revision,"
        " " CONFLICT_FEATURE_SQL ", e.seq, e.after, e.owner, e.after_draft,"
        /* the geometry drawn and searched is the one the text tells (to
         * the 15 decimals geo_to_geojson prints) */
        " CASE WHEN c.geom IS NULL THEN c.geojson IS NULL ELSE c.geojson IS NOT NULL AND"
        "  coalesce(HausdorffDistance(GeomFromGeoJSON(c.geojson), c.geom) < 1e-9, 0) END"
        " FROM conflicts c"
        " LEFT JOIN events e ON e.seq = (SELECT max(seq) FROM events x WHERE x.item_id = c.id"
        " AND x.collection = 'conflicts') ORDER BY c.id",
        &st, r->err);
    if (rc) return rc;
    int s, found = 0;
    char a[48], b[48];
    while (!found && (s = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), seq = sqlite3_column_int64(st, 9);
        if (sqlite3_column_type(st, 9) == SQLITE_NULL) {
            found = differ(r, 0, "conflicts row %" PRId64 ": no record of it in the log", id);
            break;
        }
        const char *text = db_text(st, 8), *logged = db_text(st, 10);
        json_t *row = json_loads(text, 0, NULL), *log = json_loads(logged, 0, NULL);
        json_t *items = json_object_get(json_object_get(log, "properties"), "items");
        int64_t la = json_integer_value(json_object_get(json_array_get(items, 0), "version"));
        int64_t lb = json_integer_value(json_object_get(json_array_get(items, 1), "version"));
        int64_t a_id = sqlite3_column_int64(st, 1), b_id = sqlite3_column_int64(st, 3);
        const char *col;
        if (!sqlite3_column_int(st, 13))
            found = differ(r, seq, "conflicts row %" PRId64 ": column geom is not the geometry"
                           " its Feature tells", id);
        else if (sqlite3_column_int64(st, 2) == la && sqlite3_column_int64(st, 4) == lb) {
            /* as its last record left it */
            const char *vis = sqlite3_column_int(st, 12) ? col_or_null(st, 11) : NULL;
            if (strcmp(text, logged) != 0 &&
                (col = conflict_field_diff(row, log, 0, NCONFLICT_FIELDS, a, b)))
                found = differ(r, seq, "conflicts row %" PRId64 ": column %s is %s, the log says %s",
                               id, col, a, b);
            else if (strcmp(text, logged) != 0)
                found = differ(r, seq, "conflicts row %" PRId64 ": differs from its last record", id);
            else if (!text_same(st, 6, vis))
                found = differ(r, seq, "conflicts row %" PRId64 ": column vis_party is %s, the log says %s",
                               id, col_show(st, 6, a), show(vis, b));
        } else {
            /* refreshed in place since its last record: still the same
             * open clash, of the items' current versions */
            struct item_st *ia = item_get(r, a_id, 0), *ib = item_get(r, b_id, 0);
            int64_t cur_a = ia ? ia->nver : 0, cur_b = ib ? ib->nver : 0;
            int own_a = item_own(r, a_id, cur_a), own_b = item_own(r, b_id, cur_b);
            const char *vis = own_a ? ia->party : own_b ? ib->party : NULL;
            const char *lstate = json_string_value(jpath(log, conflict_fields[7].path));
            if (!lstate || strcmp(lstate, "open") != 0)
                /* only an open conflict is refreshed without a record */
                found = differ(r, seq, "conflicts row %" PRId64 ": column %s is %lld, the log says %lld",
                               id, sqlite3_column_int64(st, 2) != la ? "a_version" : "b_version",
                               (long long)sqlite3_column_int64(st, sqlite3_column_int64(st, 2) != la ? 2 : 4),
                               (long long)(sqlite3_column_int64(st, 2) != la ? la : lb));
            else if ((col = conflict_field_diff(row, log, 0, 3, a, b)) ||
                (col = conflict_field_diff(row, log, 4, 6, a, b)) ||
                (col = conflict_field_diff(row, log, 7, 12, a, b)))
                found = differ(r, seq, "conflicts row %" PRId64 ": column %s is %s, the log says %s",
                               id, col, a, b);
            else if (strcmp(db_text(st, 5), "open") != 0)
                found = differ(r, seq, "conflicts row %" PRId64 ": column state is %s, the log says open",
                               id, col_show(st, 5, a));
            else if (sqlite3_column_int64(st, 2) != cur_a)
                found = differ(r, seq,
                               "conflicts row %" PRId64 ": column a_version is %lld, the log says %lld"
                               " (item %lld's current version)",
                               id, (long long)sqlite3_column_int64(st, 2), (long long)cur_a,
                               (long long)a_id);
            else if (sqlite3_column_int64(st, 4) != cur_b)
                found = differ(r, seq,
                               "conflicts row %" PRId64 ": column b_version is %lld, the log says %lld"
                               " (item %lld's current version)",
                               id, (long long)sqlite3_column_int64(st, 4), (long long)cur_b,
                               (long long)b_id);
            else if (sqlite3_column_int64(st, 7) <=
                     json_integer_value(jpath(log, conflict_fields[12].path)))
                found = differ(r, seq,
                               "conflicts row %" PRId64 ": column revision is %lld, the log says"
                               " more than %lld",
                               id, (long long)sqlite3_column_int64(st, 7),
                               (long long)json_integer_value(jpath(log, conflict_fields[12].path)));
            else if (!text_same(st, 6, vis))
                found = differ(r, seq, "conflicts row %" PRId64 ": column vis_party is %s, the log says %s",
                               id, col_show(st, 6, a), show(vis, b));
        }
        json_decref(row);
        json_decref(log);
    }
    if (!found && s != SQLITE_DONE) rc = db_fail(r->db, r->err, "replay conflicts");
    sqlite3_finalize(st);
    if (rc || found) return rc;
    if ((rc = db_prepare(r->db,
                         "SELECT e.seq, e.item_id FROM events e WHERE e.collection = 'conflicts'"
                         " AND NOT EXISTS (SELECT 1 FROM conflicts c WHERE c.id = e.item_id)"
                         " ORDER BY e.seq LIMIT 1",
                         &st, r->err)))
        return rc;
    if ((s = sqlite3_step(st)) == SQLITE_ROW)
        differ(r, sqlite3_column_int64(st, 0), "conflicts row %lld: missing (the log opens it)",
               (long long)sqlite3_column_int64(st, 1));
    else if (s != SQLITE_DONE)
        rc = db_fail(r->db, r->err, "replay conflicts");
    sqlite3_finalize(st);
    return rc;
}

/* ---- messages and receipts ------------------------------------------------ */

struct msg_check {
    struct replay *r;
    const char *table;
    json_t *map; /* id -> the record's after; each row found is taken out */
    int found;
};

static int msg_row(void *ctx, const struct store_message *m)
{
    struct msg_check *c = ctx;
    char key[32], a[48], b[48];
    snprintf(key, sizeof key, "%" PRId64, m->id);
    json_t *logged = json_object_get(c->map, key);
    if (!logged) {
        c->found = differ(c->r, 0, "%s row %" PRId64 ": no record of it in the log", c->table,
                          m->id);
        return 1;
    }
    int64_t seq = json_integer_value(json_object_get(logged, "_seq"));
    json_t *row = message_json(m);
    const char *k;
    json_t *want;
    json_object_foreach(logged, k, want)
    {
        if (!strcmp(k, "_seq")) continue;
        json_t *got = json_object_get(row, k);
        if (got && json_equal(got, want)) continue;
        char *gs = got ? json_dumps(got, JSON_ENCODE_ANY) : NULL;
        char *ws = json_dumps(want, JSON_ENCODE_ANY);
        c->found = differ(c->r, seq, "%s row %" PRId64 ": column %s is %s, the log says %s",
                          c->table, m->id, k, show(gs, a), show(ws, b));
        free(gs);
        free(ws);
        break;
    }
    if (!c->found && json_object_size(row) + 1 != json_object_size(logged))
        c->found = differ(c->r, seq, "%s row %" PRId64 ": differs from its record", c->table,
                          m->id);
    json_decref(row);
    json_object_del(c->map, key);
    return c->found;
}

static fm_rc check_messages(struct replay *r, const char *table, json_t *map, int receipts)
{
    const struct store_ops *ops = store_of(r->db);
    struct msg_check c = {.r = r, .table = table, .map = map};
    fm_rc rc = receipts ? ops->receipts_each(r->db, NULL, msg_row, &c, r->err)
                        : ops->messages_each(r->db, NULL, 0, msg_row, &c, r->err);
    if (rc || c.found) return rc;
    const char *k;
    json_t *rec;
    json_object_foreach(map, k, rec)
    {
        differ(r, json_integer_value(json_object_get(rec, "_seq")),
               "%s row %s: missing (the log adds it)", table, k);
        break;
    }
    return FM_OK;
}

struct ruling_check {
    struct replay *r;
    int found;
};

static int ruling_row(void *ctx, const struct store_ruling *row)
{
    struct ruling_check *c = ctx;
    char key[48], a[48], b[48];
    snprintf(key, sizeof key, "%" PRId64 "/%" PRId64, row->item, row->version);
    json_t *logged = json_object_get(c->r->rulings, key);
    if (!logged) {
        c->found = differ(c->r, 0, "rulings row %" PRId64 " (item %" PRId64 " version %" PRId64
                          "): no record of it in the log", row->id, row->item, row->version);
        return 1;
    }
    int64_t seq = json_integer_value(json_object_get(logged, "_seq"));
    json_t *j = ruling_json(jstr(logged, "collection") ? jstr(logged, "collection") : "", row,
                            jstr(logged, "status") ? jstr(logged, "status") : "");
    const char *k;
    json_t *want;
    json_object_foreach(logged, k, want)
    {
        if (!strcmp(k, "_seq") || !strcmp(k, "signature")) continue; /* keys.c checks it */
        json_t *got = json_object_get(j, k);
        if (got && json_equal(got, want)) continue;
        char *gs = got ? json_dumps(got, JSON_ENCODE_ANY) : NULL;
        char *ws = json_dumps(want, JSON_ENCODE_ANY);
        c->found = differ(c->r, seq, "rulings row %" PRId64 ": column %s is %s, the log says %s",
                          row->id, k, show(gs, a), show(ws, b));
        free(gs);
        free(ws);
        break;
    }
    json_decref(j);
    json_object_del(c->r->rulings, key);
    return c->found;
}

static fm_rc check_rulings(struct replay *r)
{
    struct ruling_check c = {.r = r};
    fm_rc rc = store_of(r->db)->rulings_each(r->db, 0, ruling_row, &c, r->err);
    if (rc || c.found) return rc;
    const char *k;
    json_t *rec;
    json_object_foreach(r->rulings, k, rec)
    {
        differ(r, json_integer_value(json_object_get(rec, "_seq")),
               "rulings row of item/version %s: missing (the log rules)", k);
        break;
    }
    return FM_OK;
}

/* ---- cosigned heads (heads.c) ---------------------------------------------- */

static int head_row(void *ctx, const struct store_head *h)
{
    struct ruling_check *c = ctx;
    char key[96], a[48], b[48];
    snprintf(key, sizeof key, "%s/%" PRId64, h->user, h->seq);
    json_t *logged = json_object_get(c->r->heads, key);
    if (!logged) {
        c->found = differ(c->r, 0, "cosigned_heads row %" PRId64 " (%s): no record of it in the log",
                          h->id, key);
        return 1;
    }
    json_t *sg = json_object_get(logged, "signature");
    const char *col = strcmp(h->hash, jstr(logged, "hash") ? jstr(logged, "hash") : "") ? "hash"
                      : strcmp(h->party, jstr(logged, "party") ? jstr(logged, "party") : "") ? "party"
                      : strcmp(h->key, jstr(sg, "key") ? jstr(sg, "key") : "") ? "key"
                      : strcmp(h->signature, jstr(sg, "value") ? jstr(sg, "value") : "") ? "signature"
                      : h->at != json_integer_value(json_object_get(sg, "at")) ? "at" : NULL;
    if (col)
        c->found = differ(c->r, json_integer_value(json_object_get(logged, "_seq")),
                          "cosigned_heads row %" PRId64 ": column %s differs from its record (%s, %s)",
                          h->id, col, show(h->hash, a), show(jstr(logged, "hash"), b));
    json_object_del(c->r->heads, key);
    return c->found;
}

static fm_rc check_heads(struct replay *r)
{
    struct ruling_check c = {.r = r};
    fm_rc rc = store_of(r->db)->heads_each(r->db, 0, head_row, &c, r->err);
    if (rc || c.found) return rc;
    const char *k;
    json_t *rec;
    json_object_foreach(r->heads, k, rec)
    {
        differ(r, json_integer_value(json_object_get(rec, "_seq")),
               "cosigned_heads row of %s: missing (the log cosigns)", k);
        break;
    }
    return FM_OK;
}

/* ---- parties and users -------------------------------------------------- */

/* Compares a table's rows with map (key -> record), column by column:
 * cols[i] is both the column and the record's member. */
static fm_rc check_accounts(struct replay *r, const char *table, const char *sql, json_t *map,
                            const char *const *cols, int ncols)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(r->db, sql, &st, r->err);
    if (rc) return rc;
    json_t *seen = json_object();
    int s, found = 0;
    char a[48], b[48];
    while (!found && (s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = db_text(st, 0);
        json_t *rec = json_object_get(map, key);
        if (!rec) {
            found = differ(r, 0, "%s row %s: no record of it in the log", table, show(key, a));
            break;
        }
        json_object_set_new(seen, key, json_true());
        int64_t seq = json_integer_value(json_object_get(rec, "_seq"));
        for (int i = 1; !found && i < ncols; i++) {
            json_t *want = json_object_get(rec, cols[i]);
            char wbuf[48];
            const char *w;
            int same;
            if (!strcmp(cols[i], "created_at")) {
                char at[FM_TIME_STAMP_LEN];
                fm_time_format(sqlite3_column_int64(st, i), at);
                same = sqlite3_column_type(st, i) == SQLITE_INTEGER && json_is_string(want) &&
                       !strcmp(at, json_string_value(want));
                w = jshow(want, wbuf);
            } else if (json_is_integer(want)) {
                same = int_same(st, i, 1, json_integer_value(want));
                w = jshow(want, wbuf);
            } else {
                same = text_same(st, i, json_string_value(want));
                w = jshow(want, wbuf);
            }
            if (!same)
                found = differ(r, seq, "%s row %s: column %s is %s, the log says %s", table,
                               show(key, b), cols[i], col_show(st, i, a), w);
        }
    }
    if (!found && s != SQLITE_DONE) rc = db_fail(r->db, r->err, "replay accounts");
    sqlite3_finalize(st);
    if (!rc && !found) {
        const char *key;
        json_t *rec;
        json_object_foreach(map, key, rec)
        {
            if (json_object_get(seen, key)) continue;
            differ(r, json_integer_value(json_object_get(rec, "_seq")),
                   "%s row %s: missing (the log adds it)", table, show(key, a));
            break;
        }
    }
    json_decref(seen);
    return rc;
}

/* ---- users' keys and the answers' signatures ------------------------------ */

struct key_cmp {
    struct replay *r;
    json_t *seen;
    int found;
};

static int key_row(void *ctx, const struct store_key *k)
{
    struct key_cmp *c = ctx;
    struct replay *r = c->r;
    char a[48], b[48];
    json_t *rec = json_object_get(r->keys, k->fingerprint);
    if (!rec) {
        c->found = differ(r, 0, "user_keys row %s: no record of it in the log",
                          show(k->fingerprint, a));
        return 1;
    }
    json_object_set_new(c->seen, k->fingerprint, json_true());
    int64_t seq = json_integer_value(json_object_get(rec, "_seq"));
    char at[FM_TIME_STAMP_LEN];
    fm_time_format(k->created_at, at);
    struct {
        const char *col, *have, *want;
    } texts[] = {
        {"user", k->user, jstr(rec, "user")},
        {"party", k->party, jstr(rec, "party")},
        {"public_key", k->public_key, jstr(rec, "public_key")},
        {"created_from", k->created_from, jstr(rec, "created_from")},
        {"created_at", at, jstr(rec, "created_at")},
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        if (!texts[i].want || strcmp(texts[i].have, texts[i].want) != 0) {
            c->found = differ(r, seq, "user_keys row %s: column %s is %s, the log says %s",
                              show(k->fingerprint, b), texts[i].col, show(texts[i].have, a),
                              show(texts[i].want, b));
            return 1;
        }
    int64_t want = json_integer_value(json_object_get(rec, "revoked_at"));
    if (k->revoked_at != want) {
        c->found = differ(r, seq,
                          "user_keys row %s: column revoked_at is %" PRId64 ", the log says %" PRId64,
                          show(k->fingerprint, b), (int64_t)k->revoked_at, want);
        return 1;
    }
    return 0;
}

static fm_rc check_keys(struct replay *r)
{
    struct key_cmp c = {r, json_object(), 0};
    fm_rc rc = store_of(r->db)->keys_each(r->db, NULL, key_row, &c, r->err);
    if (!rc && !c.found) {
        const char *fp;
        json_t *rec;
        char a[48];
        json_object_foreach(r->keys, fp, rec)
        {
            if (json_object_get(c.seen, fp)) continue;
            differ(r, json_integer_value(json_object_get(rec, "_seq")),
                   "user_keys row %s: missing (the log adds it)", show(fp, a));
            break;
        }
    }
    json_decref(c.seen);
    return rc;
}

/* Every signed answer against the keys the log itself registers (keys.c):
 * a signature proves what its key's holder said, whoever keeps the file. */
static fm_rc check_signatures(struct replay *r)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(r->db,
                          "SELECT seq, user, party, action, collection, item_id, version, after"
                          " FROM events WHERE action IN " REPLAY_VERSION_ACTIONS
                          " OR action IN ('key_add', 'key_revoke', 'ack', 'dispute', 'ruling',"
                          " 'cosign')"
                          " ORDER BY seq",
                          &st, r->err);
    if (rc) return rc;
    struct sig_replay *sr = sig_replay_new();
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct sig_record rec = {sqlite3_column_int64(st, 0), db_text(st, 1), db_text(st, 2),
                                 db_text(st, 3), col_or_null(st, 4), sqlite3_column_int64(st, 5),
                                 sqlite3_column_int64(st, 6), col_or_null(st, 7)};
        if (sig_replay_record(sr, &rec, r->err)) {
            *r->bad = rec.seq;
            snprintf(r->err->pointer, sizeof r->err->pointer, "signature of record %" PRId64,
                     rec.seq);
            break;
        }
    }
    if (!*r->bad && s != SQLITE_DONE) rc = db_fail(r->db, r->err, "replay signatures");
    sqlite3_finalize(st);
    sig_replay_free(sr);
    return rc;
}

/* ---- caches ------------------------------------------------------------- */

static int table_exists(struct replay *r, const char *name)
{
    sqlite3_stmt *st;
    if (db_prepare(r->db, "SELECT 1 FROM sqlite_master WHERE name = ?", &st, NULL)) return 0;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return yes;
}

/* Runs sql, whose rows are (key, found, ok1, ok2, ...): the first row with a 0
 * ok names its column of table; a NULL found (no such row) names the row. */
static fm_rc cache_rows(struct replay *r, const char *sql, const char *table, const char *what,
                        const char *const *cols, int ncols, const char *missing)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(r->db, sql, &st, r->err);
    if (rc) return rc;
    int s, found = 0;
    while (!found && (s = sqlite3_step(st)) == SQLITE_ROW) {
        long long key = sqlite3_column_int64(st, 0);
        if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
            found = differ(r, 0, "%s row %s %lld: %s (a cache, checked, not rebuilt)", table, what,
                           key, missing);
            break;
        }
        for (int i = 0; !found && i < ncols; i++)
            if (sqlite3_column_int(st, 2 + i) != 1)
                found = differ(r, 0,
                               "%s row %s %lld: column %s differs from item_versions (a cache,"
                               " checked, not rebuilt)",
                               table, what, key, cols[i]);
    }
    if (!found && s != SQLITE_DONE) rc = db_fail(r->db, r->err, "replay caches");
    sqlite3_finalize(st);
    return rc;
}

static fm_rc check_caches(struct replay *r)
{
    static const struct {
        const char *coll, *category, *severity, *width;
    } pics[] = {
        /* as migration 6 (sqlite/db.c) fills them */
        {"zones", "NULL", "NULL", "NULL"},
        {"incidents", "json_extract(v.feature, '$.properties.category')",
         "json_extract(v.feature, '$.properties.severity')", "NULL"},
        {"movements", "NULL", "NULL", "json_extract(v.feature, '$.properties.corridor_width_m')"},
    };
    static const char *const cols[] = {"item_id",  "party",    "status", "type", "title",
                                       "category", "severity", "width",  "wkb",  "box"};
    fm_rc rc = FM_OK;
    char sql[2048], table[32];
    for (size_t i = 0; !rc && !*r->bad && i < sizeof pics / sizeof *pics; i++) {
        snprintf(table, sizeof table, "pic_%s", pics[i].coll);
        if (!table_exists(r, table)) continue;
        /* each row is a current, not withdrawn version's, with its columns */
        snprintf(sql, sizeof sql,
                 "SELECT p.vid, v.vid, p.item_id IS v.item_id, p.party IS v.party,"
                 " p.status IS v.status, p.type IS v.type, p.title IS v.title,"
                 " p.category IS %s, p.severity IS %s, p.width IS %s,"
                 " p.wkb IS AsBinary(v.geom), p.xmin <= MbrMinX(v.geom) AND p.xmax >= MbrMaxX(v.geom)"
                 " AND p.ymin <= MbrMinY(v.geom) AND p.ymax >= MbrMaxY(v.geom)"
                 " FROM %s p LEFT JOIN item_versions v ON v.vid = p.vid AND v.collection = '%s'"
                 " AND v.sys_to IS NULL AND v.status <> 'withdrawn' ORDER BY p.vid",
                 pics[i].category, pics[i].severity, pics[i].width, table, pics[i].coll);
        if ((rc = cache_rows(r, sql, table, "vid", cols, 10,
                             "holds no current version of the collection")))
            break;
        if (*r->bad) break;
        /* and each such version has its row */
        snprintf(sql, sizeof sql,
                 "SELECT v.vid, NULL FROM item_versions v WHERE v.collection = '%s'"
                 " AND v.sys_to IS NULL AND v.status <> 'withdrawn' AND NOT EXISTS"
                 " (SELECT 1 FROM %s p WHERE p.vid = v.vid) ORDER BY v.vid LIMIT 1",
                 pics[i].coll, table);
        rc = cache_rows(r, sql, table, "vid", NULL, 0,
                        "missing for this current version (it would not be drawn or checked"
                        " for conflicts)");
    }
    if (rc || *r->bad) return rc;
    static const char *const reach_cols[] = {"reach_m"};
    if (table_exists(r, "conflict_reach") &&
        ((rc = cache_rows(r,
                          "SELECT v.item_id, c.item_id, c.reach_m IS coalesce(json_extract(v.feature,"
                          " '$.properties.corridor_width_m'), 0) / 2.0 FROM item_versions v"
                          " LEFT JOIN conflict_reach c ON c.item_id = v.item_id"
                          " WHERE v.collection = 'movements' AND v.sys_to IS NULL"
                          " AND v.status NOT IN " ENDED_STATUSES_SQL " ORDER BY v.item_id",
                          "conflict_reach", "item", reach_cols, 1, "missing for this live movement")) ||
         *r->bad))
        return rc;
    /* the spatial indexes: every geometry's box, within the entry's */
    static const char *const box_cols[] = {"box"};
    if (table_exists(r, "idx_item_versions_geom") &&
        ((rc = cache_rows(r,
                          "SELECT v.vid, i.pkid, i.xmin <= MbrMinX(v.geom) AND i.xmax >= MbrMaxX(v.geom)"
                          " AND i.ymin <= MbrMinY(v.geom) AND i.ymax >= MbrMaxY(v.geom)"
                          " FROM item_versions v LEFT JOIN idx_item_versions_geom i ON i.pkid = v.vid"
                          " WHERE v.geom IS NOT NULL ORDER BY v.vid",
                          "idx_item_versions_geom", "vid", box_cols, 1, "missing")) ||
         *r->bad))
        return rc;
    if (table_exists(r, "idx_conflicts_geom"))
        rc = cache_rows(r,
                        "SELECT c.id, i.pkid, i.xmin <= MbrMinX(c.geom) AND i.xmax >= MbrMaxX(c.geom)"
                        " AND i.ymin <= MbrMinY(c.geom) AND i.ymax >= MbrMaxY(c.geom)"
                        " FROM conflicts c LEFT JOIN idx_conflicts_geom i ON i.pkid = c.id"
                        " WHERE c.geom IS NOT NULL ORDER BY c.id",
                        "idx_conflicts_geom", "conflict", box_cols, 1, "missing");
    return rc;
}

/* ---- the whole replay --------------------------------------------------- */

fm_rc replay_check(struct data_db *db, int64_t last, int64_t *bad, struct fm_err *err)
{
    if (strcmp(store_of(db)->name, "sqlite") != 0) {
        /* its SQL is SQLite's still (issue 18): the chain, the heads and
         * the versions are checked through the store, the tables not */
        fm_log(FM_LOG_WARN, "verify: the tables are replayed against the log on SQLite only"
                            " yet; on %s the chain and the versions are checked",
               store_of(db)->name);
        return FM_OK;
    }
    struct replay r = {.db = db, .err = err, .last = last, .bad = bad};
    r.parties = json_object();
    r.users = json_object();
    r.keys = json_object();
    r.messages = json_object();
    r.receipts = json_object();
    r.rulings = json_object();
    r.heads = json_object();
    static const char *const party_cols[] = {"code", "name", "colour", "kind"};
    static const char *const user_cols[] = {"name", "id", "party", "role", "created_at"};
    fm_rc rc;
    if ((rc = check_versions(&r)) || *bad) goto done;
    if ((rc = check_items(&r)) || *bad) goto done;
    if ((rc = check_flags(&r)) || *bad) goto done;
    if ((rc = check_acks(&r)) || *bad) goto done;
    if ((rc = check_conflicts(&r)) || *bad) goto done;
    if ((rc = check_messages(&r, "messages", r.messages, 0)) || *bad) goto done;
    if ((rc = check_messages(&r, "message_receipts", r.receipts, 1)) || *bad) goto done;
    if ((rc = check_rulings(&r)) || *bad) goto done;
    if ((rc = check_heads(&r)) || *bad) goto done;
    if ((rc = check_accounts(&r, "parties", "SELECT code, name, colour, kind FROM parties ORDER BY code",
                             r.parties, party_cols, 4)) ||
        *bad)
        goto done;
    if ((rc = check_accounts(&r, "users",
                             "SELECT name, id, party, role, created_at FROM users ORDER BY id",
                             r.users, user_cols, 5)) ||
        *bad)
        goto done;
    if ((rc = check_keys(&r)) || *bad) goto done;
    if ((rc = check_signatures(&r)) || *bad) goto done;
    /* lead times and deadlines (rules.c) */
    if ((rc = deadlines_replay_check(db, last, bad, err)) || *bad) goto done;
    rc = check_caches(&r);
done:
    for (size_t i = 0; i < r.cap; i++) free(r.slot[i].own);
    free(r.slot);
    json_decref(r.parties);
    json_decref(r.users);
    json_decref(r.keys);
    json_decref(r.messages);
    json_decref(r.receipts);
    json_decref(r.rulings);
    json_decref(r.heads);
    return rc;
}
