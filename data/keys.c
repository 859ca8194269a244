/* keys.c - users' Ed25519 signing keys and the signed answers they make
 * (issue 20): the key file of scripts, registering and revoking a public
 * key (each a record in the log), the statement an answer signs, checking
 * a signature when an answer arrives, and again, offline, when the log is
 * verified (from the database: replay.c; from an export: here).
 *
 * The rules only: the rows are the store's (store.h, data/sqlite/keys.c).
 *
 * A statement is the RFC 8785 (JCS, jcs.c) text of
 *   {"at": T, "collection": C, "comment_sha256": H(comment or ""),
 *    "decision": "ack"|"dispute", "item": N, "party": P,
 *    "purpose": "fusionmap answer", "user": U, "version": V,
 *    "version_sha256": H(the version's Feature text as its record holds it)}
 * with H the lower-case hex SHA-256 and T in seconds since the epoch. The
 * answer's record (action ack/dispute) then holds
 *   "signature": {"key": FINGERPRINT, "at": T, "value": BASE64}
 * so that anyone holding the log (or an export) can rebuild the statement
 * from the records alone and check it with any JCS and Ed25519 library
 * (tests/verify_export.py does, in Python).
 *
 * A supervisor's ruling signs the same statement with "decision":
 * "uphold"|"overrule", "purpose": "fusionmap ruling" and the reason's
 * digest as comment_sha256; its record (action ruling) holds the
 * signature the same way. */
#include "internal.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYFILE_FORMAT "fusionmap-ed25519-1"
#define STATEMENT_PURPOSE "fusionmap answer"
#define RULING_PURPOSE "fusionmap ruling"
/* how far a statement's time may lie from the server's clock: the
 * minutes a person takes to read it and confirm, and a little skew */
#define STATEMENT_PAST_S 900
#define STATEMENT_AHEAD_S 60

/* The purpose a statement of this decision names: an answer's or a
 * ruling's, so that neither can stand for the other. */
static const char *purpose_of(const char *decision)
{
    return decision && (!strcmp(decision, "uphold") || !strcmp(decision, "overrule"))
               ? RULING_PURPOSE
               : STATEMENT_PURPOSE;
}

static int sodium_ready(void)
{
    return sodium_init() >= 0;
}

/* Strict standard base64 (with padding) of exactly n bytes; 0 on success. */
static int b64_decode_exact(const char *s, unsigned char *out, size_t n)
{
    if (!s) return -1;
    size_t len = strlen(s), got = 0;
    const char *end = NULL;
    if (len != sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL) - 1) return -1;
    if (sodium_base642bin(out, n, s, len, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    return got == n && end == s + len ? 0 : -1;
}

static void fingerprint_of(const unsigned char pk[crypto_sign_PUBLICKEYBYTES], char out[65])
{
    unsigned char h[32];
    sha256(pk, crypto_sign_PUBLICKEYBYTES, h);
    fm_hex(h, sizeof h, out);
}

static int is_fingerprint(const char *s)
{
    if (!s || strlen(s) != 64) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
}

/* ---- the key file ------------------------------------------------------ */

fm_rc data_keyfile_new(const char *path, char pub_b64[45], char fingerprint[65],
                       struct fm_err *err)
{
    if (!sodium_ready()) return fm_fail(err, FM_EINTERNAL, NULL, "libsodium did not start");
    unsigned char seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES],
        sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    crypto_sign_ed25519_sk_to_seed(seed, sk);
    char seed_b64[45];
    sodium_bin2base64(pub_b64, 45, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(seed_b64, sizeof seed_b64, seed, sizeof seed,
                      sodium_base64_VARIANT_ORIGINAL);
    fingerprint_of(pk, fingerprint);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(seed, sizeof seed);
    fm_rc rc = FM_OK;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        rc = fm_fail(err, FM_EIO, NULL, "cannot create %s: %s%s", path, strerror(errno),
                     errno == EEXIST ? " (a key file is never overwritten)" : "");
    } else {
        char text[512];
        int n = snprintf(text, sizeof text,
                         "# A fusionmap signing key (Ed25519). Keep it secret: it signs as you.\n"
                         "format: " KEYFILE_FORMAT "\n"
                         "fingerprint: %s\n"
                         "public_key: %s\n"
                         "seed: %s\n",
                         fingerprint, pub_b64, seed_b64);
        if (write(fd, text, (size_t)n) != n || fsync(fd) != 0)
            rc = fm_fail(err, FM_EIO, NULL, "cannot write %s: %s", path, strerror(errno));
        sodium_memzero(text, sizeof text);
        close(fd);
        if (rc) unlink(path);
    }
    sodium_memzero(seed_b64, sizeof seed_b64);
    return rc;
}

