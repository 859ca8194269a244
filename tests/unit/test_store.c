/* test_store.c - the rules of the accounts (users.c) over a backend that is
 * not SQLite: a store in memory, written here against store.h alone. The
 * connection has no SQLite handle at all (h is NULL), so any SQL left in
 * users.c's paths would crash this test: sessions, tokens, logins and the
 * login policy must work through the interface and nothing else. */
#include "check.h"
#include "sqlite/sqlite.h" /* struct data_db, to make a connection with no handle */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- a store in memory -------------------------------------------------- */

#define MAXROWS 64

struct mem {
    struct {
        char code[16], name[64], colour[16], kind[16];
    } parties[MAXROWS];
    struct {
        int64_t id;
        char name[64], party[16], role[16], pwhash[128];
        fm_time created_at;
    } users[MAXROWS];
    struct {
        int kind;
        char hash[65];
        int64_t user_id;
        fm_time created_at, used_at;
    } secrets[MAXROWS];
    struct {
        char key[65];
        long failures;
        int64_t last_ms;
    } counts[MAXROWS];
    struct {
        char key[65];
        int64_t at_ms;
    } known[MAXROWS];
    int nparties, nusers, nsecrets, ncounts, nknown;
    int in_tx;
};
static struct mem M, saved;
static long calls; /* operations the rules asked for */

static fm_rc m_begin(struct data_db *db, struct fm_err *err)
{
    (void)db, (void)err;
    calls++;
    CHECK(!M.in_tx, "no transaction is begun inside another");
    saved = M;
    M.in_tx = 1;
    return FM_OK;
}
static fm_rc m_commit(struct data_db *db, struct fm_err *err)
{
    (void)db, (void)err;
    CHECK(M.in_tx, "a commit ends a transaction that was begun");
    M.in_tx = 0;
    return FM_OK;
}
static void m_rollback(struct data_db *db)
{
    (void)db;
    M = saved;
    M.in_tx = 0;
}

