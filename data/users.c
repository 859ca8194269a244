/* users.c - parties, users with argon2id passwords, sessions and bearer
 * tokens. Session ids and tokens are random 256-bit values; only their
 * SHA-256 is stored, so a copy of the database logs nobody in. */
#include "internal.h"

#include <arpa/inet.h>
#include <argon2.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* argon2id, OWASP's minimum: 19 MiB, 2 passes, 1 lane */
#define PW_T_COST 2
#define PW_M_COST 19456
#define PW_LANES 1
#define PW_SALT 16
#define PW_HASH 32
#define PW_ENCODED 128

void sha256(const void *p, size_t n, unsigned char out[32])
{
    gnutls_hash_fast(GNUTLS_DIG_SHA256, p, n, out);
}

void sha256_hex(const char *s, char out[65])
{
    unsigned char d[32];
    sha256(s, strlen(s), d);
    fm_hex(d, 32, out);
}

static const char *const role_names[] = {"none", "liaison", "supervisor", "viewer", "admin"};

const char *data_role_name(enum data_role r)
{
    return (unsigned)r < sizeof role_names / sizeof *role_names ? role_names[r] : "none";
}

fm_rc data_role_parse(const char *s, enum data_role *out)
{
    *out = DATA_ROLE_NONE;
    for (int r = DATA_ROLE_LIAISON; r <= DATA_ROLE_ADMIN; r++)
        if (s && strcmp(s, role_names[r]) == 0) {
            *out = (enum data_role)r;
            return FM_OK;
        }
    return FM_EINVAL;
}

/* ---- parties and users as records in the log ---------------------------- */

/* Who writes the records of accounts: the command line and the admin
 * API alike (an admin is not a party to the map). */
static const struct data_viewer accounts_actor = {0, "system", "", DATA_ROLE_ADMIN};

/* A party's public fields as the JSON text its record holds (malloc). */
static char *party_text(const char *code, const char *name, const char *colour, const char *kind,
                        int found)
{
    json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "code", code, "name", name, "colour", colour,
                          "kind", kind);
    if (found) json_object_set_new(j, "found_at_upgrade", json_true());
    char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return t;
}

/* A user's public fields (never the password hash) as JSON text (malloc). */
static char *user_text(int64_t id, const char *name, const char *party, const char *role,
                       fm_time created_at, int found)
{
    char at[FM_TIME_STAMP_LEN];
    fm_time_format(created_at, at);
    json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)id, "name", name, "party",
                          party, "role", role, "created_at", at);
    if (found) json_object_set_new(j, "found_at_upgrade", json_true());
    char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return t;
}

/* The records of accounts are the operator's: no party reads them through
 * the log or the stream (owner-only, of no owner); `events export` and
 * verify see them. */
static fm_rc user_record(struct data_db *db, const char *action, int64_t id, const char *before,
                         const char *after, fm_time at, struct fm_err *err)
{
    return events_append_ex(db, &accounts_actor, action, "users", id, 0, before, after, NULL,
                            before != NULL, 1, at, err);
}

static fm_rc party_record(struct data_db *db, const char *action, const char *before,
                          const char *after, fm_time at, struct fm_err *err)
{
    return events_append_ex(db, &accounts_actor, action, "parties", 0, 0, before, after, NULL,
                            before != NULL, 1, at, err);
}

fm_rc accounts_record_existing(struct data_db *db, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_time now = fm_time_now();
    fm_rc rc = db_prepare(db, "SELECT code, name, colour, kind FROM parties ORDER BY code", &st,
                          err);
    if (rc) return rc;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        char *t = party_text(db_text(st, 0), db_text(st, 1), db_text(st, 2), db_text(st, 3), 1);
        rc = party_record(db, "party_add", NULL, t, now, err);
        free(t);
    }
    sqlite3_finalize(st);
    if (rc) return rc;
    if ((rc = db_prepare(db, "SELECT id, name, party, role, created_at FROM users ORDER BY id", &st,
                         err)))
        return rc;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        char *t = user_text(sqlite3_column_int64(st, 0), db_text(st, 1), db_text(st, 2),
                            db_text(st, 3), sqlite3_column_int64(st, 4), 1);
        rc = user_record(db, "user_add", sqlite3_column_int64(st, 0), NULL, t, now, err);
        free(t);
    }
    sqlite3_finalize(st);
    return rc;
}

