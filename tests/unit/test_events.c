/* test_events.c - the event log's canonical text (data/events.c): written
 * directly, it must be byte for byte what jansson's json_dumps
 * (JSON_COMPACT | JSON_SORT_KEYS) writes for the record's object, on which
 * every existing chain was hashed, and refuse exactly the texts jansson
 * refuses (not UTF-8). Random records from a printed seed (FM_SEED=N
 * repeats one), with quotes, backslashes, control characters, multi-byte
 * and malformed sequences. */
#include "check.h"

#include "../../data/events.c"
/* the file itself is tampered with below, through SQLite */
#include "../../data/sqlite/sqlite.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* What record_hash hashed before: jansson's text, or NULL. */
static char *jansson_text(const struct record *r)
{
    json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s,s:o,s:o,s:I,s:I,s:o,s:o}", "seq",
                          (json_int_t)r->seq, "at", (json_int_t)r->at, "user", r->user, "party",
                          r->party, "action", r->action, "collection",
                          text_or_null(r->collection), "owner", text_or_null(r->owner), "item",
                          (json_int_t)r->item, "version", (json_int_t)r->version, "before",
                          text_or_null(r->before), "after", text_or_null(r->after));
    char *t = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return t;
}

static char *canon_text(const struct record *r)
{
    struct fm_buf b;
    fm_buf_init(&b, FM_BUF_UNCAPPED);
    if (canon_record(&b, r)) {
        fm_buf_cleanup(&b);
        return NULL;
    }
    return fm_buf_take(&b, NULL);
}

static unsigned rnd;
static unsigned next(void)
{
    rnd = rnd * 1103515245u + 12345u;
    return (rnd >> 8) & 0xffffff;
}

/* pieces a text is made of: plain, escaped, multi-byte, malformed */
static const char *const pieces[] = {
    "a", "Z", " ", "{\"type\":\"Feature\"}", "35.123456789012345", "/", "\"", "\\", "\\u0041",
    "\x01", "\x08", "\x09", "\x0a", "\x0c", "\x0d", "\x1b", "\x1f", "\x7f", "\xc2\xa0",
    "\xd7\x90", "\xe2\x82\xac", "\xe2\x80\xa8", "\xef\xbf\xbf", "\xf0\x9f\x98\x80",
    "\xf4\x8f\xbf\xbf",
    /* malformed: lone continuation, overlong, surrogate, past U+10FFFF,
     * cut short, bytes that never start a sequence */
    "\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
    "\xf5\x80\x80\x80", "\xff", "\xc3", "\xe2\x82", "\xf0\x9f\x98"};
#define NPIECES (sizeof pieces / sizeof pieces[0])
#define NGOOD 25 /* pieces[0..NGOOD) are UTF-8 */

/* A text of up to 40 pieces, malformed in about one case of ten; NULL at
 * times when may_null. */
static const char *text(char *buf, size_t n, int may_null)
{
    if (may_null && next() % 5 == 0) return NULL;
    int bad = next() % 10 == 0;
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0, k = next() % 40; i < k; i++) {
        const char *p = pieces[bad ? next() % NPIECES : next() % NGOOD];
        size_t l = strlen(p);
        if (used + l + 1 > n) break;
        memcpy(buf + used, p, l + 1);
        used += l;
    }
    return buf;
}

static int64_t number(void)
{
    static const int64_t edges[] = {0, 1, -1, INT64_MAX, INT64_MIN, 1764800000, 9};
    return next() % 3 == 0 ? edges[next() % 7] : (int64_t)next() * 7919 - 50000000;
}

/* verify's answer on db: 0 for intact, else the bad record (err->msg) */
static int64_t verified(struct data_db *db, struct fm_err *err)
{
    int64_t bad = -1, count;
    fm_rc rc = data_events_verify(db, &bad, &count, err);
    return rc ? -1 : bad;
}

static long records(struct data_db *db, const char *where)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE %s", where);
    sqlite3_stmt *st;
    long n = -1;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Parties and users are records, and verify replays them (replay.c). */