static int user_at(const char *name)
{
    for (int i = 0; i < M.nusers; i++)
        if (!strcmp(M.users[i].name, name)) return i;
    return -1;
}
static void user_row(int i, struct store_user *u)
{
    *u = (struct store_user){M.users[i].id,     M.users[i].name,   M.users[i].party,
                             M.users[i].role,   M.users[i].pwhash, M.users[i].created_at};
}
static fm_rc m_parties_each(struct data_db *db, store_party_cb cb, void *ctx, struct fm_err *err)
{
    (void)db, (void)err;
    calls++;
    for (int i = 0; i < M.nparties; i++) {
        struct store_party p = {M.parties[i].code, M.parties[i].name, M.parties[i].colour,
                                M.parties[i].kind};
        if (cb(ctx, &p)) break;
    }
    return FM_OK;
}
static fm_rc m_users_each(struct data_db *db, int by_id, store_user_cb cb, void *ctx,
                          struct fm_err *err)
{
    (void)db, (void)err, (void)by_id; /* made in id order, names in the same order here */
    calls++;
    for (int i = 0; i < M.nusers; i++) {
        struct store_user u;
        user_row(i, &u);
        if (cb(ctx, &u)) break;
    }
    return FM_OK;
}
static fm_rc m_user_get(struct data_db *db, const char *name, store_user_cb cb, void *ctx,
                        struct fm_err *err)
{
    (void)db;
    calls++;
    int i = user_at(name);
    if (i < 0) return fm_fail(err, FM_ENOTFOUND, NULL, "no such user");
    struct store_user u;
    user_row(i, &u);
    cb(ctx, &u);
    return FM_OK;
}
static fm_rc m_user_count(struct data_db *db, long *out, struct fm_err *err)
{
    (void)db, (void)err;
    calls++;
    *out = M.nusers;
    return FM_OK;
}
static fm_rc m_secret_insert(struct data_db *db, enum store_secret_kind kind, const char *hash,
                             int64_t user_id, fm_time at, struct fm_err *err)
{
    (void)db, (void)err;
    calls++;
    int i = M.nsecrets++;
    M.secrets[i].kind = kind;
    snprintf(M.secrets[i].hash, sizeof M.secrets[i].hash, "%s", hash);
    M.secrets[i].user_id = user_id;
    M.secrets[i].created_at = M.secrets[i].used_at = at;
    return FM_OK;
}
static int secret_at(int kind, const char *hash)
{
    for (int i = 0; i < M.nsecrets; i++)
        if (M.secrets[i].kind == kind && !strcmp(M.secrets[i].hash, hash)) return i;
    return -1;
}
static fm_rc m_secret_get(struct data_db *db, enum store_secret_kind kind, const char *hash,
                          store_secret_cb cb, void *ctx, struct fm_err *err)
{
    (void)db;
    calls++;
    int i = secret_at(kind, hash);
    if (i < 0) return fm_fail(err, FM_ENOTFOUND, NULL, "no such secret");
    struct store_secret s;
    for (int u = 0; u < M.nusers; u++)
        if (M.users[u].id == M.secrets[i].user_id) user_row(u, &s.user);
    s.hash = M.secrets[i].hash;
    s.created_at = M.secrets[i].created_at;
    s.used_at = M.secrets[i].used_at;
    cb(ctx, &s);
    return FM_OK;
}
static fm_rc m_session_touch(struct data_db *db, const char *hash, fm_time at, struct fm_err *err)
{
    (void)db, (void)err;
    calls++;
    int i = secret_at(STORE_SESSION, hash);
    if (i >= 0) M.secrets[i].used_at = at;
    return FM_OK;
}
static fm_rc m_session_delete(struct data_db *db, const char *hash, struct fm_err *err)
{
    (void)db, (void)err;
    calls++;
    int i = secret_at(STORE_SESSION, hash);
    if (i >= 0) M.secrets[i] = M.secrets[--M.nsecrets];
    return FM_OK;
}
static int count_at(const char *key)
{
    for (int i = 0; i < M.ncounts; i++)
        if (!strcmp(M.counts[i].key, key)) return i;
    return -1;
}
static fm_rc m_count_get(struct data_db *db, const char *key, long *failures, int64_t *last_ms,
                         struct fm_err *err)
{
    (void)db, (void)err;
    calls++;
    int i = count_at(key);
    *failures = i < 0 ? 0 : M.counts[i].failures;
    *last_ms = i < 0 ? 0 : M.counts[i].last_ms;
    return FM_OK;
}
static fm_rc m_count_put(struct data_db *db, const char *key, long failures, int64_t last_ms,
                         struct fm_err *err)
{
    (void)db, (void)err;
    calls++;
    int i = count_at(key);
    if (i < 0) {
        i = M.ncounts++;
        snprintf(M.counts[i].key, sizeof M.counts[i].key, "%s", key);
    }
    M.counts[i].failures = failures;
    M.counts[i].last_ms = last_ms;
    return FM_OK;
}
static fm_rc m_count_delete(struct data_db *db, const char *key, struct fm_err *err)
{
    (void)db, (void)err;
    calls++;
    int i = count_at(key);
    if (i >= 0) M.counts[i] = M.counts[--M.ncounts];
    return FM_OK;
}
static fm_rc m_known_get(struct data_db *db, const char *key, int64_t since_ms, int *known,
                         struct fm_err *err)
{
    (void)db, (void)err;
    calls++;
    *known = 0;
    for (int i = 0; i < M.nknown; i++)
        if (!strcmp(M.known[i].key, key) && M.known[i].at_ms >= since_ms) *known = 1;
    return FM_OK;
}
static fm_rc m_known_put(struct data_db *db, const char *key, int64_t at_ms, struct fm_err *err)
{
    (void)db, (void)err;
    calls++;
    for (int i = 0; i < M.nknown; i++)
        if (!strcmp(M.known[i].key, key)) {
            M.known[i].at_ms = at_ms;
            return FM_OK;
        }
    snprintf(M.known[M.nknown].key, sizeof M.known[0].key, "%s", key);
    M.known[M.nknown++].at_ms = at_ms;
    return FM_OK;
}
static fm_rc m_login_forget(struct data_db *db, int64_t counts_ms, int64_t known_ms,
                            struct fm_err *err)
{
    (void)db, (void)err, (void)counts_ms, (void)known_ms; /* nothing here is that old */
    calls++;
    return FM_OK;
}