fm_rc data_party_add(struct data_db *db, const char *code, const char *name, const char *colour,
                     const char *kind, struct fm_err *err)
{
    sqlite3_stmt *st;
    char *before = NULL, *after = party_text(code, name, colour, kind, 0);
    fm_rc rc = db_begin(db, err);
    if (rc) goto done;
    if ((rc = db_prepare(db, "SELECT name, colour, kind FROM parties WHERE code = ?", &st, err)))
        goto fail;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        before = party_text(code, db_text(st, 0), db_text(st, 1), db_text(st, 2), 0);
    sqlite3_finalize(st);
    if (before && !strcmp(before, after)) goto fail; /* unchanged: nothing to write */
    if ((rc = db_prepare(db,
                         "INSERT INTO parties (code, name, colour, kind) VALUES (?,?,?,?)"
                         " ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
                         " colour = excluded.colour, kind = excluded.kind",
                         &st, err)))
        goto fail;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, colour, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sqlite3_errcode(db->h) == SQLITE_CONSTRAINT
                 ? fm_fail(err, FM_EINVAL, "kind", "party %s: kind must be side or supervisor",
                           code)
                 : db_fail(db, err, "party add");
    }
    sqlite3_finalize(st);
    if (!rc)
        rc = party_record(db, before ? "party_change" : "party_add", before, after, fm_time_now(),
                          err);
    if (!rc) {
        rc = db_commit(db, err);
        goto done;
    }
fail:
    db_rollback(db);
done:
    free(before);
    free(after);
    return rc;
}

fm_rc data_parties(struct data_db *db, json_t **out, struct fm_err *err)
{
    *out = NULL;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT code, name, colour, kind FROM parties ORDER BY code", &st,
                          err);
    if (rc) return rc;
    json_t *arr = json_array();
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "code", db_text(st, 0), "name",
                                             db_text(st, 1), "colour", db_text(st, 2), "kind",
                                             db_text(st, 3)));
    if (s != SQLITE_DONE) {
        rc = db_fail(db, err, "parties");
        json_decref(arr);
    } else {
        *out = arr;
    }
    sqlite3_finalize(st);
    return rc;
}

fm_rc data_user_add(struct data_db *db, const char *name, const char *party, enum data_role role,
                    const char *password, struct fm_err *err)
{
    if (!name || !*name || strlen(name) >= sizeof((struct data_viewer *)0)->user)
        return fm_fail(err, FM_EINVAL, "name", "a user name is 1 to 63 bytes");
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("._-@", *p)))
            return fm_fail(err, FM_EINVAL, "name",
                           "a user name may hold letters, digits and . _ - @ only");
    if (role == DATA_ROLE_NONE) return fm_fail(err, FM_EINVAL, "role", "unknown role");
    if (!password || strlen(password) < 4)
        return fm_fail(err, FM_EINVAL, "password", "a password needs at least 4 characters");

    unsigned char salt[PW_SALT];
    char encoded[PW_ENCODED];
    if (fm_random(salt, sizeof salt)) return fm_fail(err, FM_EIO, NULL, "no randomness");
    int a = argon2id_hash_encoded(PW_T_COST, PW_M_COST, PW_LANES, password, strlen(password),
                                  salt, sizeof salt, PW_HASH, encoded, sizeof encoded);
    if (a != ARGON2_OK)
        return fm_fail(err, FM_EINTERNAL, NULL, "argon2: %s", argon2_error_message(a));

    sqlite3_stmt *st;
    fm_rc rc = db_begin(db, err);
    if (rc) return rc;
    if ((rc = db_prepare(db,
                         "INSERT INTO users (name, party, role, pwhash, created_at)"
                         " SELECT ?1, ?2, ?3, ?4, ?5"
                         " WHERE EXISTS (SELECT 1 FROM parties WHERE code = ?2)",
                         &st, err))) {
        db_rollback(db);
        return rc;
    }
    fm_time now = fm_time_now();
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, data_role_name(role), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, encoded, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    int s = sqlite3_step(st);
    if (s == SQLITE_CONSTRAINT)
        rc = fm_fail(err, FM_ECONFLICT, "name", "user %s exists already", name);
    else if (s != SQLITE_DONE)
        rc = db_fail(db, err, "user add");
    else if (sqlite3_changes(db->h) == 0)
        rc = fm_fail(err, FM_EINVAL, "party", "no party %s", party);
    sqlite3_finalize(st);
    if (!rc) {
        int64_t id = sqlite3_last_insert_rowid(db->h);
        char *after = user_text(id, name, party, data_role_name(role), now, 0);
        rc = user_record(db, "user_add", id, NULL, after, now, err);
        free(after);
    }
    if (!rc) return db_commit(db, err);
    db_rollback(db);
    return rc;
}

