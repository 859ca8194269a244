/* test_backends.c - the store interface (data/store.h) on each backend:
 * the same steps through the rules above the store (users.c, events.c,
 * items.c) on SQLite and, when FM_PG_URL names a PostgreSQL database
 * (tests/e2e/store_pg.sh starts one of its own), on PostgreSQL/PostGIS;
 * then the two are compared: the same event log, byte for byte, from the
 * same appends, and the same answers about geometries.
 *
 * Only the slices that have moved under the store are exercised on
 * PostgreSQL (accounts, events, items and versions); the rest of data/
 * still speaks SQLite, which is why data_open refuses a URL. */
#include "check.h"

#include "../../data/internal.h"
#include "../../data/pg/pg.h"
#include "../../data/store.h"
#include "../../server/cql2.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What each backend answered, to compare. */
struct answers {
    char reason_bowtie[200], reason_ok[200];
    int readable_garbage;
    char *log; /* the export of the fixed records */
    char pic[2048];   /* the picture's rows, as text */
    char query[4096]; /* the queries' answers, as text */
    char conflicts[8192]; /* the conflicts found, as text */
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

static const struct data_viewer anna = {1, "anna", "A", DATA_ROLE_LIAISON};
static const struct data_viewer bert = {2, "bert", "B", DATA_ROLE_LIAISON};

static int count_cb(void *ctx, const struct store_event *e)
{
    (void)e;
    ++*(int *)ctx;
    return 0;
}

static int latest_cb(void *ctx, const struct store_event *e)
{
    *(int64_t *)ctx = e->version;
    return 0;
}

/* Records with fixed times and texts: both backends must keep and give
 * back exactly these (NULLs, owner-only flags, UTF-8 of several scripts). */
static void fixed_records(struct data_db *db, const char *name)
{
    const struct store_ops *ops = store_of(db);
    struct fm_err err;
    fm_err_clear(&err);
    CHECK(ops->begin(db, &err) == FM_OK, "%s: begin: %s", name, err.msg);
    CHECK(events_append_ex(db, &anna, "create", "zones", 99, 1, NULL,
                           "{\"title\":\"Range North\"}", "A", 0, 1, 1764800000, &err) == FM_OK,
          "%s: a draft's record: %s", name, err.msg);
    CHECK(events_append_ex(db, &anna, "patch", "zones", 99, 2, "{\"title\":\"Range North\"}",
                           "{\"title\":\"\xd7\x98\xd7\x95\xd7\x95\xd7\x97 \xd8\xb5\\n\\\"x\\\"\"}",
                           "A", 1, 0, 1764800060, &err) == FM_OK,
          "%s: its proposal, Hebrew and Arabic: %s", name, err.msg);
    CHECK(events_append_ex(db, &bert, "party_add", NULL, 0, 0, NULL, NULL, NULL, 0, 0,
                           1764800120, &err) == FM_OK,
          "%s: a record with NULLs: %s", name, err.msg);
    CHECK(ops->commit(db, &err) == FM_OK, "%s: commit: %s", name, err.msg);

    /* the other side sees neither the draft nor the draft as the before */
    json_t *seen = NULL;
    int64_t scanned = 0;
    CHECK(data_events_scan(db, &bert, 0, 100, &seen, &scanned, &err) == FM_OK &&
              json_array_size(seen) == 2 && scanned == 3 &&
              json_is_null(json_object_get(json_array_get(seen, 0), "before")),
          "%s: B sees 2 of 3 records, without the draft before (%zu, scanned %lld)", name,
          json_array_size(seen), (long long)scanned);
    json_decref(seen);
    CHECK(data_events_scan(db, &anna, 1, 1, &seen, &scanned, &err) == FM_OK &&
              json_array_size(seen) == 1 && scanned == 2 &&
              json_is_object(json_object_get(json_array_get(seen, 0), "before")),
          "%s: A sees its own draft before, one record after 1", name);
    json_decref(seen);
    int n = 0;
    CHECK(ops->events_each(db, 1, -1, count_cb, &n, &err) == FM_OK && n == 2,
          "%s: every record after 1: %d", name, n);
    int64_t latest = 0;
    CHECK(ops->events_latest(db, "zones", 1764800059, latest_cb, &latest, &err) == FM_OK &&
              latest == 1 &&
              ops->events_latest(db, "zones", 1764800060, latest_cb, &latest, &err) == FM_OK &&
              latest == 2,
          "%s: an item's latest record as of a time: version %lld", name, (long long)latest);
}

static void export_and_verify(struct data_db *db, const char *name, struct answers *a)
{
    struct fm_err err;
    fm_err_clear(&err);
    char path[] = "/tmp/test_backends_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    int64_t count = 0, bad = 0;
    CHECK(data_events_export(db, f, &count, &err) == FM_OK && count == 3, "%s: export: %s", name,
          err.msg);
    fclose(f);
    a->log = slurp(path);
    CHECK(data_events_verify_file(path, &bad, &count, &err) == FM_OK && bad == 0 && count == 3,
          "%s: the export verifies offline: %s", name, err.msg);
    CHECK(data_events_verify_against(db, path, &bad, &count, &err) == FM_OK && bad == 0,
          "%s: the export verifies against the database: %s", name, err.msg);
    unlink(path);
}

static int revoked_cb(void *ctx, const struct store_key *k)
{
    *(fm_time *)ctx = k->revoked_at;
    return 0;
}

static void accounts(struct data_db *db, const char *name)
{
    struct fm_err err;
    fm_err_clear(&err);
    CHECK(data_party_add(db, "A", "Side A", "#112233", "side", &err) == FM_OK, "%s: party: %s",
          name, err.msg);
    CHECK(data_party_add(db, "B", "Side B", "#332211", "side", &err) == FM_OK, "%s: party B",
          name);
    CHECK(data_party_add(db, "X", "X", "#000000", "nonsense", &err) == FM_EINVAL,
          "%s: a party of no kind is refused", name);
    CHECK(data_user_add(db, "anna", "A", DATA_ROLE_LIAISON, "secret-anna", &err) == FM_OK,
          "%s: user: %s", name, err.msg);
    fm_rc rc = data_user_add(db, "anna", "A", DATA_ROLE_ADMIN, "xxxx", &err);
    CHECK(rc == FM_ECONFLICT, "%s: a taken name is a conflict: %s %s", name, fm_rc_str(rc),
          err.msg);
    rc = data_user_add(db, "zed", "Q", DATA_ROLE_LIAISON, "xxxx", &err);
    CHECK(rc == FM_EINVAL && strstr(err.msg, "no party Q"), "%s: a user of no party: %s %s", name,
          fm_rc_str(rc), err.msg);
    struct data_viewer v;
    CHECK(data_user_check(db, "anna", "secret-anna", &v, &err) == FM_OK &&
              !strcmp(v.party, "A") && v.role == DATA_ROLE_LIAISON,
          "%s: the password checks: %s", name, err.msg);
    CHECK(data_user_check(db, "anna", "wrong", &v, &err) != FM_OK, "%s: a wrong one does not",
          name);
    char sid[DATA_SECRET_LEN];
    struct data_session_policy pol = {3600, 86400};
    CHECK(data_user_check(db, "anna", "secret-anna", &v, &err) == FM_OK &&
              data_session_new(db, &v, sid, &err) == FM_OK,
          "%s: a session: %s", name, err.msg);
    struct data_viewer got;
    CHECK(data_session_get(db, sid, &pol, &got, &err) == FM_OK && !strcmp(got.user, "anna"),
          "%s: the session is anna's", name);
    CHECK(data_session_end(db, sid, &err) == FM_OK &&
              data_session_get(db, sid, &pol, &got, &err) == FM_EUNAUTH,
          "%s: an ended session is gone", name);
    char tok[DATA_TOKEN_LEN];
    CHECK(data_token_new(db, "anna", tok, &err) == FM_OK &&
              data_token_get(db, tok, &got, &err) == FM_OK && !strcmp(got.user, "anna"),
          "%s: a token: %s", name, err.msg);
    long users = 0;
    CHECK(data_user_count(db, &users, &err) == FM_OK && users == 1, "%s: one user (%ld)", name,
          users);


    /* a transaction rolled back leaves nothing */
    const struct store_ops *ops = store_of(db);
    struct store_party p = {"T", "Temp", "#000000", "side"};
    CHECK(ops->begin(db, &err) == FM_OK && ops->party_put(db, &p, &err) == FM_OK, "%s: in a tx",
          name);
    ops->rollback(db);
    CHECK(ops->party_get(db, "T", (store_party_cb)count_cb, &(int){0}, &err) == FM_ENOTFOUND,
          "%s: rolled back, the party is not there", name);

    /* a part undone alone inside a transaction (an imported feature) */
    struct store_party p2 = {"U", "Undone", "#000000", "side"}, p3 = {"K", "Kept", "#000000", "side"};
    CHECK(ops->begin(db, &err) == FM_OK && ops->savepoint(db, &err) == FM_OK &&
              ops->party_put(db, &p2, &err) == FM_OK && ops->savepoint_undo(db, &err) == FM_OK &&
              ops->savepoint(db, &err) == FM_OK && ops->party_put(db, &p3, &err) == FM_OK &&
              ops->savepoint_release(db, &err) == FM_OK && ops->commit(db, &err) == FM_OK,
          "%s: savepoints: %s", name, err.msg);
    CHECK(ops->party_get(db, "U", (store_party_cb)count_cb, &(int){0}, &err) == FM_ENOTFOUND &&
              ops->party_get(db, "K", (store_party_cb)count_cb, &(int){0}, &err) == FM_OK,
          "%s: the undone part is gone, the kept one stays", name);

    /* who imports for a party: its first liaison */
    CHECK(data_user_add(db, "sup", "A", DATA_ROLE_SUPERVISOR, "xxxx", &err) == FM_OK &&
              data_import_viewer(db, "A", NULL, &got, &err) == FM_OK && !strcmp(got.user, "anna"),
          "%s: the importer of A is anna: %s", name, err.msg);
    CHECK(data_import_viewer(db, "B", NULL, &got, &err) == FM_ENOTFOUND,
          "%s: B has nobody to import as", name);
    CHECK(data_import_viewer(db, "B", "sup", &got, &err) == FM_EINVAL &&
              strstr(err.msg, "belongs to party A"),
          "%s: a user of another party is refused: %s", name, err.msg);

    /* users' public keys: in order, one of a fingerprint, revoked once */
    struct store_key k1 = {"f1", "anna", "A", "cHViMQ==", "127.0.0.1", 100, 0},
                     k2 = {"f2", "anna", "A", "cHViMg==", "127.0.0.1", 200, 0};
    int nkeys = 0;
    CHECK(ops->key_insert(db, &k1, &err) == FM_OK && ops->key_insert(db, &k2, &err) == FM_OK &&
              ops->key_insert(db, &k1, &err) == FM_ECONFLICT,
          "%s: keys, a fingerprint once: %s", name, err.msg);
    CHECK(ops->key_revoke(db, "f1", 300, &err) == FM_OK &&
              ops->key_revoke(db, "f1", 400, &err) == FM_ENOTFOUND &&
              ops->key_revoke(db, "nope", 400, &err) == FM_ENOTFOUND,
          "%s: a key revoked once", name);
    CHECK(ops->keys_each(db, "anna", (store_key_cb)count_cb, &nkeys, &err) == FM_OK && nkeys == 2 &&
              ops->keys_each(db, "bert", (store_key_cb)count_cb, &(int){0}, &err) == FM_OK,
          "%s: anna's keys: %d", name, nkeys);
    fm_time revoked = 0;
    CHECK(ops->key_get(db, "f1", revoked_cb, &revoked, &err) == FM_OK && revoked == 300 &&
              ops->key_get(db, "f2", revoked_cb, &revoked, &err) == FM_OK && revoked == 0,
          "%s: revoked at 300, and the other current", name);

    /* the login counts */
    long failures;
    int64_t last;
    int known;
    CHECK(ops->count_put(db, "k1", 3, 1000, &err) == FM_OK &&
              ops->count_put(db, "k1", 4, 2000, &err) == FM_OK &&
              ops->count_get(db, "k1", &failures, &last, &err) == FM_OK && failures == 4 &&
              last == 2000,
          "%s: a count set twice holds the second", name);
    CHECK(ops->known_put(db, "k2", 5000, &err) == FM_OK &&
              ops->known_get(db, "k2", 4000, &known, &err) == FM_OK && known &&
              ops->known_get(db, "k2", 6000, &known, &err) == FM_OK && !known,
          "%s: a known key, since", name);
    CHECK(ops->login_forget(db, 3000, 6000, &err) == FM_OK &&
              ops->count_get(db, "k1", &failures, &last, &err) == FM_OK && failures == 0 &&
              ops->known_get(db, "k2", 0, &known, &err) == FM_OK && !known,
          "%s: forgotten", name);
}

static void items(struct data_db *db, const char *name, struct answers *a)
{
    const struct store_ops *ops = store_of(db);
    struct fm_err err;
    fm_err_clear(&err);
    int readable, valid;
    CHECK(ops->geometry_check(db,
                              "{\"type\":\"Polygon\",\"coordinates\":[[[35,32],[36,32],[36,33],"
                              "[35,33],[35,32]]]}",
                              &readable, &valid, a->reason_ok, &err) == FM_OK &&
              readable && valid,
          "%s: a square is valid (%s)", name, a->reason_ok);
    CHECK(ops->geometry_check(db,
                              "{\"type\":\"Polygon\",\"coordinates\":[[[35,32],[36,33],[36,32],"
                              "[35,33],[35,32]]]}",
                              &readable, &valid, a->reason_bowtie, &err) == FM_OK &&
              readable && !valid && strstr(a->reason_bowtie, "Self-intersection"),
          "%s: a bow-tie is not: %s", name, a->reason_bowtie);
    char reason[200];
    CHECK(ops->geometry_check(db, "{\"type\":\"Polygon\",\"coordinates\":7}", &readable, &valid,
                              reason, &err) == FM_OK,
          "%s: garbage is an answer, not a failure: %s", name, err.msg);
    a->readable_garbage = readable;

    /* an item, a draft of A, then proposed, through the store and read
     * back through items.c's rules */
    int64_t id = 0;
    const char *geom = "{\"type\":\"Point\",\"coordinates\":[35.5,32.5]}";
    struct store_version v = {.version = 1,
                              .collection = "incidents",
                              .party = "A",
                              .status = "draft",
                              .title = "shelling",
                              .has_from = 1,
                              .valid_from = 1764800000,
                              .has_floor = 1,
                              .alt_floor = 12.5,
                              .sys_from = 1764800000,
                              .action = "create",
                              .by = "anna",
                              .feature = "{\"type\":\"Feature\",\"id\":1}",
                              .geometry = geom,
                              .owner_only = 1};
    CHECK(ops->begin(db, &err) == FM_OK &&
              ops->item_insert(db, "incidents", "A", 1764800000, "anna", &id, &err) == FM_OK &&
              id > 0,
          "%s: an item: %s", name, err.msg);
    v.item = id;
    CHECK(ops->version_insert(db, &v, &err) == FM_OK && ops->commit(db, &err) == FM_OK,
          "%s: its first version: %s", name, err.msg);
    struct item_current cur;
    CHECK(item_load_current(db, &anna, DATA_INCIDENTS, id, &cur, &err) == FM_OK &&
              cur.version == 1 && cur.owner_only && !strcmp(cur.status, "draft") &&
              !strcmp(cur.created_by, "anna"),
          "%s: A loads its draft: %s", name, err.msg);
    int64_t vid = cur.vid;
    item_current_cleanup(&cur);
    CHECK(item_load_current(db, &bert, DATA_INCIDENTS, id, &cur, &err) == FM_ENOTFOUND,
          "%s: B does not", name);
    item_current_cleanup(&cur);
    CHECK(item_load_current(db, &anna, DATA_ZONES, id, &cur, &err) == FM_ENOTFOUND,
          "%s: not in another collection", name);
    item_current_cleanup(&cur);
    v.version = 2;
    v.status = "proposed";
    v.owner_only = 0;
    v.has_floor = 0;
    v.sys_from = 1764800060;
    v.action = "patch";
    v.feature = "{\"type\":\"Feature\",\"id\":1,\"v\":2}";
    int yes = 1;
    CHECK(ops->begin(db, &err) == FM_OK && ops->version_close(db, vid, 1764800060, &err) == FM_OK &&
              ops->version_insert(db, &v, &err) == FM_OK && ops->commit(db, &err) == FM_OK,
          "%s: the next version: %s", name, err.msg);
    CHECK(item_load_current(db, &bert, DATA_INCIDENTS, id, &cur, &err) == FM_OK &&
              cur.version == 2 && !cur.owner_only,
          "%s: B loads the proposal", name);
    item_current_cleanup(&cur);
    json_t *h = NULL;
    CHECK(data_item_history(db, &bert, DATA_INCIDENTS, id, &h, &err) == FM_OK &&
              json_array_size(h) == 1 &&
              json_integer_value(json_object_get(json_array_get(h, 0), "version")) == 2,
          "%s: B's history has the proposal only", name);
    json_decref(h);
    CHECK(data_item_history(db, &anna, DATA_INCIDENTS, id, &h, &err) == FM_OK &&
              json_array_size(h) == 2,
          "%s: A's has both", name);
    json_decref(h);
    CHECK(ops->ack_exists(db, id, 2, "A", &yes, &err) == FM_OK && !yes,
          "%s: no acknowledgement yet", name);
    /* answers through acks.c: B acknowledges the proposal; lists */
    json_t *list = NULL, *updated = NULL;
    CHECK(data_pending(db, &bert, NULL, &list, &err) == FM_OK && json_array_size(list) == 1 &&
              json_integer_value(json_object_get(json_array_get(list, 0), "version")) == 2,
          "%s: B has A's proposal to answer: %s", name, err.msg);
    json_decref(list);
    CHECK(data_pending(db, &anna, NULL, &list, &err) == FM_OK && json_array_size(list) == 0,
          "%s: A has nothing to answer", name);
    json_decref(list);
    fm_rc arc = data_item_ack(db, &bert, DATA_INCIDENTS, id, 2, "dispute", "too close", &updated,
                              &err);
    /* (proposed is no incident status: the dispute moves nothing, so the
     * conflict check, still SQLite's, is not reached on PostgreSQL) */
    CHECK(arc == FM_OK, "%s: B disputes: %s %s", name, fm_rc_str(arc), err.msg);
    json_decref(updated);
    CHECK(data_item_acks(db, &anna, DATA_INCIDENTS, id, &list, &err) == FM_OK &&
              json_array_size(list) == (arc == FM_OK ? 1 : 0),
          "%s: the answers of the item: %s", name, err.msg);
    CHECK(json_array_size(list) == 1 &&
              !strcmp(json_string_value(json_object_get(json_array_get(list, 0), "comment")),
                      "too close") &&
                  !strcmp(json_string_value(json_object_get(json_array_get(list, 0), "by")),
                          "bert"),
              "%s: B's dispute with its comment", name);
    json_decref(list);
    struct store_ack again = {id, 2, "B", "bert", 1764800100, "ack", NULL};
    CHECK(ops->ack_insert(db, &again, &err) == FM_ECONFLICT,
          "%s: a party answers a version once", name);
    /* messages through messages.c: the channel is everyone's; a thread
     * written while the item was A's draft stays A's */
    struct data_thread all = {"all", DATA_ZONES, 0}, thread = {NULL, DATA_INCIDENTS, id};
    json_t *m = NULL;
    CHECK(data_message_post(db, &anna, &all, "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d, hello", NULL, &m,
                            &err) == FM_OK,
          "%s: a message on the channel: %s", name, err.msg);
    json_decref(m);
    CHECK(data_messages(db, &bert, &all, 0, &m, &err) == FM_OK &&
              json_array_size(json_object_get(m, "messages")) == 1,
          "%s: B reads the channel: %s", name, err.msg);
    json_decref(m);
    CHECK(data_message_post(db, &bert, &thread, "noted", NULL, &m, &err) == FM_OK,
          "%s: B writes on the proposal's thread: %s", name, err.msg);
    json_decref(m);
    CHECK(data_messages_seen(db, &anna, &thread, 0, &m, &err) == FM_OK, "%s: A has seen it: %s",
          name, err.msg);
    json_decref(m);
    CHECK(data_messages(db, &bert, &thread, 0, &m, &err) == FM_OK &&
              json_array_size(json_object_get(m, "messages")) == 1 &&
              json_array_size(json_object_get(m, "seen")) == 1,
          "%s: B reads the thread and A's receipt: %s", name, err.msg);
    json_decref(m);
    int64_t item = -1, version = -1;
    CHECK(ops->version_unrecorded(db, &item, &version, &err) == FM_OK && item == id &&
              version == 1,
          "%s: verify's cross-check finds the versions with no record", name);
}

/* A store callback: the picture row as a line of text appended to ctx. */
static int pic_line(void *ctx, const struct store_pic_row *r)
{
    char *out = ctx, wkb[200] = "";
    for (size_t i = 0; i < r->row.wkb_len && 2 * i + 2 < sizeof wkb; i++)
        snprintf(wkb + 2 * i, 3, "%02x", r->row.wkb[i]);
    size_t n = strlen(out);
    snprintf(out + n, 2048 - n, "%s %s %s %s %s %d %g %.4f %.4f %.4f %.4f %s\n", r->row.party,
             r->row.status, r->row.type ? r->row.type : "-", r->row.title,
             r->row.category ? r->row.category : "-", r->row.severity, r->row.corridor_width_m,
             r->box[0], r->box[1], r->box[2], r->box[3], wkb);
    return 0;
}

static int named_count(void *ctx, const char *collection, int64_t id)
{
    (void)collection;
    if (id > 0) ++*(int *)ctx;
    return 0;
}

/* The picture of now's rows: a movement with a corridor (its box widened
 * by half of it) and an incident with its style; the records naming them. */
static void picture(struct data_db *db, const char *name, struct answers *a)
{
    const struct store_ops *ops = store_of(db);
    struct fm_err err;
    fm_err_clear(&err);
    char dbname[256];
    ops->database_name(db, dbname, sizeof dbname);
    CHECK(dbname[0], "%s: the database has a name (%s)", name, dbname);
    int64_t mv = 0, inc = 0, seq0 = 0;
    char hash[65];
    struct store_version v = {.version = 1,
                              .collection = "movements",
                              .party = "B",
                              .status = "proposed",
                              .type = "convoy",
                              .title = "supply run",
                              .sys_from = 1764800200,
                              .action = "create",
                              .by = "bert",
                              .feature = "{\"type\":\"Feature\",\"properties\":"
                                         "{\"corridor_width_m\":2200}}",
                              .geometry = "{\"type\":\"LineString\",\"coordinates\":"
                                          "[[35.1,32.1],[35.3,32.4]]}"};
    CHECK(ops->event_head(db, &seq0, hash, &err) == FM_OK && ops->begin(db, &err) == FM_OK &&
              ops->item_insert(db, "movements", "B", 1764800200, "bert", &mv, &err) == FM_OK,
          "%s: a movement: %s", name, err.msg);
    v.item = mv;
    CHECK(ops->version_insert(db, &v, &err) == FM_OK, "%s: its version: %s", name, err.msg);
    v.collection = "incidents", v.type = NULL, v.title = "mortar";
    v.feature = "{\"type\":\"Feature\",\"properties\":{\"category\":\"shelling\","
                "\"severity\":4,\"corridor_width_m\":9}}";
    v.geometry = "{\"type\":\"Point\",\"coordinates\":[35.25,32.25]}";
    CHECK(ops->item_insert(db, "incidents", "B", 1764800200, "bert", &inc, &err) == FM_OK &&
              (v.item = inc, ops->version_insert(db, &v, &err)) == FM_OK &&
              ops->commit(db, &err) == FM_OK,
          "%s: an incident: %s", name, err.msg);
    a->pic[0] = 0;
    CHECK(ops->pic_items(db, DATA_MOVEMENTS, 0, pic_line, a->pic, &err) == FM_OK &&
              ops->pic_items(db, DATA_INCIDENTS, inc, pic_line, a->pic, &err) == FM_OK,
          "%s: the picture's rows: %s", name, err.msg);
    printf("# %s", a->pic);
    double box[4];
    CHECK(sscanf(a->pic, "B proposed convoy supply run - 0 2200 %lf %lf %lf %lf", &box[0],
                 &box[1], &box[2], &box[3]) == 4 &&
              fabs(box[2] - (32.1 - 0.01)) < 1e-4 && fabs(box[3] - (32.4 + 0.01)) < 1e-4 &&
              fabs(box[0] - (35.1 - 0.01 / cos(32.4 * 3.14159265358979 / 180))) < 1e-4,
          "%s: the movement's box is widened by half its corridor", name);
    CHECK(strstr(a->pic, "\nB proposed - mortar shelling 4 0 35.2500 35.2500 32.2500"),
          "%s: the incident's row has its style, no corridor", name);
    CHECK(ops->pic_items(db, DATA_ZONES, 0, pic_line, a->pic, &err) == FM_OK &&
              !strstr(a->pic, "zones"),
          "%s: no zones", name);
    int named = 0;
    CHECK(ops->events_named(db, 0, seq0, named_count, &named, &err) == FM_OK && named > 0,
          "%s: the records naming items (%d)", name, named);
}

/* Callbacks appending a line of text to ctx (of 2048 bytes). */
static void line(char *out, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, 4096 - n, fmt, ap);
    va_end(ap);
}

