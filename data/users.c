/* users.c - parties, users with argon2id passwords, sessions and bearer
 * tokens. Session ids and tokens are random 256-bit values; only their
 * SHA-256 is stored, so a copy of the database logs nobody in. */
#include "internal.h"
#include "store.h"

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

/* Collects record texts while the store is read, to write them after. */
static int collect_party(void *ctx, const struct store_party *p)
{
    char *t = party_text(p->code, p->name, p->colour, p->kind, 1);
    json_array_append_new(ctx, json_string(t));
    free(t);
    return 0;
}

static int collect_user(void *ctx, const struct store_user *u)
{
    char *t = user_text(u->id, u->name, u->party, u->role, u->created_at, 1);
    json_array_append_new(ctx, json_pack("{s:I,s:s}", "id", (json_int_t)u->id, "text", t));
    free(t);
    return 0;
}

fm_rc accounts_record_existing(struct data_db *db, struct fm_err *err)
{
    const struct store_ops *ops = store_of(db);
    fm_time now = fm_time_now();
    json_t *parties = json_array(), *users = json_array();
    fm_rc rc = ops->parties_each(db, collect_party, parties, err);
    if (!rc) rc = ops->users_each(db, 1, collect_user, users, err);
    size_t i;
    json_t *e;
    json_array_foreach(parties, i, e) if (!rc) rc =
        party_record(db, "party_add", NULL, json_string_value(e), now, err);
    json_array_foreach(users, i, e) if (!rc) rc =
        user_record(db, "user_add", json_integer_value(json_object_get(e, "id")), NULL,
                    json_string_value(json_object_get(e, "text")), now, err);
    json_decref(parties);
    json_decref(users);
    return rc;
}

static int party_before(void *ctx, const struct store_party *p)
{
    *(char **)ctx = party_text(p->code, p->name, p->colour, p->kind, 0);
    return 1;
}

fm_rc data_party_add(struct data_db *db, const char *code, const char *name, const char *colour,
                     const char *kind, struct fm_err *err)
{
    /* a record's owner may list parties with "," (vis_owner_has); the
     * rules copy codes into 16 bytes (a longer one would be cut, and two
     * parties could look alike); and a control character is escaped
     * differently by jansson's canonical text and RFC 8785's (issue 20):
     * so letters, digits, '-' and '_', 1 to 15 of them */
    size_t n = strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
    if (n == 0 || n > 15 || code[n])
        return fm_fail(err, FM_EINVAL, "/code",
                       "a party code is 1 to 15 letters, digits, '-' or '_'");
    const struct store_ops *ops = store_of(db);
    char *before = NULL, *after = party_text(code, name, colour, kind, 0);
    fm_rc rc = ops->begin(db, err);
    if (rc) goto done;
    rc = ops->party_get(db, code, party_before, &before, err);
    if (rc == FM_ENOTFOUND) rc = FM_OK;
    if (rc) goto fail;
    if (before && !strcmp(before, after)) goto fail; /* unchanged: nothing to write */
    struct store_party p = {code, name, colour, kind};
    if ((rc = ops->party_put(db, &p, err))) goto fail;
    if ((rc = party_record(db, before ? "party_change" : "party_add", before, after,
                           fm_time_now(), err)))
        goto fail;
    rc = ops->commit(db, err);
    goto done;
fail:
    ops->rollback(db);
done:
    free(before);
    free(after);
    return rc;
}

static int party_json(void *ctx, const struct store_party *p)
{
    json_array_append_new(ctx, json_pack("{s:s,s:s,s:s,s:s}", "code", p->code, "name", p->name,
                                         "colour", p->colour, "kind", p->kind));
    return 0;
}

fm_rc data_parties(struct data_db *db, json_t **out, struct fm_err *err)
{
    json_t *arr = json_array();
    fm_rc rc = store_of(db)->parties_each(db, party_json, arr, err);
    if (rc) {
        json_decref(arr);
        arr = NULL;
    }
    *out = arr;
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

    const struct store_ops *ops = store_of(db);
    fm_rc rc = ops->begin(db, err);
    if (rc) return rc;
    fm_time now = fm_time_now();
    struct store_user u = {0, name, party, data_role_name(role), encoded, now};
    int64_t id;
    rc = ops->user_insert(db, &u, &id, err);
    if (rc == FM_ENOTFOUND) rc = fm_fail(err, FM_EINVAL, "party", "no party %s", party);
    if (!rc) {
        char *after = user_text(id, name, party, data_role_name(role), now, 0);
        rc = user_record(db, "user_add", id, NULL, after, now, err);
        free(after);
    }
    if (!rc) return ops->commit(db, err);
    ops->rollback(db);
    return rc;
}