static void viewer_from_row(sqlite3_stmt *st, int first, struct data_viewer *out)
{
    out->user_id = sqlite3_column_int64(st, first);
    snprintf(out->user, sizeof out->user, "%s", db_text(st, first + 1));
    snprintf(out->party, sizeof out->party, "%s", db_text(st, first + 2));
    data_role_parse(db_text(st, first + 3), &out->role);
}

/* A real hash of nothing anyone knows, to verify against when the user is
 * unknown, so that the answer takes as long as for a wrong password. */
static char dummy[PW_ENCODED];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
    unsigned char salt[PW_SALT], pw[16];
    fm_random(salt, sizeof salt);
    fm_random(pw, sizeof pw);
    argon2id_hash_encoded(PW_T_COST, PW_M_COST, PW_LANES, pw, sizeof pw, salt, sizeof salt,
                          PW_HASH, dummy, sizeof dummy);
}

fm_rc data_user_check(struct data_db *db, const char *name, const char *password,
                      struct data_viewer *out, struct fm_err *err)
{
    pthread_once(&dummy_once, make_dummy_hash);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT id, name, party, role, pwhash FROM users WHERE name = ?",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE) {
        rc = db_fail(db, err, "user check");
        goto done;
    }
    const char *hash = s == SQLITE_ROW ? db_text(st, 4) : dummy;
    const char *pw = password ? password : "";
    int ok = argon2id_verify(hash, pw, strlen(pw)) == ARGON2_OK;
    if (s == SQLITE_ROW && ok) {
        viewer_from_row(st, 0, out);
    } else {
        rc = fm_fail(err, FM_EUNAUTH, NULL, "unknown user or wrong password");
    }
done:
    sqlite3_finalize(st);
    return rc;
}

fm_rc data_user_count(struct data_db *db, long *out, struct fm_err *err)
{
    *out = 0;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT count(*) FROM users", &st, err);
    if (rc) return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = (long)sqlite3_column_int64(st, 0);
    else
        rc = db_fail(db, err, "user count");
    sqlite3_finalize(st);
    return rc;
}

fm_rc data_users(struct data_db *db, json_t **out, struct fm_err *err)
{
    *out = NULL;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT name, party, role, created_at FROM users ORDER BY name", &st,
                          err);
    if (rc) return rc;
    json_t *arr = json_array();
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        char at[FM_TIME_STAMP_LEN];
        fm_time_format(sqlite3_column_int64(st, 3), at);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "name", db_text(st, 0), "party",
                                             db_text(st, 1), "role", db_text(st, 2),
                                             "created_at", at));
    }
    if (s != SQLITE_DONE) {
        rc = db_fail(db, err, "users");
        json_decref(arr);
    } else {
        *out = arr;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- sessions and tokens ---------------------------------------------- */

static fm_rc new_secret(char *hex)
{
    unsigned char raw[32];
    if (fm_random(raw, sizeof raw)) return FM_EIO;
    fm_hex(raw, sizeof raw, hex);
    return FM_OK;
}

/* Runs a one-row INSERT/UPDATE/DELETE with (text hash, int64 a, int64 b). */
static fm_rc write_secret(struct data_db *db, const char *sql, const char *hash, int64_t a,
                          int64_t b, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a);
    sqlite3_bind_int64(st, 3, b);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "session write");
    sqlite3_finalize(st);
    return rc;
}