static int item_line(void *ctx, const struct data_item_row *r)
{
    line(ctx, "item %s %s %s %zu\n", r->party, r->status, r->type, r->wkb_len);
    return 0;
}

static int pic_row_line(void *ctx, const struct data_pic_row *r)
{
    line(ctx, "pic %s %s %s %s %zu\n", r->party, r->status, r->title, r->category ? r->category : "-",
         r->wkb_len);
    return 0;
}

/* Queries through query.c's rules: what each party sees by bbox, time
 * and as of a past time, the extents, the rows of pictures. */
static void queries(struct data_db *db, const char *name, struct answers *a)
{
    struct fm_err err;
    fm_err_clear(&err);
    char *out = a->query;
    out[0] = 0;
    struct data_query q;
    memset(&q, 0, sizeof q);
    q.coll = DATA_INCIDENTS;
    q.limit = 100;
    q.want_wkb = 1;
    long matched = -1;
    CHECK(data_items_query(db, &bert, &q, item_line, out, &matched, &err) == FM_OK &&
              matched == 2,
          "%s: B's incidents (%ld): %s", name, matched, err.msg);
    line(out, "matched %ld\n", matched);
    q.has_bbox = 1;
    double box[4] = {35.2, 32.2, 35.3, 32.3};
    memcpy(q.bbox, box, sizeof box);
    q.coll = DATA_MOVEMENTS;
    CHECK(data_items_query(db, &anna, &q, item_line, out, &matched, &err) == FM_OK &&
              matched == 1,
          "%s: A's movements in a box (%ld): %s", name, matched, err.msg);
    q.bbox[0] = 35.0, q.bbox[2] = 35.05; /* beside the route: its box only */
    CHECK(data_items_query(db, &anna, &q, NULL, NULL, &matched, &err) == FM_OK && matched == 0,
          "%s: the exact test leaves a box that misses the route (%ld)", name, matched);
    memset(&q, 0, sizeof q);
    q.coll = DATA_INCIDENTS;
    q.limit = 100;
    q.has_asof = 1, q.asof = 1764800030; /* A's draft, before the proposal */
    CHECK(data_items_query(db, &anna, &q, item_line, out, &matched, &err) == FM_OK &&
              matched == 1 && data_items_query(db, &bert, &q, NULL, NULL, &matched, &err) == FM_OK &&
              matched == 0,
          "%s: as of a past time, A sees its draft, B nothing (%ld)", name, matched);
    memset(&q, 0, sizeof q);
    q.coll = DATA_MOVEMENTS;
    q.limit = 100;
    q.has_time = 1, q.t0 = 0, q.t1 = INT64_MAX;
    q.status = "proposed";
    CHECK(data_items_query(db, &bert, &q, NULL, NULL, &matched, &err) == FM_OK && matched == 1,
          "%s: by status and time (%ld)", name, matched);
    struct data_extent e;
    CHECK(data_items_extent(db, &bert, DATA_INCIDENTS, DATA_GEOM_POINTS, &e, &err) == FM_OK &&
              e.count == 2,
          "%s: B's extent of incidents (%ld): %s", name, e.count, err.msg);
    line(out, "extent %ld %.6f %.6f %.6f %.6f %d %lld %d\n", e.count, e.bbox[0], e.bbox[1],
         e.bbox[2], e.bbox[3], e.has_t0, (long long)e.t0, e.has_t1);
    CHECK(data_items_extent(db, &bert, DATA_INCIDENTS, DATA_GEOM_AREAS, &e, &err) == FM_OK &&
              e.count == 0,
          "%s: no areas among them", name);
    double near[4] = {35.0, 32.0, 35.2, 32.2};
    CHECK(store_of(db)->pic_items_box(db, DATA_MOVEMENTS, near, 0, 0, NULL, pic_row_line, out,
                                      &err) == FM_OK,
          "%s: the picture's movements near the route's start: %s", name, err.msg);
    double draft[4] = {35.4, 32.4, 35.6, 32.6};
    CHECK(data_picture_items(db, &anna, DATA_INCIDENTS, draft, 1, 1764800030, pic_row_line, out,
                             &err) == FM_OK &&
              data_picture_items(db, &bert, DATA_INCIDENTS, draft, 1, 1764800030, pic_row_line,
                                 out, &err) == FM_OK,
          "%s: A's and B's pictures of the past: %s", name, err.msg);
    CHECK(strstr(out, "pic B proposed supply run - ") && strstr(out, "pic A draft shelling - ") &&
              !strstr(strstr(out, "pic A draft shelling - ") + 1, "pic A draft"),
          "%s: the pictures have their rows, A's draft in A's only:\n%s", name, out);
    /* CQL2 filters and sorts (server/cql2.c) on this backend: each runs,
     * as A and as B; the answers are compared between backends in main */
    static const char *const filters[] = {
        "severity >= 3",
        "category = 'shelling' OR title LIKE 'supp%'",
        "title ILIKE 'SUPPLY%' AND NOT title LIKE 'SUPPLY%'",
        "category IN ('shelling', 'airspace') OR severity NOT BETWEEN 1 AND 2",
        "valid_to IS NULL AND title IS NOT NULL",
        "S_INTERSECTS(geometry, BBOX(35, 32, 36, 33))",
        "S_WITHIN(geometry, POLYGON((35 32, 36 32, 36 33, 35 33)))",
        "S_DISJOINT(geometry, POINT(35.25 32.25))",
        "T_INTERSECTS(INTERVAL(valid_from, valid_to), INTERVAL('2025-12-01', '..'))",
        "T_BEFORE(updated_at, TIMESTAMP('2100-01-01T00:00:00Z')) AND T_AFTER(occurred_at, '2000-01-01')",
        "occurred_at IS NULL OR occurred_at < '2100-01-01T00:00:00Z'",
        "status = 'draft' OR severity > 0", /* as of A's draft, below */
        NULL};
    static struct data_filter f;
    struct data_sort sort;
    for (int i = 0; filters[i]; i++) {
        for (int who = 0; who < 2; who++) {
            memset(&q, 0, sizeof q);
            q.coll = DATA_INCIDENTS, q.limit = 100, q.filter = &f;
            if (!filters[i + 1]) q.has_asof = 1, q.asof = 1764800030;
            const struct data_viewer *v = who ? &bert : &anna;
            CHECK(cql2_compile(filters[i], data_queryables(DATA_INCIDENTS), &f, &err) == FM_OK &&
                      cql2_sortby("-title,id", data_queryables(DATA_INCIDENTS), &sort, &err) ==
                          FM_OK,
                  "%s: %s compiles: %s", name, filters[i], err.msg);
            q.sort = &sort;
            line(out, "filter %d %s:", i, v->party);
            CHECK(data_items_query(db, v, &q, item_line, out, &matched, &err) == FM_OK,
                  "%s: %s runs as %s: %s", name, filters[i], v->party, err.msg);
            line(out, "matched %ld\n", matched);
        }
    }
    CHECK(strstr(out, "filter 11 A:item A draft") && strstr(out, "filter 11 B:matched 0\n"),
          "%s: A's filter finds A's draft, B's finds nothing:\n%s", name, out);
    printf("# %s: queries\n%s", name, out);
}