static void viewer_from_user(const struct store_user *u, struct data_viewer *out)
{
    out->user_id = u->id;
    snprintf(out->user, sizeof out->user, "%s", u->name);
    snprintf(out->party, sizeof out->party, "%s", u->party);
    data_role_parse(u->role, &out->role);
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

struct user_found {
    struct data_viewer v;
    char pwhash[256];
};

static int user_found(void *ctx, const struct store_user *u)
{
    struct user_found *f = ctx;
    viewer_from_user(u, &f->v);
    snprintf(f->pwhash, sizeof f->pwhash, "%s", u->pwhash);
    return 1;
}

fm_rc data_user_check(struct data_db *db, const char *name, const char *password,
                      struct data_viewer *out, struct fm_err *err)
{
    pthread_once(&dummy_once, make_dummy_hash);
    memset(out, 0, sizeof *out);
    struct user_found f;
    memset(&f, 0, sizeof f);
    fm_rc rc = store_of(db)->user_get(db, name ? name : "", user_found, &f, err);
    if (rc && rc != FM_ENOTFOUND) return rc;
    int known = rc == FM_OK;
    /* an unknown user is checked against a real hash too: the same time */
    const char *pw = password ? password : "";
    int ok = argon2id_verify(known ? f.pwhash : dummy, pw, strlen(pw)) == ARGON2_OK;
    if (known && ok) {
        *out = f.v;
        return FM_OK;
    }
    return fm_fail(err, FM_EUNAUTH, NULL, "unknown user or wrong password");
}

fm_rc data_user_count(struct data_db *db, long *out, struct fm_err *err)
{
    return store_of(db)->user_count(db, out, err);
}

static int user_json(void *ctx, const struct store_user *u)
{
    char at[FM_TIME_STAMP_LEN];
    fm_time_format(u->created_at, at);
    json_array_append_new(ctx, json_pack("{s:s,s:s,s:s,s:s}", "name", u->name, "party",
                                         u->party, "role", u->role, "created_at", at));
    return 0;
}

fm_rc data_users(struct data_db *db, json_t **out, struct fm_err *err)
{
    json_t *arr = json_array();
    fm_rc rc = store_of(db)->users_each(db, 0, user_json, arr, err);
    if (rc) {
        json_decref(arr);
        arr = NULL;
    }
    *out = arr;
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

fm_rc data_session_new(struct data_db *db, const struct data_viewer *v, char *id,
                       struct fm_err *err)
{
    char hash[65];
    id[0] = '\0';
    if (new_secret(id)) return fm_fail(err, FM_EIO, NULL, "no randomness");
    sha256_hex(id, hash);
    fm_rc rc = store_of(db)->secret_insert(db, STORE_SESSION, hash, v->user_id, fm_time_now(),
                                           err);
    if (rc) id[0] = '\0';
    return rc;
}

struct secret_found {
    struct data_viewer v;
    char hash[65];
    fm_time created_at, used_at;
};

static int secret_found(void *ctx, const struct store_secret *s)
{
    struct secret_found *f = ctx;
    viewer_from_user(&s->user, &f->v);
    snprintf(f->hash, sizeof f->hash, "%s", s->hash);
    f->created_at = s->created_at;
    f->used_at = s->used_at;
    return 1;
}

static fm_rc session_lookup(struct data_db *db, const char *id, const struct data_session_policy *p,
                            int touch, struct data_viewer *out, struct fm_err *err)
{
    memset(out, 0, sizeof *out);
    if (!id || strlen(id) != 64) return fm_fail(err, FM_EUNAUTH, NULL, "no session");
    char hash[65];
    sha256_hex(id, hash);
    fm_time now = fm_time_now();
    const struct store_ops *ops = store_of(db);
    struct secret_found f;
    fm_rc rc = ops->secret_get(db, STORE_SESSION, hash, secret_found, &f, err);
    if (rc == FM_ENOTFOUND) return fm_fail(err, FM_EUNAUTH, NULL, "no such session; log in again");
    if (rc) return rc;
    if (now - f.used_at > p->idle_seconds || now - f.created_at > p->absolute_seconds)
        return fm_fail(err, FM_EUNAUTH, NULL, "the session has expired; log in again");
    /* mark it used now and then (a minute, or a quarter of the idle time
     * if shorter), so that most reads stay read-only */
    long mark = p->idle_seconds / 4 < 60 ? p->idle_seconds / 4 : 60;
    if (touch && now - f.used_at >= mark && (rc = ops->session_touch(db, hash, now, err)))
        return rc;
    *out = f.v;
    return FM_OK;
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
    return store_of(db)->session_delete(db, hash, err);
}

static int user_id_found(void *ctx, const struct store_user *u)
{
    *(int64_t *)ctx = u->id;
    return 1;
}

fm_rc data_token_new(struct data_db *db, const char *user, char *token, struct fm_err *err)
{
    char secret[65], hash[65];
    token[0] = '\0';
    if (new_secret(secret)) return fm_fail(err, FM_EIO, NULL, "no randomness");
    snprintf(token, DATA_TOKEN_LEN, "fmt_%s", secret);
    sha256_hex(token, hash);
    const struct store_ops *ops = store_of(db);
    int64_t id = 0;
    fm_rc rc = ops->user_get(db, user, user_id_found, &id, err);
    if (rc == FM_ENOTFOUND) rc = fm_fail(err, FM_ENOTFOUND, "user", "no user %s", user);
    if (!rc) rc = ops->secret_insert(db, STORE_TOKEN, hash, id, fm_time_now(), err);
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
    struct secret_found f;
    fm_rc rc = store_of(db)->secret_get(db, STORE_TOKEN, hash, secret_found, &f, err);
    if (rc && rc != FM_ENOTFOUND) return rc;
    /* the lookup is by hash; compare the stored hash in constant time too */
    if (rc || strlen(f.hash) != 64 || !fm_ct_equal(f.hash, hash, 64))
        return fm_fail(err, FM_EUNAUTH, NULL, "invalid token");
    *out = f.v;
    return FM_OK;
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
    long failures;
    int64_t last;
    fm_rc rc = store_of(db)->count_get(db, c->key, &failures, &last, err);
    int live = !rc && last && now - last <= forget_ms;
    c->failures = live ? failures : 0;
    c->last_ms = live ? last : 0;
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

/* Moves a count that exists: its failures by delta (never below 0), its
 * last failure to at least at_ms. A failure restarts the waits at the end
 * of its check (0, now); a success takes its counting back (-1, 0). */
static fm_rc login_count_move(struct data_db *db, const char *key, long delta, int64_t at_ms,
                              struct fm_err *err)
{
    const struct store_ops *ops = store_of(db);
    long failures;
    int64_t last;
    fm_rc rc = ops->count_get(db, key, &failures, &last, err);
    if (rc || !last) return rc;
    failures = failures + delta > 0 ? failures + delta : 0;
    return ops->count_put(db, key, failures, last > at_ms ? last : at_ms, err);
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
    const struct store_ops *ops = store_of(db);
    fm_rc rc = ops->known_get(db, t->addr_known, now - q->known_ms, &a, err);
    if (!rc && device) rc = ops->known_get(db, t->device_known, now - q->known_ms, &d, err);
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

fm_rc data_login_allowed(struct data_db *db, const struct data_login_policy *p, const char *user,
                         const char *addr, const char *device, int64_t *retry_after_ms,
                         struct fm_err *err)
{
    *retry_after_ms = 0;
    struct login_policy q;
    login_policy(p, &q);
    int64_t now = wall_ms();
    struct login_attempt t;
    const struct store_ops *ops = store_of(db);
    /* read, decide and count in one write transaction: attempts in
     * parallel see each other's counts */
    fm_rc rc = ops->begin(db, err);
    if (rc) return rc;
    if ((rc = ops->login_forget(db, now - q.forget_ms, now - q.known_ms, err)) ||
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
        ops->rollback(db); /* a refusal counts nothing: waits end */
        *retry_after_ms = until - now;
        return fm_fail(err, FM_ELIMIT, NULL, "too many failed logins; try again in %.3f s",
                       (double)(until - now) / 1000.0);
    }
    /* counted as a failure now, taken back by data_login_succeeded; the
     * account's count is of its unknown addresses only */
    for (int i = 0; i < LC_N; i++)
        if (!(t.known && i == LC_ACCOUNT) &&
            (rc = ops->count_put(db, t.c[i].key, t.c[i].failures + 1, now, err)))
            goto fail;
    return ops->commit(db, err);
fail:
    ops->rollback(db);
    return rc;
}

fm_rc data_login_failed(struct data_db *db, const struct data_login_policy *p, const char *user,
                        const char *addr, const char *device, struct fm_err *err)
{
    struct login_policy q;
    login_policy(p, &q);
    int64_t now = wall_ms();
    struct login_attempt t;
    const struct store_ops *ops = store_of(db);
    fm_rc rc = ops->begin(db, err);
    if (rc) return rc;
    if ((rc = login_attempt(db, &q, user, addr, device, now, &t, err)) ||
        (rc = login_count_move(db, t.c[LC_OWN].key, 0, now, err)) ||
        (rc = login_count_move(db, t.c[LC_ADDRESS].key, 0, now, err)) ||
        (!t.known && (rc = login_count_move(db, t.c[LC_ACCOUNT].key, 0, now, err))))
        goto fail;
    return ops->commit(db, err);
fail:
    ops->rollback(db);
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
    const struct store_ops *ops = store_of(db);
    fm_rc rc = ops->begin(db, err);
    if (rc) return rc;
    if ((rc = login_attempt(db, &q, user, addr, device, now, &t, err)) ||
        (rc = ops->count_delete(db, t.c[LC_OWN].key, err)) ||
        (rc = login_count_move(db, t.c[LC_ADDRESS].key, -1, 0, err)) ||
        (!t.known && (rc = login_count_move(db, t.c[LC_ACCOUNT].key, -1, 0, err))) ||
        (rc = ops->known_put(db, t.addr_known, now, err)) ||
        (device && (rc = ops->known_put(db, t.device_known, now, err))))
        goto fail;
    return ops->commit(db, err);
fail:
    ops->rollback(db);
    return rc;
}