/* Reads a key file: OUT the key pair. */
static fm_rc keyfile_read(const char *path, unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                          unsigned char sk[crypto_sign_SECRETKEYBYTES], struct fm_err *err)
{
    if (!sodium_ready()) return fm_fail(err, FM_EINTERNAL, NULL, "libsodium did not start");
    FILE *f = fopen(path, "r");
    if (!f) return fm_fail(err, FM_EIO, NULL, "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077)) {
        fclose(f);
        return fm_fail(err, FM_EINVAL, NULL,
                       "%s is readable by others (mode %03o): chmod 600 it, or make a new key",
                       path, (unsigned)(sb.st_mode & 0777));
    }
    char line[256], pub[256] = "", seed[256] = "";
    int format = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!strcmp(line, "format: " KEYFILE_FORMAT)) format = 1;
        if (!strncmp(line, "public_key: ", 12)) snprintf(pub, sizeof pub, "%s", line + 12);
        if (!strncmp(line, "seed: ", 6)) snprintf(seed, sizeof seed, "%s", line + 6);
    }
    sodium_memzero(line, sizeof line);
    fclose(f);
    unsigned char s[crypto_sign_SEEDBYTES], want[crypto_sign_PUBLICKEYBYTES];
    fm_rc rc = FM_OK;
    if (!format || b64_decode_exact(seed, s, sizeof s) || b64_decode_exact(pub, want, sizeof want))
        rc = fm_fail(err, FM_EINVAL, NULL, "%s is not a fusionmap key file (" KEYFILE_FORMAT ")",
                     path);
    else if (crypto_sign_seed_keypair(pk, sk, s) != 0 || memcmp(pk, want, sizeof want) != 0)
        rc = fm_fail(err, FM_EINVAL, NULL,
                     "%s: its public key is not the one its seed makes (the file was edited)",
                     path);
    sodium_memzero(s, sizeof s);
    sodium_memzero(seed, sizeof seed);
    if (rc) sodium_memzero(sk, crypto_sign_SECRETKEYBYTES);
    return rc;
}

fm_rc data_keyfile_public(const char *path, char pub_b64[45], char fingerprint[65],
                          struct fm_err *err)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    fm_rc rc = keyfile_read(path, pk, sk, err);
    sodium_memzero(sk, sizeof sk);
    if (rc) return rc;
    sodium_bin2base64(pub_b64, 45, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    fingerprint_of(pk, fingerprint);
    return FM_OK;
}

fm_rc data_keyfile_sign(const char *path, const void *msg, size_t n, char sig_b64[89],
                        struct fm_err *err)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    fm_rc rc = keyfile_read(path, pk, sk, err);
    if (rc) return rc;
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, NULL, msg, n, sk);
    sodium_memzero(sk, sizeof sk);
    sodium_bin2base64(sig_b64, 89, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
    return FM_OK;
}

/* ---- registered keys ---------------------------------------------------- */

static json_t *key_json(const struct store_key *k)
{
    char at[FM_TIME_STAMP_LEN], rv[FM_TIME_STAMP_LEN];
    fm_time_format(k->created_at, at);
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "fingerprint", k->fingerprint, "public_key",
                          k->public_key, "created", at, "from", k->created_from, "user", k->user);
    if (k->revoked_at) {
        fm_time_format(k->revoked_at, rv);
        json_object_set_new(j, "revoked", json_string(rv));
    }
    return j;
}

static int collect_key(void *ctx, const struct store_key *k)
{
    json_array_append_new(ctx, key_json(k));
    return 0;
}

static int copy_key(void *ctx, const struct store_key *k)
{
    struct store_key *out = ctx;
    *out = *k;
    out->fingerprint = fm_xstrdup(k->fingerprint);
    out->user = fm_xstrdup(k->user);
    out->party = fm_xstrdup(k->party);
    out->public_key = fm_xstrdup(k->public_key);
    out->created_from = fm_xstrdup(k->created_from);
    return 1;
}