struct head_seen {
    struct store_head bert; /* bert's head, copied */
    int n;                  /* every head */
};

static int head_cb(void *ctx, const struct store_head *h)
{
    struct head_seen *out = ctx;
    if (!strcmp(h->user, "bert")) {
        out->bert = *h;
        out->bert.hash = strdup(h->hash);
        out->bert.signature = strdup(h->signature);
        out->bert.party = "B";
        out->bert.user = out->bert.key = NULL;
        if (strcmp(h->party, "B") != 0) out->bert.party = "?";
    }
    out->n++;
    return 0;
}

/* Cosigned heads (heads.c): kept as given, once per user and seq, in order;
 * the head a party is offered is the log's last record. */
static void heads(struct data_db *db, const char *name)
{
    const struct store_ops *ops = store_of(db);
    struct fm_err err;
    const char *h64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    struct store_head h1 = {0, 2, h64, "anna", "A", "f2", "c2lnMQ==", 1764800100, 1764800101},
                      h2 = {0, 2, h64, "bert", "B", "f9", "c2lnMg==", 1764800200, 1764800202};
    int64_t id1 = 0, id2 = 0;
    CHECK(ops->begin(db, &err) == FM_OK && ops->head_insert(db, &h1, &id1, &err) == FM_OK &&
              ops->head_insert(db, &h2, &id2, &err) == FM_OK && id2 > id1 &&
              ops->head_insert(db, &h1, &(int64_t){0}, &err) == FM_ECONFLICT,
          "%s: heads kept, once per user and seq: %s", name, err.msg);
    ops->rollback(db);
    CHECK(ops->begin(db, &err) == FM_OK && ops->head_insert(db, &h1, &id1, &err) == FM_OK &&
              ops->head_insert(db, &h2, &id2, &err) == FM_OK && ops->commit(db, &err) == FM_OK,
          "%s: heads committed: %s", name, err.msg);
    struct head_seen seen = {0};
    struct store_head *got = &seen.bert;
    CHECK(ops->heads_each(db, 0, head_cb, &seen, &err) == FM_OK && seen.n == 2 && got->hash &&
              !strcmp(got->hash, h64) && !strcmp(got->party, "B") && got->seq == 2 &&
              !strcmp(got->signature, "c2lnMg==") && got->at == 1764800200 &&
              got->recorded_at == 1764800202,
          "%s: heads read back as kept (%d)", name, seen.n);
    free((char *)got->hash);
    free((char *)got->signature);
    struct head_seen none = {0};
    CHECK(ops->heads_each(db, id2, head_cb, &none, &err) == FM_OK && none.n == 0,
          "%s: heads after the last: none", name);
    json_t *hd = NULL;
    int64_t last = 0;
    char lasth[65];
    CHECK(ops->event_head(db, &last, lasth, &err) == FM_OK &&
              data_head(db, &anna, 0, &hd, &err) == FM_OK &&
              json_integer_value(json_object_get(hd, "seq")) == last &&
              !strcmp(json_string_value(json_object_get(hd, "hash")), lasth) &&
              strstr(json_string_value(json_object_get(hd, "statement")), "\"fusionmap head\""),
          "%s: the head offered is the last record's: %s", name, err.msg);
    json_decref(hd);
}

