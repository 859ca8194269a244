/* heads.c - a history both sides witness (issue 20): each party signs the
 * log's head (a record's seq and hash) with its user's key: a cosigned
 * head, kept by the store (store.h, sqlite/heads.c) and written as a record
 * of the log (action "cosign", collection "heads", read by everyone).
 *
 * The statement a head signs is the RFC 8785 (jcs.c) text of
 *   {"at": T, "hash": H, "party": P, "purpose": "fusionmap head",
 *    "seq": N, "user": U}
 * and the record's after is {"seq", "hash", "user", "party", "signature":
 * {"key", "at", "value"}}, so that it is checked from the records alone.
 * The server takes a head only when the hash is its own record's: a party
 * shown another history (a fork) is told so at once (409), and verify
 * (events.c) checks that the chain passes through every cosigned head:
 * a rewrite of any record up to a head is caught even when re-hashed, as
 * a second hash signed for the same seq would be. The rules only. */
#include "internal.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD_PURPOSE "fusionmap head"

fm_rc head_statement(int64_t seq, const char *hash, fm_time at, const char *user,
                     const char *party, char **out, struct fm_err *err)
{
    json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:I,s:s}", "at", (json_int_t)at, "hash", hash,
                          "party", party, "purpose", HEAD_PURPOSE, "seq", (json_int_t)seq,
                          "user", user);
    if (!j) return fm_fail(err, FM_EINVAL, NULL, "a head's statement needs text that is UTF-8");
    fm_rc rc = data_jcs(j, out, NULL, err);
    json_decref(j);
    return rc;
}

static int is_hash(const char *s)
{
    if (!s || strlen(s) != 64) return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
    return 1;
}

static fm_rc may_witness(const struct data_viewer *v, struct fm_err *err)
{
    if (v->role != DATA_ROLE_LIAISON && v->role != DATA_ROLE_SUPERVISOR)
        return fm_fail(err, FM_EFORBID, NULL,
                       "a %s does not cosign the log: each side's liaison and the supervisor do",
                       data_role_name(v->role));
    return FM_OK;
}

/* The hash of record seq (0: the last), OUT *seq_out. */
static fm_rc hash_at(struct data_db *db, int64_t seq, int64_t *seq_out, char hash[65],
                     struct fm_err *err)
{
    const struct store_ops *ops = store_of(db);
    int64_t last;
    fm_rc rc = ops->event_head(db, &last, hash, err);
    if (rc) return rc;
    if (last == 0) return fm_fail(err, FM_ENOTFOUND, "seq", "the log is empty: nothing to sign");
    if (seq > last)
        return fm_fail(err, FM_ENOTFOUND, "seq",
                       "the log ends at record %" PRId64 ": there is no record %" PRId64, last,
                       seq);
    *seq_out = seq > 0 ? seq : last;
    if (seq > 0 && seq != last) rc = ops->event_hash(db, seq, hash, err);
    return rc;
}

fm_rc data_head(struct data_db *db, const struct data_viewer *v, int64_t seq, json_t **out,
                struct fm_err *err)
{
    *out = NULL;
    fm_rc rc = may_witness(v, err);
    if (rc) return rc;
    char hash[65];
    int64_t at_seq;
    if ((rc = hash_at(db, seq, &at_seq, hash, err))) return rc;
    char *st = NULL;
    if ((rc = head_statement(at_seq, hash, fm_time_now(), v->user, v->party, &st, err))) return rc;
    *out = json_pack("{s:I,s:s,s:s}", "seq", (json_int_t)at_seq, "hash", hash, "statement", st);
    free(st);
    return FM_OK;
}

static json_t *head_json(const struct store_head *h)
{
    char at[FM_TIME_STAMP_LEN];
    fm_time_format(h->recorded_at, at);
    return json_pack("{s:I,s:s,s:s,s:s,s:{s:s,s:I,s:s},s:s}", "seq", (json_int_t)h->seq, "hash",
                     h->hash, "user", h->user, "party", h->party, "signature", "key", h->key,
                     "at", (json_int_t)h->at, "value", h->signature, "recorded", at);
}

fm_rc data_head_cosign(struct data_db *db, const struct data_viewer *v, int64_t seq,
                       const char *hash, const struct data_signature *sig, json_t **out,
                       struct fm_err *err)
{
    *out = NULL;
    fm_rc rc = may_witness(v, err);
    if (rc) return rc;
    if (seq < 1) return fm_fail(err, FM_EINVAL, "/seq", "seq is a record's number, from 1");
    if (!is_hash(hash))
        return fm_fail(err, FM_EINVAL, "/hash", "hash is the record's hash: 64 lower-case hex digits");
    if (!sig)
        return fm_fail(err, FM_EINVAL, "/signature",
                       "a cosigned head is signed: {\"seq\", \"hash\", \"signature\": {\"key\","
                       " \"at\", \"value\"}} over GET /events/head's statement");
    const struct store_ops *ops = store_of(db);
    if ((rc = ops->begin(db, err))) return rc;
    char kept[65];
    int64_t at_seq;
    fm_time now = fm_time_now();
    char *st = NULL;
    if (!(rc = hash_at(db, seq, &at_seq, kept, err)) && strcmp(kept, hash) != 0)
        rc = fm_fail(err, FM_ECONFLICT, "/hash",
                     "record %" PRId64 " of this server's log has hash %s, not %s: the history"
                     " you were shown is not the one this server keeps (a fork), or you sign"
                     " another record",
                     seq, kept, hash);
    if (!rc) rc = head_statement(seq, hash, sig->at, v->user, v->party, &st, err);
    if (!rc) rc = sig_answer_check(db, v, st, sig, now, err);
    free(st);
    struct store_head h = {.seq = seq, .hash = hash, .user = v->user, .party = v->party,
                           .key = sig->key, .signature = sig->value, .at = sig->at,
                           .recorded_at = now};
    if (!rc && (rc = ops->head_insert(db, &h, &h.id, err)) == FM_ECONFLICT)
        rc = fm_fail(err, FM_ECONFLICT, "/seq", "%s has cosigned record %" PRId64 " already",
                     v->user, seq);
    if (!rc) {
        json_t *a = json_pack("{s:I,s:s,s:s,s:s,s:{s:s,s:I,s:s}}", "seq", (json_int_t)seq, "hash",
                              hash, "user", v->user, "party", v->party, "signature", "key",
                              sig->key, "at", (json_int_t)sig->at, "value", sig->value);
        char *text = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(a);
        /* read by everyone: a head says nothing of what it covers */
        rc = events_append_ex(db, v, "cosign", "heads", 0, 0, NULL, text, v->party, 0, 0, now,
                              err);
        free(text);
    }
    if (rc) {
        ops->rollback(db);
        return rc;
    }
    if ((rc = ops->commit(db, err))) return rc;
    *out = head_json(&h);
    return FM_OK;
}

static int collect_head(void *ctx, const struct store_head *h)
{
    json_array_append_new(ctx, head_json(h));
    return 0;
}

fm_rc data_heads(struct data_db *db, const struct data_viewer *v, json_t **out,
                 struct fm_err *err)
{
    (void)v; /* every party's heads are everyone's */
    json_t *arr = json_array();
    fm_rc rc = store_of(db)->heads_each(db, 0, collect_head, arr, err);
    if (rc) {
        json_decref(arr);
        arr = NULL;
    }
    *out = arr;
    return rc;
}