fm_rc data_session_new(struct data_db *db, const struct data_viewer *v, char *id,
                       struct fm_err *err)
{
    char hash[65];
    id[0] = '\0';
    if (new_secret(id)) return fm_fail(err, FM_EIO, NULL, "no randomness");
    sha256_hex(id, hash);
    fm_time now = fm_time_now();
    fm_rc rc = write_secret(db,
                            "INSERT INTO sessions (idhash, user_id, created_at, used_at)"
                            " VALUES (?1, ?2, ?3, ?3)",
                            hash, v->user_id, now, err);
    if (rc) id[0] = '\0';
    return rc;
}

static fm_rc session_lookup(struct data_db *db, const char *id, const struct data_session_policy *p,
                            int touch, struct data_viewer *out, struct fm_err *err)
{
    memset(out, 0, sizeof *out);
    if (!id || strlen(id) != 64) return fm_fail(err, FM_EUNAUTH, NULL, "no session");
    char hash[65];
    sha256_hex(id, hash);
    fm_time now = fm_time_now();
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT u.id, u.name, u.party, u.role, s.created_at, s.used_at"
                          " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.idhash = ?",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        int64_t created = sqlite3_column_int64(st, 4), used = sqlite3_column_int64(st, 5);
        if (now - used > p->idle_seconds || now - created > p->absolute_seconds) {
            rc = fm_fail(err, FM_EUNAUTH, NULL, "the session has expired; log in again");
        } else {
            viewer_from_row(st, 0, out);
            /* mark it used now and then (a minute, or a quarter of the idle
             * time if shorter), so that most reads stay read-only */
            long mark = p->idle_seconds / 4 < 60 ? p->idle_seconds / 4 : 60;
            if (touch && now - used >= mark) {
                sqlite3_finalize(st);
                st = NULL;
                rc = write_secret(db, "UPDATE sessions SET used_at = ?2 WHERE idhash = ?1", hash,
                                  now, 0, err);
            }
        }
    } else if (s == SQLITE_DONE) {
        rc = fm_fail(err, FM_EUNAUTH, NULL, "no such session; log in again");
    } else {
        rc = db_fail(db, err, "session get");
    }
    sqlite3_finalize(st);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

fm_rc data_session_get(struct data_db *db, const char *id, const struct data_session_policy *p,
                       struct data_viewer *out, struct fm_err *err)
{
    return session_lookup(db, id, p, 1, out, err);
}

fm_rc data_session_peek(struct data_db *db, const char *id, const struct data_session_policy *p,
                        struct data_viewer *out, struct fm_err *err)
{
    return session_lookup(db, id, p, 0, out, err);
}

fm_rc data_session_end(struct data_db *db, const char *id, struct fm_err *err)
{
    char hash[65];
    sha256_hex(id ? id : "", hash);
    return write_secret(db, "DELETE FROM sessions WHERE idhash = ?1 AND ?2 = ?3", hash, 0, 0, err);
}

fm_rc data_token_new(struct data_db *db, const char *user, char *token, struct fm_err *err)
{
    char secret[65], hash[65];
    token[0] = '\0';
    if (new_secret(secret)) return fm_fail(err, FM_EIO, NULL, "no randomness");
    snprintf(token, DATA_TOKEN_LEN, "fmt_%s", secret);
    sha256_hex(token, hash);
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "INSERT INTO tokens (hash, user_id, created_at)"
                          " SELECT ?1, id, ?2 FROM users WHERE name = ?3",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, fm_time_now());
    sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(db, err, "token add");
    else if (sqlite3_changes(db->h) == 0)
        rc = fm_fail(err, FM_ENOTFOUND, "user", "no user %s", user);
    sqlite3_finalize(st);
    if (rc) token[0] = '\0';
    return rc;
}