/* Lead times and deadlines (rules.c): the rules through data_rules_set,
 * the deadlines' rows through the store (item 1's open version 2). */
static int deadline_cb(void *ctx, const struct store_deadline *d)
{
    struct store_deadline *out = ctx;
    out->item = d->item;
    out->version = d->version;
    out->due_at = d->due_at;
    out->overdue_at = d->overdue_at;
    out->notified_at++; /* the count of rows */
    return 0;
}

static void deadlines(struct data_db *db, const char *name)
{
    const struct store_ops *ops = store_of(db);
    struct fm_err err;
    fm_err_clear(&err);
    const struct data_viewer admin = {9, "root", "", DATA_ROLE_ADMIN};
    json_t *rules = NULL;
    CHECK(data_rules(db, &rules, &err) == FM_OK && json_array_size(rules) == 3,
          "%s: three default rules: %s", name, err.msg);
    json_decref(rules);
    json_t *bad = json_pack("{s:s,s:i}", "collection", "movements", "notice_s", -1);
    CHECK(data_rules_set(db, &admin, bad, &rules, &err) == FM_EINVAL &&
              !strcmp(err.pointer, "/notice_s"),
          "%s: a bad rule is refused: %s", name, err.msg);
    json_decref(bad);
    CHECK(data_rules_set(db, &anna, bad, &rules, &err) == FM_EFORBID, "%s: only the admin",
          name);
    json_t *good = json_pack("{s:s,s:s,s:i,s:i,s:i}", "collection", "movements", "type", "air",
                             "notice_s", 3600, "urgent_notice_s", 600, "answer_s", 60);
    CHECK(data_rules_set(db, &admin, good, &rules, &err) == FM_OK && json_array_size(rules) == 4,
          "%s: the admin sets a rule of one type: %s", name, err.msg);
    json_decref(good);
    json_decref(rules);
    int64_t last = 0;
    char hash[65];
    CHECK(ops->event_head(db, &last, hash, &err) == FM_OK, "%s: head", name);
    struct store_deadline d = {1, 2, "incidents", "A", 100, 200, 0}, got = {0};
    CHECK(ops->begin(db, &err) == FM_OK && ops->deadline_insert(db, &d, &err) == FM_OK &&
              ops->deadline_insert(db, &d, &err) == FM_ECONFLICT,
          "%s: a version's deadline, once: %s", name, err.msg);
    ops->rollback(db);
    CHECK(ops->begin(db, &err) == FM_OK && ops->deadline_insert(db, &d, &err) == FM_OK &&
              ops->commit(db, &err) == FM_OK,
          "%s: kept: %s", name, err.msg);
    CHECK(ops->deadlines_each(db, 0, 150, deadline_cb, &got, &err) == FM_OK &&
              got.notified_at == 0,
          "%s: not due at 150", name);
    CHECK(ops->deadlines_each(db, 0, 250, deadline_cb, &got, &err) == FM_OK &&
              got.notified_at == 1 && got.item == 1 && got.version == 2 && got.due_at == 200,
          "%s: due at 250: %s", name, err.msg);
    memset(&got, 0, sizeof got);
    CHECK(ops->deadline_overdue(db, 1, 2, 300, &err) == FM_OK &&
              ops->deadlines_each(db, 1, 0, deadline_cb, &got, &err) == FM_OK &&
              got.notified_at == 1 && got.overdue_at == 300,
          "%s: marked overdue at 300: %s", name, err.msg);
    /* a page's marks: only the items asked, by item */
    int64_t ask[] = {5, 1, 1, 77};
    memset(&got, 0, sizeof got);
    CHECK(ops->deadlines_overdue_of(db, ask, 4, deadline_cb, &got, &err) == FM_OK &&
              got.notified_at == 1 && got.item == 1 && got.version == 2 && got.overdue_at == 300,
          "%s: the overdue of items {5, 1, 1, 77}: item 1's, once: %s", name, err.msg);
    int64_t other[] = {2, 3};
    memset(&got, 0, sizeof got);
    CHECK(ops->deadlines_overdue_of(db, other, 2, deadline_cb, &got, &err) == FM_OK &&
              got.notified_at == 0 &&
              ops->deadlines_overdue_of(db, other, 0, deadline_cb, &got, &err) == FM_OK &&
              got.notified_at == 0,
          "%s: none for items {2, 3}, none for no items: %s", name, err.msg);
    memset(&got, 0, sizeof got);
    CHECK(ops->deadlines_each(db, 0, 1000, deadline_cb, &got, &err) == FM_OK &&
              got.notified_at == 0 && ops->deadlines_each(db, 2, 0, deadline_cb, &got, &err) == FM_OK &&
              got.notified_at == 1,
          "%s: no longer due; one row in all", name);
    long marked = -1;
    CHECK(data_deadlines_check(db, &marked, &err) == FM_OK && marked == 0,
          "%s: the check marks nothing more (the version waits for no answer): %s", name,
          err.msg);
}