static void key_cleanup(struct store_key *k)
{
    free((char *)k->fingerprint);
    free((char *)k->user);
    free((char *)k->party);
    free((char *)k->public_key);
    free((char *)k->created_from);
    memset(k, 0, sizeof *k);
}

/* A key's record is its party's: the owner-only records of the user's
 * party (no other party reads them in the log or the stream), in the
 * operator's exports. */
static fm_rc key_record(struct data_db *db, const struct data_viewer *v, const char *action,
                        json_t *after, fm_time at, struct fm_err *err)
{
    char *text = json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS);
    fm_rc rc = events_append_ex(db, v, action, "keys", 0, 0, NULL, text, v->party, 0, 1, at, err);
    free(text);
    return rc;
}

fm_rc data_key_add(struct data_db *db, const struct data_viewer *v, const char *pub_b64,
                   const char *from, json_t **out, struct fm_err *err)
{
    *out = NULL;
    if (!sodium_ready()) return fm_fail(err, FM_EINTERNAL, NULL, "libsodium did not start");
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    if (b64_decode_exact(pub_b64, pk, sizeof pk))
        return fm_fail(err, FM_EINVAL, "/public_key",
                       "public_key is an Ed25519 public key: 32 bytes in standard base64"
                       " (44 characters, with padding)");
    /* a point of small order, or not on the curve: no signature would
     * mean anything with it */
    unsigned char x[crypto_scalarmult_curve25519_BYTES];
    if (crypto_sign_ed25519_pk_to_curve25519(x, pk) != 0)
        return fm_fail(err, FM_EINVAL, "/public_key", "public_key is not a usable Ed25519 key");
    char fp[65];
    fingerprint_of(pk, fp);
    char canon[45];
    sodium_bin2base64(canon, sizeof canon, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    char where[200];
    snprintf(where, sizeof where, "%s", from && *from ? from : "unknown");
    const struct store_ops *ops = store_of(db);
    fm_rc rc = ops->begin(db, err);
    if (rc) return rc;
    fm_time now = fm_time_now();
    struct store_key k = {fp, v->user, v->party, canon, where, now, 0};
    if (!(rc = ops->key_insert(db, &k, err))) {
        char at[FM_TIME_STAMP_LEN];
        fm_time_format(now, at);
        json_t *rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "fingerprint", fp, "public_key",
                                canon, "user", v->user, "party", v->party, "created_at", at,
                                "created_from", where);
        rc = key_record(db, v, "key_add", rec, now, err);
        json_decref(rec);
    } else if (rc == FM_ECONFLICT) {
        rc = fm_fail(err, FM_ECONFLICT, "/public_key",
                     "key %s is registered already (a revoked key stays revoked: make a new"
                     " one)",
                     fp);
    }
    if (rc) {
        ops->rollback(db);
        return rc;
    }
    if ((rc = ops->commit(db, err))) return rc;
    *out = key_json(&k);
    return FM_OK;
}

fm_rc data_keys(struct data_db *db, const struct data_viewer *v, json_t **out,
                struct fm_err *err)
{
    json_t *arr = json_array();
    fm_rc rc = store_of(db)->keys_each(db, v->user, collect_key, arr, err);
    if (rc) {
        json_decref(arr);
        arr = NULL;
    }
    *out = arr;
    return rc;
}

struct party_keys {
    const char *party;
    json_t *arr;
};

static int collect_party_key(void *ctx, const struct store_key *k)
{
    struct party_keys *p = ctx;
    if (!strcmp(k->party, p->party)) json_array_append_new(p->arr, key_json(k));
    return 0;
}

fm_rc data_keys_party(struct data_db *db, const struct data_viewer *v, json_t **out,
                      struct fm_err *err)
{
    /* the party's key records are the party's own (key_record): its
     * members read them in the log already */
    struct party_keys p = {v->party, json_array()};
    fm_rc rc = store_of(db)->keys_each(db, NULL, collect_party_key, &p, err);
    if (rc) {
        json_decref(p.arr);
        p.arr = NULL;
    }
    *out = p.arr;
    return rc;
}