static const struct store_ops mem_store = {
    .name = "memory",
    .begin = m_begin,
    .commit = m_commit,
    .rollback = m_rollback,
    .parties_each = m_parties_each,
    .users_each = m_users_each,
    .user_get = m_user_get,
    .user_count = m_user_count,
    .secret_insert = m_secret_insert,
    .secret_get = m_secret_get,
    .session_touch = m_session_touch,
    .session_delete = m_session_delete,
    .count_get = m_count_get,
    .count_put = m_count_put,
    .count_delete = m_count_delete,
    .known_get = m_known_get,
    .known_put = m_known_put,
    .login_forget = m_login_forget,
};

/* ---- the rules over it ---------------------------------------------------- */

static void add_user(int64_t id, const char *name, const char *party, const char *role)
{
    int i = M.nusers++;
    M.users[i].id = id;
    snprintf(M.users[i].name, sizeof M.users[i].name, "%s", name);
    snprintf(M.users[i].party, sizeof M.users[i].party, "%s", party);
    snprintf(M.users[i].role, sizeof M.users[i].role, "%s", role);
    /* a hash of no password anyone knows: checks fail, in argon2id's time */
    snprintf(M.users[i].pwhash, sizeof M.users[i].pwhash, "%s",
             "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
             "QkWbDCjLRgd1RlyhvjwpPaKBcb6s8rc2umF9WtYAx1U");
    M.users[i].created_at = fm_time_now();
}