/* ---- conflicts: the rules of conflicts.c over either store ---------------- */

static json_t *feature(const char *geometry, const char *props)
{
    char text[1024];
    snprintf(text, sizeof text, "{\"type\":\"Feature\",\"geometry\":%s,\"properties\":%s}",
             geometry, props);
    json_t *f = json_loads(text, 0, NULL);
    if (!f) printf("# unreadable feature: %s\n", text);
    return f;
}

static int64_t create(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                      const char *geometry, const char *props, const char *name)
{
    static struct data_limits lim;
    data_limits_default(&lim);
    struct fm_err err;
    fm_err_clear(&err);
    json_t *f = feature(geometry, props), *out = NULL;
    fm_rc rc = data_item_create(db, v, c, f, &lim, &out, &err);
    int64_t id = rc ? 0 : json_integer_value(json_object_get(out, "id"));
    CHECK(id > 0, "%s: %s created through the rules: %s", name, data_coll_name(c), err.msg);
    json_decref(f);
    json_decref(out);
    return id;
}

/* Each conflict as a line: what the rules found, and the Feature's text
 * without its times (now differs between the runs). */
static int conflict_line(void *ctx, int64_t id, const char *text)
{
    char *out = ctx;
    json_t *f = json_loads(text, 0, NULL);
    json_t *p = json_object_get(f, "properties");
    json_object_del(p, "opened_at");
    json_object_del(p, "updated_at");
    json_object_del(p, "resolved_at");
    json_object_del(p, "interval");
    char *t = json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS);
    size_t n = strlen(out);
    snprintf(out + n, 8192 - n, "%lld %s\n", (long long)id, t ? t : "?");
    free(t);
    json_decref(f);
    return 0;
}