fm_rc data_key_revoke(struct data_db *db, const struct data_viewer *v, const char *fingerprint,
                      struct fm_err *err)
{
    if (!is_fingerprint(fingerprint))
        return fm_fail(err, FM_EINVAL, "fingerprint",
                       "a key's fingerprint is 64 lower-case hex digits (GET /keys)");
    const struct store_ops *ops = store_of(db);
    fm_rc rc = ops->begin(db, err);
    if (rc) return rc;
    struct store_key k = {0};
    rc = ops->key_get(db, fingerprint, copy_key, &k, err);
    /* another user's key is as unknown as no key: nothing is learnt */
    if (rc == FM_ENOTFOUND || (!rc && strcmp(k.user, v->user) != 0))
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "you have no key %s", fingerprint);
    else if (!rc && k.revoked_at)
        rc = fm_fail(err, FM_ECONFLICT, NULL, "key %s is revoked already", fingerprint);
    fm_time now = fm_time_now();
    if (!rc) rc = ops->key_revoke(db, fingerprint, now, err);
    if (!rc) {
        char at[FM_TIME_STAMP_LEN];
        fm_time_format(now, at);
        json_t *rec = json_pack("{s:s,s:s,s:s}", "fingerprint", fingerprint, "user", v->user,
                                "revoked_at", at);
        rc = key_record(db, v, "key_revoke", rec, now, err);
        json_decref(rec);
    }
    key_cleanup(&k);
    if (rc) {
        ops->rollback(db);
        return rc;
    }
    return ops->commit(db, err);
}

/* ---- statements and their signatures ------------------------------------ */

fm_rc sig_statement(const char *collection, int64_t item, int64_t version,
                    const char *version_text, const char *decision, const char *comment,
                    fm_time at, const char *user, const char *party, char **out,
                    struct fm_err *err)
{
    char vh[65], ch[65];
    sha256_hex(version_text ? version_text : "", vh);
    sha256_hex(comment ? comment : "", ch);
    json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:I,s:s}", "at", (json_int_t)at,
                          "collection", collection, "comment_sha256", ch, "decision", decision,
                          "item", (json_int_t)item, "party", party, "purpose", purpose_of(decision),
                          "user", user, "version", (json_int_t)version, "version_sha256", vh);
    if (!j) return fm_fail(err, FM_EINVAL, NULL, "a statement needs text that is UTF-8");
    fm_rc rc = data_jcs(j, out, NULL, err);
    json_decref(j);
    return rc;
}

static int count_key(void *ctx, const struct store_key *k)
{
    (void)k;
    ++*(long *)ctx;
    return 1; /* one is enough */
}

fm_rc sig_answer_check(struct data_db *db, const struct data_viewer *v, const char *statement,
                       const struct data_signature *sig, fm_time now, struct fm_err *err)
{
    if (!sodium_ready()) return fm_fail(err, FM_EINTERNAL, NULL, "libsodium did not start");
    const struct store_ops *ops = store_of(db);
    if (!sig) {
        /* the transition rule (README): who has ever registered a key
         * signs from then on (revoking every key does not undo it) */
        long keys = 0;
        fm_rc rc = ops->keys_each(db, v->user, count_key, &keys, err);
        if (rc) return rc;
        if (keys)
            return fm_fail(err, FM_ECONFLICT, "/signature",
                           "%s has registered a signing key, so an answer must be signed:"
                           " GET the item's statement, sign it and send {\"signature\":"
                           " {\"key\", \"at\", \"value\"}}",
                           v->user);
        return FM_OK;
    }
    if (!is_fingerprint(sig->key))
        return fm_fail(err, FM_EINVAL, "/signature/key",
                       "signature.key is the key's fingerprint: 64 lower-case hex digits");
    unsigned char raw[crypto_sign_BYTES];
    if (b64_decode_exact(sig->value, raw, sizeof raw))
        return fm_fail(err, FM_EINVAL, "/signature/value",
                       "signature.value is an Ed25519 signature: 64 bytes in standard base64"
                       " (88 characters, with padding)");
    if (sig->at < now - STATEMENT_PAST_S || sig->at > now + STATEMENT_AHEAD_S)
        return fm_fail(err, FM_EINVAL, "/signature/at",
                       "the statement's time %" PRId64 " is %s the server's clock (%" PRId64
                       "): sign a fresh statement",
                       (int64_t)sig->at,
                       sig->at < now ? "more than 15 minutes behind" : "ahead of", (int64_t)now);
    struct store_key k = {0};
    fm_rc rc = ops->key_get(db, sig->key, copy_key, &k, err);
    if (rc == FM_ENOTFOUND || (!rc && strcmp(k.user, v->user) != 0)) {
        rc = fm_fail(err, FM_EFORBID, "/signature/key",
                     "key %s is not a key of %s (POST /keys registers one)", sig->key, v->user);
    } else if (!rc && k.revoked_at) {
        char at[FM_TIME_STAMP_LEN];
        fm_time_format(k.revoked_at, at);
        rc = fm_fail(err, FM_EFORBID, "/signature/key",
                     "key %s was revoked at %s: sign with a current key", sig->key, at);
    } else if (!rc) {
        unsigned char pk[crypto_sign_PUBLICKEYBYTES];
        if (b64_decode_exact(k.public_key, pk, sizeof pk))
            rc = fm_fail(err, FM_EINTERNAL, NULL, "key %s is stored badly", sig->key);
        else if (crypto_sign_verify_detached(raw, (const unsigned char *)statement,
                                             strlen(statement), pk) != 0)
            rc = fm_fail(err, FM_EINVAL, "/signature/value",
                         "the signature does not verify with key %s over this statement"
                         " (an answer's or ruling's: collection, item, version and its digest,"
                         " decision, comment, time, user, party; a head's: seq, hash, time,"
                         " user, party): signed with another key, or over another statement"
                         " or version",
                         sig->key);
    }
    key_cleanup(&k);
    return rc;
}

