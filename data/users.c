/* users.c - parties, users with argon2id passwords, sessions and bearer
 * tokens. Session ids and tokens are random 256-bit values; only their
 * SHA-256 is stored, so a copy of the database logs nobody in. */
#include "internal.h"

#include <argon2.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Failures of key within the window, and when the oldest of them leaves it. */
static fm_rc failures(struct data_db *db, const char *key, fm_time since, long *n, fm_time *oldest,
                      struct fm_err *err)
{
    *n = 0;
    *oldest = 0;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, "SELECT count(*), min(at) FROM login_failures WHERE key = ? AND at > ?",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *n = (long)sqlite3_column_int64(st, 0);
        *oldest = sqlite3_column_int64(st, 1);
    } else {
        rc = db_fail(db, err, "login failures");
    }
    sqlite3_finalize(st);
    return rc;
}

fm_rc data_login_allowed(struct data_db *db, const struct data_login_policy *p, const char *user,
                         const char *addr, long *retry_after, struct fm_err *err)
{
    *retry_after = 0;
    fm_time now = fm_time_now(), since = now - p->window_seconds;
    char key[128];
    const struct {
        const char *kind, *value;
        long max;
    } keys[] = {{"user", user ? user : "", p->account_failures},
                {"addr", addr ? addr : "", p->address_failures}};
    for (size_t i = 0; i < 2; i++) {
        long n;
        fm_time oldest;
        snprintf(key, sizeof key, "%s:%s", keys[i].kind, keys[i].value);
        fm_rc rc = failures(db, key, since, &n, &oldest, err);
        if (rc) return rc;
        if (n >= keys[i].max) {
            long wait = (long)(oldest + p->window_seconds - now);
            *retry_after = wait > 1 ? wait : 1;
            return fm_fail(err, FM_ELIMIT, NULL,
                           "too many failed logins for this %s; try again in %ld s",
                           i == 0 ? "account" : "address", *retry_after);
        }
    }
    return FM_OK;
}

static fm_rc failure_row(struct data_db *db, const char *sql, const char *key, int64_t at,
                         struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, at);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "login failure");
    sqlite3_finalize(st);
    return rc;
}

fm_rc data_login_failed(struct data_db *db, const struct data_login_policy *p, const char *user,
                        const char *addr, struct fm_err *err)
{
    fm_time now = fm_time_now();
    char k1[128], k2[128];
    snprintf(k1, sizeof k1, "user:%s", user ? user : "");
    snprintf(k2, sizeof k2, "addr:%s", addr ? addr : "");
    fm_rc rc = db_begin(db, err);
    if (rc) return rc;
    if ((rc = failure_row(db, "DELETE FROM login_failures WHERE ?1 = ?1 AND at <= ?2", "",
                          now - p->window_seconds, err)) ||
        (rc = failure_row(db, "INSERT INTO login_failures (key, at) VALUES (?, ?)", k1, now, err)) ||
        (rc = failure_row(db, "INSERT INTO login_failures (key, at) VALUES (?, ?)", k2, now, err))) {
        db_rollback(db);
        return rc;
    }
    return db_commit(db, err);
}

fm_rc data_login_succeeded(struct data_db *db, const char *user, struct fm_err *err)
{
    char key[128];
    snprintf(key, sizeof key, "user:%s", user);
    return failure_row(db, "DELETE FROM login_failures WHERE key = ?1 AND ?2 = ?2", key, 0, err);
}