static void conflicts(struct data_db *db, const char *name, struct answers *a)
{
    struct fm_err err;
    fm_err_clear(&err);
    static const struct data_viewer sup = {3, "sup", "A", DATA_ROLE_SUPERVISOR};
    char later[160];
    snprintf(later, sizeof later, "\"valid_from\":\"2020-01-01T00:00:00Z\",\"valid_to\":"
                                  "\"2099-01-01T00:00:00Z\"");
    char props[512];
    snprintf(props, sizeof props, "{\"title\":\"range\",\"type\":\"restricted\","
                                  "\"status\":\"proposed\",%s}", later);
    int64_t zone_a = create(db, &anna, DATA_ZONES,
                            "{\"type\":\"Polygon\",\"coordinates\":[[[35.9,32.9],[36.1,32.9],"
                            "[36.1,33.1],[35.9,33.1],[35.9,32.9]]]}",
                            props, name);
    snprintf(props, sizeof props, "{\"title\":\"buffer\",\"type\":\"restricted\","
                                  "\"status\":\"proposed\",%s}", later);
    int64_t zone_b = create(db, &bert, DATA_ZONES,
                            "{\"type\":\"Polygon\",\"coordinates\":[[[36.05,33.05],[36.2,33.05],"
                            "[36.2,33.2],[36.05,33.2],[36.05,33.05]]]}",
                            props, name);
    snprintf(props, sizeof props, "{\"title\":\"convoy\",\"type\":\"ground\","
                                  "\"status\":\"notified\",\"corridor_width_m\":400,%s}",
             later);
    /* across the UTM 36/37 edge: the corridor is measured in zone 37 */
    int64_t mov = create(db, &bert, DATA_MOVEMENTS,
                         "{\"type\":\"LineString\",\"coordinates\":[[35.8,33.0],[36.3,33.02]]}",
                         props, name);
    snprintf(props, sizeof props, "{\"title\":\"shots\",\"category\":\"shelling\","
                                  "\"severity\":4,\"status\":\"reported\",%s}", later);
    int64_t inc = create(db, &anna, DATA_INCIDENTS,
                         "{\"type\":\"Point\",\"coordinates\":[36.0,33.0]}", props, name);
    /* a draft of B's beside A's zone: B's to see, A's never */
    snprintf(props, sizeof props, "{\"title\":\"plan\",\"type\":\"restricted\","
                                  "\"status\":\"draft\",%s}", later);
    int64_t draft = create(db, &bert, DATA_ZONES,
                           "{\"type\":\"Polygon\",\"coordinates\":[[[35.85,32.85],[35.95,32.85],"
                           "[35.95,32.95],[35.85,32.95],[35.85,32.85]]]}",
                           props, name);
    CHECK(zone_a && zone_b && mov && inc && draft, "%s: five items", name);

    /* four clashes everyone sees (the zones overlap, the convoy crosses
     * A's zone, the shots are in it and near the convoy), and B's draft
     * over A's zone, which only B sees: not A, not the supervisor */
    struct data_conflict_query q = {.limit = 100};
    long ms = 0, ma = 0, mb = 0;
    char by_sup[8192] = "", by_a[8192] = "";
    a->conflicts[0] = 0;
    CHECK(data_conflicts_query(db, &sup, &q, conflict_line, by_sup, &ms, &err) == FM_OK &&
              data_conflicts_query(db, &anna, &q, conflict_line, by_a, &ma, &err) == FM_OK &&
              data_conflicts_query(db, &bert, &q, conflict_line, a->conflicts, &mb, &err) ==
                  FM_OK,
          "%s: the conflicts as each sees them: %s", name, err.msg);
    printf("%s", a->conflicts);
    CHECK(ms == 4 && ma == 4 && mb == 5 && !strcmp(by_sup, by_a) && !strstr(by_a, "\"plan\"") &&
              strstr(a->conflicts, "zones_overlap") && strstr(a->conflicts, "incident_in_zone") &&
              strstr(a->conflicts, "incident_near_movement") &&
              strstr(a->conflicts, "movement_crosses_zone"),
          "%s: the supervisor and A see 4, B 5 with its draft's (%ld, %ld, %ld)", name, ms, ma,
          mb);
    json_t *one = NULL;
    int64_t first = strtoll(by_sup, NULL, 10);
    CHECK(data_conflict_resolve(db, &sup, first, "agreed on the phone", &one, &err) == FM_OK &&
              !strcmp(json_string_value(json_object_get(json_object_get(one, "properties"),
                                                        "state")),
                      "resolved"),
          "%s: the supervisor resolves conflict %lld: %s", name, (long long)first, err.msg);
    json_decref(one);
    CHECK(data_conflict_get(db, &anna, strtoll(strrchr(a->conflicts, '\n') ? a->conflicts : "0",
                                                NULL, 10),
                            &one, &err) == FM_OK,
          "%s: A reads a conflict it sees", name);
    json_decref(one);
    struct data_recheck_stats st;
    CHECK(data_conflicts_recheck(db, fm_time_now(), &st, &err) == FM_OK && st.found == 5 &&
              st.opened == 0 && st.resolved == 0,
          "%s: a re-check finds the same 5 clashes, opens and resolves none (%ld found,"
          " %ld opened, %ld resolved): %s",
          name, st.found, st.opened, st.resolved, err.msg);
    char after[8192] = "";
    q.state = "open";
    CHECK(data_conflicts_query(db, &bert, &q, conflict_line, after, &mb, &err) == FM_OK &&
              mb == 4,
          "%s: B sees 4 open after the ruling and the re-check (%ld)", name, mb);
    int64_t last = 0;
    CHECK(data_events_last(db, &last, &err) == FM_OK && last > 0, "%s: the log", name);
}