static void accounts(void)
{
    /* the visibility rule verify compares the flags with */
    CHECK(vis_owner_only("draft", 0) == 1 && vis_owner_only("draft", 1) == 1, "a draft: owner-only");
    CHECK(vis_owner_only("withdrawn", 1) == 1 && vis_owner_only("withdrawn", 0) == 0,
          "a withdrawal: as the version it withdraws");
    CHECK(vis_owner_only("proposed", 1) == 0 && vis_owner_only("active", 0) == 0,
          "anything else: everyone's");

    char path[] = "/tmp/test_events_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "a temporary file");
    if (fd < 0) return;
    close(fd);
    unlink(path);
    struct data_db *db;
    struct fm_err err;
    fm_err_clear(&err);
    CHECK(data_open(path, &db, &err) == FM_OK, "open: %s", err.msg);
    CHECK(data_party_add(db, "A", "Side A", "#112233", "side", &err) == FM_OK, "party A: %s",
          err.msg);
    CHECK(data_party_add(db, "A", "Side A", "#112233", "side", &err) == FM_OK &&
              records(db, "collection = 'parties'") == 1,
          "the same party again writes nothing");
    CHECK(data_party_add(db, "A", "Side A", "#445566", "side", &err) == FM_OK &&
              records(db, "action = 'party_change' AND before IS NOT NULL") == 1,
          "a changed party is a party_change with its before");
    CHECK(data_party_add(db, "X", "X", "#000000", "nonsense", &err) == FM_EINVAL &&
              records(db, "collection = 'parties'") == 2,
          "a refused party writes no record");
    CHECK(data_user_add(db, "anna", "A", DATA_ROLE_LIAISON, "secret", &err) == FM_OK, "user: %s",
          err.msg);
    CHECK(data_user_add(db, "anna", "A", DATA_ROLE_ADMIN, "secret", &err) == FM_ECONFLICT &&
              records(db, "collection = 'users'") == 1,
          "a refused user writes no record");
    CHECK(records(db, "collection = 'users' AND after LIKE '%argon2%'") == 0,
          "no password hash in the record");
    CHECK(verified(db, &err) == 0, "intact: %s", err.msg);

    /* a role change, as a role-changing function would record it */
    const struct data_viewer sys = {0, "system", "", DATA_ROLE_ADMIN};
    sqlite3_exec(db->h, "UPDATE users SET role = 'supervisor' WHERE name = 'anna'", NULL, NULL, NULL);
    int64_t bad = verified(db, &err);
    CHECK(bad > 0 && strstr(err.msg, "users row anna: column role is supervisor, the log says liaison"),
          "a role changed in the file is named: %s", err.msg);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db->h,
                       "SELECT json_set(after, '$.role', 'supervisor') FROM events"
                       " WHERE action = 'user_add'", -1, &st, NULL);
    sqlite3_step(st);
    char *after = fm_xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    CHECK(db_begin(db, &err) == FM_OK &&
              events_append_ex(db, &sys, "user_role", "users", 1, 0, "{}", after, NULL, 1, 1,
                               fm_time_now(), &err) == FM_OK &&
              db_commit(db, &err) == FM_OK,
          "a user_role record: %s", err.msg);
    free(after);
    CHECK(verified(db, &err) == 0, "with its user_role record, the new role verifies: %s", err.msg);
    sqlite3_exec(db->h, "UPDATE parties SET colour = '#112233' WHERE code = 'A'", NULL, NULL, NULL);
    CHECK(verified(db, &err) > 0 &&
              strstr(err.msg, "parties row A: column colour is #112233, the log says #445566"),
          "a party's old colour put back is named: %s", err.msg);
    data_close(db);
    unlink(path);
    char side[sizeof path + 8];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

int main(void)
{
    const char *env = getenv("FM_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    printf("# seed %u (FM_SEED=%u repeats it)\n", seed, seed);
    rnd = seed;

    /* a record as the engine writes one, and the fields NULL may take */
    struct record r = {.seq = 42,
                       .at = 1764800000,
                       .user = "liaison-b",
                       .party = "B",
                       .action = "conflict_open",
                       .collection = "conflicts",
                       .item = 7,
                       .version = 1,
                       .after = "{\"type\":\"Feature\",\"id\":7}"};
    char *a = jansson_text(&r), *b = canon_text(&r);
    CHECK(a && b && strcmp(a, b) == 0, "a conflict's record: %s vs %s", a, b);
    free(a);
    free(b);

    int same = 1, refused = 0, accepted = 0;
    for (int i = 0; i < 20000 && same; i++) {
        char t[7][400];
        struct record x; /* field by field: the draws in a fixed order */
        x.seq = number();
        x.at = number();
        x.user = text(t[0], 400, 0);
        x.party = text(t[1], 40, 0);
        x.action = text(t[2], 40, 0);
        x.collection = text(t[3], 40, 1);
        x.owner = text(t[4], 40, 1);
        x.item = number();
        x.version = number();
        x.before = text(t[5], 400, 1);
        x.after = text(t[6], 400, 1);
        a = jansson_text(&x);
        b = canon_text(&x);
        if (!a != !b || (a && strcmp(a, b) != 0)) {
            same = 0;
            CHECK(0, "record %d differs (seed %u):\n  jansson %s\n  direct  %s", i, seed,
                  a ? a : "(refused)", b ? b : "(refused)");
        }
        if (a) accepted++;
        else refused++;
        free(a);
        free(b);
    }
    CHECK(same, "20,000 random records: the direct text is jansson's, byte for byte");
    CHECK(accepted > 1000 && refused > 1000, "both kinds were tried: %d written, %d refused",
          accepted, refused);

    /* and the hash is over prev || text, as before */
    char h1[65], h2[65];
    r.before = "{\"a\":\"\xe2\x82\xac\\n\"}";
    a = jansson_text(&r);
    char *msg = fm_xmalloc(64 + strlen(a));
    memcpy(msg, zero_hash, 64);
    memcpy(msg + 64, a, strlen(a));
    unsigned char d[32];
    sha256(msg, 64 + strlen(a), d);
    fm_hex(d, 32, h1);
    CHECK(record_hash(zero_hash, &r, h2) == 0 && strcmp(h1, h2) == 0, "the hash: %s vs %s", h1,
          h2);
    free(msg);
    free(a);
    r.owner = "\xff";
    CHECK(record_hash(zero_hash, &r, h2) == -1 && h2[0] == '\0', "a text not UTF-8 is refused");
    accounts();
    return SUMMARY();
}