/* ---- the signatures of a log, replayed (verify) ------------------------ */

struct sig_replay {
    json_t *keys;     /* fingerprint -> {"user", "public_key", "revoked": seq} */
    json_t *versions; /* "collection/item/version" -> hex SHA-256 of its Feature text */
    json_t *holders;  /* user -> number of keys ever registered */
    int64_t nsigned;
};

struct sig_replay *sig_replay_new(void)
{
    struct sig_replay *s = fm_xcalloc(1, sizeof *s);
    (void)sodium_ready(); /* its checks use libsodium (a verify of a file starts none) */
    s->keys = json_object();
    s->versions = json_object();
    s->holders = json_object();
    return s;
}

void sig_replay_free(struct sig_replay *s)
{
    if (!s) return;
    json_decref(s->keys);
    json_decref(s->versions);
    json_decref(s->holders);
    free(s);
}

int64_t sig_replay_count(const struct sig_replay *s)
{
    return s->nsigned;
}

static void holders_add(struct sig_replay *s, const char *user, int d)
{
    json_int_t n = json_integer_value(json_object_get(s->holders, user)) + d;
    json_object_set_new(s->holders, user, json_integer(n));
}

int sig_replay_key(struct sig_replay *s, const char *fingerprint, const char *user,
                   const char *public_key, struct fm_err *err)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    char want[65];
    if (!fingerprint || !user || b64_decode_exact(public_key, pk, sizeof pk)) {
        fm_fail(err, FM_OK, NULL, "a given key without its user or its 32 bytes");
        return 1;
    }
    fingerprint_of(pk, want);
    if (strcmp(want, fingerprint) != 0) {
        fm_fail(err, FM_OK, NULL, "the given key %s is not its fingerprint's", fingerprint);
        return 1;
    }
    json_object_set_new(s->keys, fingerprint, json_pack("{s:s,s:s,s:b}", "user", user,
                                                         "public_key", public_key, "given", 1));
    return 0;
}

static int is_version_action(const char *a)
{
    static const char *const acts[] = {"create",   "replace",      "patch",
                                       "withdraw", "acknowledged", "disputed"};
    for (size_t i = 0; i < sizeof acts / sizeof *acts; i++)
        if (!strcmp(a, acts[i])) return 1;
    return 0;
}

static int bad_at(const struct sig_record *r, struct fm_err *err, const char *fmt, const char *a)
{
    char what[200];
    snprintf(what, sizeof what, fmt, a);
    fm_fail(err, FM_OK, NULL, "record %" PRId64 ": %s", r->seq, what);
    return 1;
}