fm_rc data_token_get(struct data_db *db, const char *token, struct data_viewer *out,
                     struct fm_err *err)
{
    memset(out, 0, sizeof *out);
    if (!token || strlen(token) != DATA_TOKEN_LEN - 1)
        return fm_fail(err, FM_EUNAUTH, NULL, "invalid token");
    char hash[65];
    sha256_hex(token, hash);
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db,
                         "SELECT u.id, u.name, u.party, u.role, t.hash FROM tokens t"
                         " JOIN users u ON u.id = t.user_id WHERE t.hash = ?",
                         &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    /* the lookup is by hash; compare the stored hash in constant time too */
    if (s == SQLITE_ROW && strlen(db_text(st, 4)) == 64 && fm_ct_equal(db_text(st, 4), hash, 64))
        viewer_from_row(st, 0, out);
    else if (s == SQLITE_ROW || s == SQLITE_DONE)
        rc = fm_fail(err, FM_EUNAUTH, NULL, "invalid token");
    else
        rc = db_fail(db, err, "token get");
    db_release(st);
    return rc;
}

/* ---- login throttling ------------------------------------------------- */

/* The policy is in data.h. Times are wall-clock milliseconds (they outlive
 * the process); every length scales with the policy second. */
#define LOGIN_FORGET 86400        /* policy seconds without a failure: a count is forgotten */
#define LOGIN_KNOWN (30L * 86400) /* policy seconds a pair stays known after its last login */

struct login_policy {
    long pair_free, account_free, address_free;
    int64_t unit_ms, pair_cap_ms, known_cap_ms, max_ms, forget_ms, known_ms;
};

static void login_policy(const struct data_login_policy *p, struct login_policy *q)
{
    q->unit_ms = p->delay_unit_ms > 0 ? p->delay_unit_ms : 1000;
    q->pair_free = p->account_failures > 0 ? p->account_failures : 5;
    q->account_free = 2 * q->pair_free;
    q->address_free = p->address_failures > 0 ? p->address_failures : 50;
    long max = p->delay_max > 0 ? p->delay_max : 120;
    long pair = p->window_seconds > max ? p->window_seconds : max;
    q->max_ms = max * q->unit_ms;
    q->pair_cap_ms = pair * q->unit_ms;
    q->known_cap_ms = max >= 4 ? max / 4 * q->unit_ms : q->unit_ms;
    q->forget_ms = LOGIN_FORGET * q->unit_ms;
    if (q->forget_ms < 2 * q->pair_cap_ms) q->forget_ms = 2 * q->pair_cap_ms;
    q->known_ms = LOGIN_KNOWN * q->unit_ms;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What of addr counts: an IPv4 address; an IPv6 address's /64 (one host's
 * privacy addresses, one site); an IPv4-mapped IPv6 address is its IPv4. */
static void login_net(const char *addr, char out[64])
{
    unsigned char b[16];
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (addr && inet_pton(AF_INET6, addr, b) == 1) {
        if (memcmp(b, mapped, sizeof mapped) == 0) {
            snprintf(out, 64, "%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
        } else {
            char hex[17];
            fm_hex(b, 8, hex);
            snprintf(out, 64, "%s/64", hex);
        }
        return;
    }
    snprintf(out, 64, "%s", addr ? addr : "");
}

/* A count's or a known pair's key: hex SHA-256 of its kind, account and
 * address (or device), so that the table names neither (though anyone holding the file
 * can still try every IPv4 address against it). */
static void login_key(char kind, const char *user, const char *net, char out[65])
{
    size_t n = strlen(user) + strlen(net) + 64;
    char *buf = fm_xmalloc(n);
    int len = snprintf(buf, n, "fusionmap login %c %zu:%s %s", kind, strlen(user), user, net);
    unsigned char d[32];
    sha256(buf, (size_t)len, d);
    fm_hex(d, 32, out);
    free(buf);
}

struct login_count {
    char key[65];
    long free;
    int64_t cap_ms;
    long failures; /* within the forgetting time, else 0 */
    int64_t last_ms;
};

static fm_rc login_count_read(struct data_db *db, struct login_count *c, int64_t now,
                              int64_t forget_ms, struct fm_err *err)
{
    c->failures = 0;
    c->last_ms = 0;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT failures, last_at FROM login_throttle WHERE key = ?", &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, c->key, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW && now - sqlite3_column_int64(st, 1) <= forget_ms) {
        c->failures = (long)sqlite3_column_int64(st, 0);
        c->last_ms = sqlite3_column_int64(st, 1);
    } else if (s != SQLITE_ROW && s != SQLITE_DONE) {
        rc = db_fail(db, err, "login count");
    }
    sqlite3_finalize(st);
    return rc;
}