int main(void)
{
    struct data_db db;
    memset(&db, 0, sizeof db);
    db.ops = &mem_store; /* and no SQLite handle */
    struct fm_err err;
    CHECK(store_of(&db) == &mem_store, "the rules read the connection's store");
    snprintf(M.parties[0].code, 16, "A");
    snprintf(M.parties[0].name, 64, "Side A");
    snprintf(M.parties[0].colour, 16, "#1f77b4");
    snprintf(M.parties[0].kind, 16, "side");
    M.nparties = 1;
    add_user(7, "liaison-a", "A", "liaison");
    add_user(9, "viewer", "A", "viewer");

    json_t *parties = NULL;
    CHECK(data_parties(&db, &parties, &err) == FM_OK && json_array_size(parties) == 1 &&
              !strcmp(json_string_value(json_object_get(json_array_get(parties, 0), "colour")),
                      "#1f77b4"),
          "data_parties lists the store's parties");
    json_decref(parties);
    long n = 0;
    CHECK(data_user_count(&db, &n, &err) == FM_OK && n == 2, "the store counts the users");

    /* tokens: made for a user of the store, found again, and nothing else */
    char token[DATA_TOKEN_LEN];
    struct data_viewer v;
    CHECK(data_token_new(&db, "liaison-a", token, &err) == FM_OK, "a token for liaison-a");
    CHECK(data_token_get(&db, token, &v, &err) == FM_OK && v.user_id == 7 &&
              !strcmp(v.party, "A") && v.role == DATA_ROLE_LIAISON,
          "the token is liaison-a's, with its party and role");
    CHECK(data_token_new(&db, "nobody", token, &err) == FM_ENOTFOUND && token[0] == '\0',
          "no token for a user the store does not have");
    char other[DATA_TOKEN_LEN];
    snprintf(other, sizeof other, "fmt_%064d", 0);
    CHECK(data_token_get(&db, other, &v, &err) == FM_EUNAUTH, "an unknown token is refused");

    /* sessions: made, read, marked used, ended; an idle one has expired */
    struct data_viewer viewer = {9, "viewer", "A", DATA_ROLE_VIEWER};
    char sid[DATA_SECRET_LEN];
    struct data_session_policy pol = {3600, 86400};
    CHECK(data_session_new(&db, &viewer, sid, &err) == FM_OK && M.nsecrets == 2,
          "a session is one row of the store, by its hash");
    CHECK(strcmp(M.secrets[1].hash, sid) != 0, "the store keeps the hash, not the session id");
    CHECK(data_session_get(&db, sid, &pol, &v, &err) == FM_OK && v.user_id == 9 &&
              v.role == DATA_ROLE_VIEWER,
          "the session reads as its user");
    M.secrets[1].used_at -= 120;
    fm_time before = M.secrets[1].used_at;
    CHECK(data_session_peek(&db, sid, &pol, &v, &err) == FM_OK && M.secrets[1].used_at == before,
          "a peek does not mark the session used");
    CHECK(data_session_get(&db, sid, &pol, &v, &err) == FM_OK && M.secrets[1].used_at > before,
          "a read a minute later marks it used");
    M.secrets[1].used_at -= 4000;
    CHECK(data_session_get(&db, sid, &pol, &v, &err) == FM_EUNAUTH && strstr(err.msg, "expired"),
          "a session idle past the policy has expired");
    M.secrets[1].used_at += 4000;
    CHECK(data_session_end(&db, sid, &err) == FM_OK && M.nsecrets == 1 &&
              data_session_get(&db, sid, &pol, &v, &err) == FM_EUNAUTH,
          "an ended session is gone from the store");

    /* a wrong password, and an unknown user: the same answer */
    CHECK(data_user_check(&db, "liaison-a", "wrong", &v, &err) == FM_EUNAUTH,
          "a wrong password is refused");
    CHECK(data_user_check(&db, "nobody", "wrong", &v, &err) == FM_EUNAUTH,
          "an unknown user gets the same answer");

    /* the login policy: free failures, then a wait; a known address is
     * not held up by a guesser elsewhere */
    struct data_login_policy lp = {5, 50, 900, 120, 1000};
    int64_t wait = 0;
    int first_refused = 0;
    for (int i = 1; i <= 8 && !first_refused; i++) {
        fm_rc rc = data_login_allowed(&db, &lp, "liaison-a", "10.0.0.9", NULL, &wait, &err);
        if (rc == FM_ELIMIT)
            first_refused = i;
        else if (rc == FM_OK)
            data_login_failed(&db, &lp, "liaison-a", "10.0.0.9", NULL, &err);
    }
    CHECK(first_refused == 6 && wait > 0 && wait <= 1000,
          "after 5 free failures the 6th attempt waits one policy second: attempt %d, %lld ms",
          first_refused, (long long)wait);
    CHECK(!M.in_tx, "every transaction of the policy ended");
    CHECK(data_login_allowed(&db, &lp, "liaison-a", "10.0.0.1", NULL, &wait, &err) == FM_OK,
          "another address is not held up by the guesser's count");
    CHECK(data_login_succeeded(&db, &lp, "liaison-a", "10.0.0.1", NULL, &err) == FM_OK &&
              M.nknown == 1,
          "a login marks its address known, as a hash in the store");
    for (int i = 0; i < 20; i++)
        if (data_login_allowed(&db, &lp, "liaison-a", "10.0.0.7", NULL, &wait, &err) == FM_OK)
            data_login_failed(&db, &lp, "liaison-a", "10.0.0.7", NULL, &err);
    CHECK(data_login_allowed(&db, &lp, "liaison-a", "10.0.0.1", NULL, &wait, &err) == FM_OK,
          "the known address gets in while others guess at the account");
    CHECK(calls > 50, "the rules went through the store: %ld operations", calls);

    /* the backend is chosen by the --db argument; a URL is not a file: a
     * postgresql:// one is a server (none listens on port 1 here), any
     * other a clear error */
    struct data_db *pg = NULL;
    CHECK(data_open("postgresql://fm@127.0.0.1:1/cell", &pg, &err) != FM_OK && !pg &&
              strstr(err.msg, "cannot connect") && access("postgresql:", F_OK) != 0,
          "a postgresql:// URL is a server to connect to, not a file to create: %s", err.msg);
    CHECK(data_open("mysql://fm@127.0.0.1/cell", &pg, &err) == FM_EINVAL && !pg &&
              strstr(err.msg, "URL") && strstr(err.msg, "SQLite file"),
          "another URL is refused with a clear error: %s", err.msg);
    return SUMMARY();
}