int sig_replay_record(struct sig_replay *s, const struct sig_record *r, struct fm_err *err)
{
    if (!r->action) return 0;
    char vkey[96];
    if (r->collection && is_version_action(r->action)) {
        char h[65];
        sha256_hex(r->after ? r->after : "", h);
        snprintf(vkey, sizeof vkey, "%s/%" PRId64 "/%" PRId64, r->collection, r->item,
                 r->version);
        json_object_set_new(s->versions, vkey, json_string(h));
        return 0;
    }
    int add = !strcmp(r->action, "key_add"), revoke = !strcmp(r->action, "key_revoke");
    int answer = !strcmp(r->action, "ack") || !strcmp(r->action, "dispute") ||
                 !strcmp(r->action, "ruling");
    int cosign = !strcmp(r->action, "cosign");
    if (!add && !revoke && !answer && !cosign) return 0;
    json_t *a = r->after ? json_loads(r->after, 0, NULL) : NULL;
    int bad = 0;
    const char *fp = json_string_value(json_object_get(a, "fingerprint"));
    if (cosign) {
        /* a cosigned head (heads.c): its signature over its statement;
         * that the chain passes through it is events.c's check */
        json_t *sg = json_object_get(a, "signature");
        const char *kfp = json_string_value(json_object_get(sg, "key"));
        const char *value = json_string_value(json_object_get(sg, "value"));
        const char *hash = json_string_value(json_object_get(a, "hash"));
        json_t *atj = json_object_get(sg, "at"), *seqj = json_object_get(a, "seq");
        json_t *k = kfp ? json_object_get(s->keys, kfp) : NULL;
        unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
        char *text = NULL;
        struct fm_err e2;
        if (!json_is_integer(atj) || !json_is_integer(seqj) || !hash ||
            b64_decode_exact(value, sig, sizeof sig))
            bad = bad_at(r, err, "a cosigned head without its seq, hash or signature%s", "");
        else if (!k)
            bad = bad_at(r, err, "a head cosigned with key %s, which no earlier record registers",
                         kfp ? kfp : "(none)");
        else if (strcmp(json_string_value(json_object_get(k, "user")), r->user) != 0)
            bad = bad_at(r, err, "a head cosigned with key %s, another user's", kfp);
        else if (json_object_get(k, "revoked"))
            bad = bad_at(r, err, "a head cosigned with key %s after its revocation", kfp);
        else if (b64_decode_exact(json_string_value(json_object_get(k, "public_key")), pk,
                                  sizeof pk) ||
                 head_statement(json_integer_value(seqj), hash, json_integer_value(atj), r->user,
                                r->party, &text, &e2) ||
                 crypto_sign_verify_detached(sig, (const unsigned char *)text, strlen(text),
                                             pk) != 0)
            bad = bad_at(r, err,
                         "the cosigned head's signature does not verify with key %s (its seq,"
                         " hash, user or party was changed)",
                         kfp);
        free(text);
    } else if (add) {
        const char *pub = json_string_value(json_object_get(a, "public_key"));
        const char *user = json_string_value(json_object_get(a, "user"));
        unsigned char pk[crypto_sign_PUBLICKEYBYTES];
        char want[65];
        if (!fp || !user || b64_decode_exact(pub, pk, sizeof pk))
            bad = bad_at(r, err, "a key record without its key%s", "");
        else if (fingerprint_of(pk, want), strcmp(want, fp) != 0)
            bad = bad_at(r, err, "key %s: its fingerprint is not its key's", fp);
        else if (strcmp(user, r->user) != 0)
            bad = bad_at(r, err, "key %s is registered for another user than the record's", fp);
        else if (json_object_get(s->keys, fp) &&
                 !json_is_true(json_object_get(json_object_get(s->keys, fp), "given")))
            bad = bad_at(r, err, "key %s is registered twice", fp);
        else {
            json_object_set_new(s->keys, fp, json_pack("{s:s,s:s}", "user", user,
                                                       "public_key", pub));
            holders_add(s, user, 1);
        }
    } else if (revoke) {
        json_t *k = fp ? json_object_get(s->keys, fp) : NULL;
        if (!k)
            bad = bad_at(r, err, "revokes key %s, which no earlier record registers", fp ? fp : "");
        else if (strcmp(json_string_value(json_object_get(k, "user")), r->user) != 0)
            bad = bad_at(r, err, "key %s is revoked by another user than its own", fp);
        else if (json_object_get(k, "revoked"))
            bad = bad_at(r, err, "key %s is revoked twice", fp);
        else {
            json_object_set_new(k, "revoked", json_integer(r->seq));
        }
    } else {
        json_t *sg = json_object_get(a, "signature");
        if (!sg) {
            /* the transition rule: who has registered a key signs */
            if (json_integer_value(json_object_get(s->holders, r->user)) > 0)
                bad = bad_at(r, err,
                             "an unsigned answer or ruling by %s, who had registered a key by"
                             " then (the server refuses those: inserted, or its signature"
                             " stripped)",
                             r->user);
        } else {
            const char *kfp = json_string_value(json_object_get(sg, "key"));
            const char *value = json_string_value(json_object_get(sg, "value"));
            json_t *atj = json_object_get(sg, "at");
            json_t *k = kfp ? json_object_get(s->keys, kfp) : NULL;
            snprintf(vkey, sizeof vkey, "%s/%" PRId64 "/%" PRId64,
                     r->collection ? r->collection : "", r->item, r->version);
            const char *vh = json_string_value(json_object_get(s->versions, vkey));
            unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
            if (!k)
                bad = bad_at(r, err, "signed with key %s, which no earlier record registers",
                             kfp ? kfp : "(none)");
            else if (strcmp(json_string_value(json_object_get(k, "user")), r->user) != 0)
                bad = bad_at(r, err, "signed with key %s, another user's", kfp);
            else if (json_object_get(k, "revoked"))
                bad = bad_at(r, err, "signed with key %s after its revocation", kfp);
            else if (!vh)
                bad = bad_at(r, err, "answers version %s, which no earlier record holds", vkey);
            else if (!json_is_integer(atj) || b64_decode_exact(value, sig, sizeof sig) ||
                     b64_decode_exact(json_string_value(json_object_get(k, "public_key")), pk,
                                      sizeof pk))
                bad = bad_at(r, err, "a malformed signature%s", "");
            else {
                /* the statement again, from the records alone; a ruling's
                 * decision and reason are in its record's after */
                int ruling = !strcmp(r->action, "ruling");
                const char *decision =
                    ruling ? json_string_value(json_object_get(a, "decision")) : r->action;
                json_t *j = json_pack(
                    "{s:O,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:I,s:s}", "at", atj, "collection",
                    r->collection ? r->collection : "", "comment_sha256", "", "decision",
                    decision ? decision : "", "item", (json_int_t)r->item, "party", r->party,
                    "purpose", purpose_of(decision), "user", r->user, "version",
                    (json_int_t)r->version, "version_sha256", vh);
                char ch[65];
                const char *comment =
                    json_string_value(json_object_get(a, ruling ? "reason" : "comment"));
                sha256_hex(comment ? comment : "", ch);
                json_object_set_new(j, "comment_sha256", json_string(ch));
                char *text = NULL;
                struct fm_err e2;
                if (!j || data_jcs(j, &text, NULL, &e2) ||
                    crypto_sign_verify_detached(sig, (const unsigned char *)text, strlen(text),
                                                pk) != 0)
                    bad = bad_at(r, err,
                                 "the signature does not verify with key %s over the statement"
                                 " the records make (the answer, its version or the key's"
                                 " record was changed)",
                                 kfp);
                else
                    s->nsigned++;
                free(text);
                json_decref(j);
            }
        }
    }
    json_decref(a);
    return bad;
}