/* When the count lets the next attempt through: 1, 2, 4, ... units after
 * the last failure once the free ones are spent, never more than its cap. */
static int64_t login_count_until(const struct login_count *c, int64_t unit_ms)
{
    if (c->failures < c->free) return 0;
    long k = c->failures - c->free;
    int64_t d = k < 40 ? unit_ms << k : c->cap_ms;
    return c->last_ms + (d < c->cap_ms ? d : c->cap_ms);
}

/* Runs sql with key, a and b as its parameters in this order (key NULL:
 * a and b only); a statement with fewer takes the first ones. */
static fm_rc login_exec(struct data_db *db, const char *sql, const char *key, int64_t a, int64_t b,
                        struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, sql, &st, err);
    if (rc) return rc;
    int n = sqlite3_bind_parameter_count(st), i = 1;
    if (key) sqlite3_bind_text(st, i++, key, -1, SQLITE_STATIC);
    if (i <= n) sqlite3_bind_int64(st, i++, a);
    if (i <= n) sqlite3_bind_int64(st, i, b);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "login throttling");
    sqlite3_finalize(st);
    return rc;
}

static fm_rc login_known(struct data_db *db, const char *key, int64_t since, int *known,
                         struct fm_err *err)
{
    *known = 0;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT 1 FROM login_known WHERE key = ? AND at >= ?", &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) *known = 1;
    else if (s != SQLITE_DONE) rc = db_fail(db, err, "login known");
    sqlite3_finalize(st);
    return rc;
}

/* The counts of one attempt: its own (the pair's, or the device's), the
 * account's over its unknown addresses, the address's over all accounts. */
enum { LC_OWN, LC_ACCOUNT, LC_ADDRESS, LC_N };

struct login_attempt {
    struct login_count c[LC_N];
    char addr_known[65], device_known[65]; /* keys in login_known; "" without a device */
    int known;  /* 0: neither; 1: the address; 2: the device has logged in to the account */
};

/* Keys and policy of user's attempt from addr with device (NULL: none);
 * then, in the transaction, which of them is known, and so which count is
 * its own. */
static fm_rc login_attempt(struct data_db *db, const struct login_policy *q, const char *user,
                           const char *addr, const char *device, int64_t now,
                           struct login_attempt *t, struct fm_err *err)
{
    char net[64];
    login_net(addr, net);
    if (!user) user = "";
    login_key('k', user, net, t->addr_known);
    t->device_known[0] = '\0';
    if (device) login_key('K', user, device, t->device_known);
    int a = 0, d = 0;
    fm_rc rc = login_known(db, t->addr_known, now - q->known_ms, &a, err);
    if (!rc && device) rc = login_known(db, t->device_known, now - q->known_ms, &d, err);
    if (rc) return rc;
    t->known = d ? 2 : a ? 1 : 0;
    struct login_count *c = t->c;
    if (t->known == 2)
        login_key('d', user, device, c[LC_OWN].key);
    else
        login_key('p', user, net, c[LC_OWN].key);
    c[LC_OWN].free = q->pair_free;
    c[LC_OWN].cap_ms = t->known ? q->known_cap_ms : q->pair_cap_ms;
    login_key('a', user, "", c[LC_ACCOUNT].key);
    c[LC_ACCOUNT].free = q->account_free;
    c[LC_ACCOUNT].cap_ms = q->max_ms;
    login_key('n', "", net, c[LC_ADDRESS].key);
    c[LC_ADDRESS].free = q->address_free;
    c[LC_ADDRESS].cap_ms = q->max_ms;
    return FM_OK;
}

#define LOGIN_UPSERT                                                                              \
    "INSERT INTO login_throttle (key, failures, last_at) VALUES (?1, ?2, ?3)"                      \
    " ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at"