static void exercise(struct data_db *db, const char *name, struct answers *a)
{
    printf("# %s\n", name);
    fixed_records(db, name);
    export_and_verify(db, name, a);
    accounts(db, name);
    items(db, name, a);
    deadlines(db, name);
    picture(db, name, a);
    queries(db, name, a);
    heads(db, name);
    conflicts(db, name, a);
}

int main(void)
{
    struct answers lite, pg;
    memset(&lite, 0, sizeof lite);
    memset(&pg, 0, sizeof pg);
    struct fm_err err;
    fm_err_clear(&err);
    char path[] = "/tmp/test_backends_db_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    struct data_db *db;
    CHECK(data_open(path, &db, &err) == FM_OK, "sqlite: open: %s", err.msg);
    exercise(db, "sqlite", &lite);
    data_close(db);
    unlink(path);

    CHECK(data_open("http://127.0.0.1/x", &db, &err) == FM_EINVAL && strstr(err.msg, "URL"),
          "data_open refuses a URL of another kind: %s", err.msg);

    const char *url = getenv("FM_PG_URL");
    if (!url) {
        printf("# FM_PG_URL unset: SQLite only (e2e_store_pg runs both)\n");
        free(lite.log);
        return SUMMARY();
    }
    CHECK(pg_store_open("postgresql://nobody@127.0.0.1:1/none", &db, &err) == FM_EIO &&
              strstr(err.msg, "cannot connect"),
          "an unreachable server is a clear error: %s", err.msg);
    if (data_open(url, &db, &err) != FM_OK) {
        CHECK(0, "postgresql: open %s: %s", url, err.msg);
        free(lite.log);
        return SUMMARY();
    }
    CHECK(!strcmp(store_of(db)->name, "postgresql"), "the PostgreSQL store");
    exercise(db, "postgresql", &pg);
    data_close(db);
    CHECK(pg_store_open(url, &db, &err) == FM_OK, "reopened, the schema is not made again: %s",
          err.msg);
    int64_t last = 0;
    CHECK(data_events_last(db, &last, &err) == FM_OK && last > 3, "the log is still there (%lld)",
          (long long)last);
    data_close(db);

    CHECK(lite.log && pg.log && !strcmp(lite.log, pg.log),
          "the same appends give the same log, byte for byte:\n%s\n%s", lite.log, pg.log);
    CHECK(!strcmp(lite.reason_bowtie, pg.reason_bowtie), "the same reason: '%s' and '%s'",
          lite.reason_bowtie, pg.reason_bowtie);
    CHECK(!strcmp(lite.query, pg.query), "the same answers to queries:\n%s\n%s", lite.query,
          pg.query);
    CHECK(!strcmp(lite.pic, pg.pic), "the same picture rows, byte for byte:\n%s\n%s", lite.pic,
          pg.pic);
    CHECK(lite.conflicts[0] && !strcmp(lite.conflicts, pg.conflicts),
          "the same conflicts, Feature for Feature:\n%s\n%s", lite.conflicts, pg.conflicts);
    CHECK(lite.readable_garbage == pg.readable_garbage, "garbage: %d and %d",
          lite.readable_garbage, pg.readable_garbage);
    free(lite.log);
    free(pg.log);
    return SUMMARY();
}