/* ---- an export's signatures, offline -------------------------------------- */

fm_rc data_signatures_verify_file(const char *path, int64_t *bad_seq, int64_t *nsigned,
                                  struct fm_err *err)
{
    *bad_seq = 0;
    *nsigned = 0;
    if (!sodium_ready()) return fm_fail(err, FM_EINTERNAL, NULL, "libsodium did not start");
    FILE *f = fopen(path, "r");
    if (!f) return fm_fail(err, FM_EIO, NULL, "cannot open %s", path);
    struct sig_replay *s = sig_replay_new();
    char *line = NULL;
    size_t cap = 0;
    while (!*bad_seq && getline(&line, &cap, f) > 0) {
        json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
        if (j && json_object_get(j, "seq")) {
            struct sig_record r = {
                .seq = json_integer_value(json_object_get(j, "seq")),
                .user = json_string_value(json_object_get(j, "user")),
                .party = json_string_value(json_object_get(j, "party")),
                .action = json_string_value(json_object_get(j, "action")),
                .collection = json_string_value(json_object_get(j, "collection")),
                .item = json_integer_value(json_object_get(j, "item")),
                .version = json_integer_value(json_object_get(j, "version")),
                .after = json_string_value(json_object_get(j, "after")),
            };
            if (r.user && r.party && sig_replay_record(s, &r, err)) *bad_seq = r.seq;
        }
        json_decref(j);
    }
    *nsigned = s->nsigned;
    free(line);
    fclose(f);
    sig_replay_free(s);
    return FM_OK;
}