fm_rc data_login_allowed(struct data_db *db, const struct data_login_policy *p, const char *user,
                         const char *addr, const char *device, int64_t *retry_after_ms,
                         struct fm_err *err)
{
    *retry_after_ms = 0;
    struct login_policy q;
    login_policy(p, &q);
    int64_t now = wall_ms();
    struct login_attempt t;
    /* read, decide and count in one write transaction: attempts in
     * parallel see each other's counts */
    fm_rc rc = db_begin(db, err);
    if (rc) return rc;
    if ((rc = login_exec(db, "DELETE FROM login_throttle WHERE last_at < ?", NULL,
                         now - q.forget_ms, 0, err)) ||
        (rc = login_exec(db, "DELETE FROM login_known WHERE at < ?", NULL, now - q.known_ms, 0,
                         err)) ||
        (rc = login_attempt(db, &q, user, addr, device, now, &t, err)))
        goto fail;
    int64_t until = 0;
    for (int i = 0; i < LC_N; i++) {
        if ((rc = login_count_read(db, &t.c[i], now, q.forget_ms, err))) goto fail;
        /* a known address or device waits for its own count only */
        if (t.known && i != LC_OWN) continue;
        int64_t u = login_count_until(&t.c[i], q.unit_ms);
        if (u > until) until = u;
    }
    if (until > now) {
        db_rollback(db); /* a refusal counts nothing: waits end */
        *retry_after_ms = until - now;
        return fm_fail(err, FM_ELIMIT, NULL, "too many failed logins; try again in %.3f s",
                       (double)(until - now) / 1000.0);
    }
    /* counted as a failure now, taken back by data_login_succeeded; the
     * account's count is of its unknown addresses only */
    for (int i = 0; i < LC_N; i++)
        if (!(t.known && i == LC_ACCOUNT) &&
            (rc = login_exec(db, LOGIN_UPSERT, t.c[i].key, t.c[i].failures + 1, now, err)))
            goto fail;
    return db_commit(db, err);
fail:
    db_rollback(db);
    return rc;
}

fm_rc data_login_failed(struct data_db *db, const struct data_login_policy *p, const char *user,
                        const char *addr, const char *device, struct fm_err *err)
{
    struct login_policy q;
    login_policy(p, &q);
    int64_t now = wall_ms();
    struct login_attempt t;
    static const char restart[] =
        "UPDATE login_throttle SET last_at = max(last_at, ?2) WHERE key = ?1";
    fm_rc rc = db_begin(db, err);
    if (rc) return rc;
    if ((rc = login_attempt(db, &q, user, addr, device, now, &t, err)) ||
        (rc = login_exec(db, restart, t.c[LC_OWN].key, now, 0, err)) ||
        (rc = login_exec(db, restart, t.c[LC_ADDRESS].key, now, 0, err)) ||
        (!t.known && (rc = login_exec(db, restart, t.c[LC_ACCOUNT].key, now, 0, err))))
        goto fail;
    return db_commit(db, err);
fail:
    db_rollback(db);
    return rc;
}

fm_rc data_login_succeeded(struct data_db *db, const struct data_login_policy *p,
                           const char *user, const char *addr, const char *device,
                           struct fm_err *err)
{
    struct login_policy q;
    login_policy(p, &q);
    int64_t now = wall_ms();
    struct login_attempt t;
    static const char take_back[] =
        "UPDATE login_throttle SET failures = max(failures - 1, 0) WHERE key = ?1";
    static const char mark_known[] = "INSERT INTO login_known (key, at) VALUES (?1, ?2)"
                                     " ON CONFLICT (key) DO UPDATE SET at = excluded.at";
    fm_rc rc = db_begin(db, err);
    if (rc) return rc;
    if ((rc = login_attempt(db, &q, user, addr, device, now, &t, err)) ||
        (rc = login_exec(db, "DELETE FROM login_throttle WHERE key = ?1", t.c[LC_OWN].key, 0, 0,
                         err)) ||
        (rc = login_exec(db, take_back, t.c[LC_ADDRESS].key, 0, 0, err)) ||
        (!t.known && (rc = login_exec(db, take_back, t.c[LC_ACCOUNT].key, 0, 0, err))) ||
        (rc = login_exec(db, mark_known, t.addr_known, now, 0, err)) ||
        (device && (rc = login_exec(db, mark_known, t.device_known, now, 0, err))))
        goto fail;
    return db_commit(db, err);
fail:
    db_rollback(db);
    return rc;
}
