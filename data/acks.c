/* acks.c - acknowledgement and dispute of one version of an item by
 * another party, in the same transaction as the step of the workflow it
 * causes; and the lists of what a party still has to acknowledge and of
 * open disputes. The rules are here; the rows are the store's (store.h). */
#include "internal.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fm_rc insert_ack(struct data_db *db, const struct data_viewer *v, int64_t id,
                        int64_t version, const char *decision, const char *comment, fm_time now,
                        struct fm_err *err)
{
    struct store_ack a = {id, version, v->party, v->user, now, decision, comment};
    return store_of(db)->ack_insert(db, &a, err);
}

/* The Feature text of version `version` of item id as stored (and as its
 * record holds it: events verify's cross-check). OUT *out (free). */
static int text_of(void *ctx, const struct store_version *r)
{
    *(char **)ctx = fm_xstrdup(r->feature);
    return 1;
}

static fm_rc version_text(struct data_db *db, int64_t id, int64_t version, char **out,
                          struct fm_err *err)
{
    *out = NULL;
    fm_rc rc = store_of(db)->version_get(db, id, version, text_of, out, err);
    if (rc == FM_ENOTFOUND)
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no version %" PRId64 " of item %" PRId64, version,
                     id);
    return rc;
}

static fm_rc answer_input_check(const struct data_viewer *v, const char *decision,
                                const char *comment, struct fm_err *err)
{
    if (v->role != DATA_ROLE_LIAISON && v->role != DATA_ROLE_SUPERVISOR)
        return fm_fail(err, FM_EFORBID, NULL, "a %s does not acknowledge items",
                       data_role_name(v->role));
    if (!decision || (strcmp(decision, "ack") != 0 && strcmp(decision, "dispute") != 0))
        return fm_fail(err, FM_EINVAL, "/decision", "decision is \"ack\" or \"dispute\"");
    if (comment && strlen(comment) > 4000)
        return fm_fail(err, FM_ETOOBIG, "/comment", "a comment holds at most 4000 bytes");
    if (!strcmp(decision, "dispute") && (!comment || !*comment))
        return fm_fail(err, FM_EINVAL, "/comment", "a dispute needs a comment saying why");
    return FM_OK;
}

fm_rc data_item_statement(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                          int64_t id, int64_t version, const char *decision,
                          const char *comment, fm_time at, char **out, struct fm_err *err)
{
    *out = NULL;
    fm_rc rc = answer_input_check(v, decision, comment, err);
    if (rc) return rc;
    struct item_current cur;
    if ((rc = item_load_current(db, v, c, id, &cur, err))) return rc;
    if (!strcmp(cur.party, v->party))
        rc = fm_fail(err, FM_EFORBID, NULL, "a party does not acknowledge its own item");
    else if (version != cur.version)
        rc = fm_fail(err, FM_ESTALE, "version",
                     "item %" PRId64 " is at version %" PRId64 ", not %" PRId64
                     ": an answer is of the current version",
                     id, cur.version, version);
    item_current_cleanup(&cur);
    char *text = NULL;
    if (!rc) rc = version_text(db, id, version, &text, err);
    if (!rc)
        rc = sig_statement(data_coll_name(c), id, version, text, decision, comment, at, v->user,
                           v->party, out, err);
    free(text);
    return rc;
}

fm_rc data_item_ack(struct data_db *db, const struct data_viewer *v, enum data_coll c, int64_t id,
                    int64_t if_match, const char *decision, const char *comment,
                    json_t **updated, struct fm_err *err)
{
    return data_item_ack_signed(db, v, c, id, if_match, decision, comment, NULL, updated, err);
}

fm_rc data_item_ack_signed(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                           int64_t id, int64_t if_match, const char *decision,
                           const char *comment, const struct data_signature *sig,
                           json_t **updated, struct fm_err *err)
{
    *updated = NULL;
    fm_rc rc = answer_input_check(v, decision, comment, err);
    if (rc) return rc;

    const struct store_ops *ops = store_of(db);
    struct item_current cur;
    rc = ops->begin(db, err);
    if (rc) return rc;
    if ((rc = item_load_current(db, v, c, id, &cur, err))) goto fail;
    if (!strcmp(cur.party, v->party)) {
        rc = fm_fail(err, FM_EFORBID, NULL, "a party does not acknowledge its own item");
    } else if (if_match != cur.version) {
        rc = fm_fail(err, FM_ESTALE, NULL,
                     "item %" PRId64 " is at version %" PRId64 ", not %" PRId64
                     ": an acknowledgement is of one version; reload and read it again",
                     id, cur.version, if_match);
    } else {
        fm_time now = fm_time_now();
        /* the signature, over the statement of exactly this version */
        char *text = NULL, *statement = NULL;
        if (sig && !(rc = version_text(db, id, cur.version, &text, err)))
            rc = sig_statement(data_coll_name(c), id, cur.version, text, decision, comment,
                               sig->at, v->user, v->party, &statement, err);
        if (!rc) rc = sig_answer_check(db, v, statement, sig, now, err);
        free(text);
        free(statement);
        if (rc) goto done;
        int dispute = !strcmp(decision, "dispute");
        const char *next = dispute ? (coll_transition_ok(c, cur.status, "disputed") &&
                                              strcmp(cur.status, "disputed") != 0
                                          ? "disputed"
                                          : NULL)
                                   : ack_next_status(c, cur.status);
        json_t *ack = json_pack("{s:s,s:s,s:I,s:I,s:s,s:s,s:s?}", "type", "Acknowledgement",
                                "collection", data_coll_name(c), "item", (json_int_t)id,
                                "version", (json_int_t)cur.version, "party", v->party, "decision",
                                decision, "comment", comment);
        if (sig)
            json_object_set_new(ack, "signature",
                                json_pack("{s:s,s:I,s:s}", "key", sig->key, "at",
                                          (json_int_t)sig->at, "value", sig->value));
        char *ack_text = json_dumps(ack, JSON_COMPACT);
        json_decref(ack);
        if (!(rc = insert_ack(db, v, id, cur.version, decision, comment, now, err)) &&
            !(rc = events_append_ex(db, v, decision, data_coll_name(c), id, cur.version, NULL,
                                      ack_text, cur.party, 0, cur.owner_only, now, err))) {
            if (next) {
                json_t *proposed = json_deep_copy(cur.feature);
                json_object_set_new(json_object_get(proposed, "properties"), "status",
                                    json_string(next));
                struct data_limits unlimited = {INT32_MAX, INT32_MAX};
                rc = item_write_next(db, v, c, id, &cur, cur.version, proposed,
                                     dispute ? "disputed" : "acknowledged", &unlimited,
                                     ITEM_BY_WORKFLOW, updated, err);
                json_decref(proposed);
            } else {
                *updated = json_incref(cur.feature);
            }
        }
        free(ack_text);
    }
done:
    item_current_cleanup(&cur);
    if (rc) goto fail;
    if ((rc = ops->commit(db, err))) goto fail;
    return FM_OK;
fail:
    ops->rollback(db);
    json_decref(*updated);
    *updated = NULL;
    return rc;
}

static int ack_json(void *ctx, const struct store_ack *a)
{
    char at[FM_TIME_STAMP_LEN];
    fm_time_format(a->at, at);
    json_array_append_new(ctx, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s?}", "version",
                                         (json_int_t)a->version, "party", a->party, "by", a->user,
                                         "at", at, "decision", a->decision, "comment",
                                         a->comment));
    return 0;
}

fm_rc data_item_acks(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                     int64_t id, json_t **out, struct fm_err *err)
{
    *out = NULL;
    fm_rc rc = item_visible(db, v, c, id, err);
    if (rc) return rc;
    json_t *arr = json_array();
    if ((rc = store_of(db)->acks_each(db, id, ack_json, arr, err)))
        json_decref(arr);
    else
        *out = arr;
    return rc;
}

/* A list of items as (collection, id, version, party, status, title):
 * every row, or those a party may still answer (pending: live, not a
 * draft). */
struct list {
    json_t *arr;
    int pending;
};

static int list_row(void *ctx, const struct store_version *r)
{
    struct list *l = ctx;
    if (l->pending && (!strcmp(r->status, "draft") || !item_status_live(r->status))) return 0;
    json_array_append_new(l->arr, json_pack("{s:s,s:I,s:I,s:s,s:s,s:s}", "collection",
                                            r->collection, "id", (json_int_t)r->item, "version",
                                            (json_int_t)r->version, "party", r->party, "status",
                                            r->status, "title", r->title ? r->title : ""));
    return 0;
}

static fm_rc item_list(struct data_db *db, const char *status, const char *unanswered_by,
                       json_t **out, struct fm_err *err)
{
    struct list l = {json_array(), unanswered_by != NULL};
    fm_rc rc = store_of(db)->current_each(db, status, unanswered_by, list_row, &l, err);
    if (rc)
        json_decref(l.arr);
    else
        *out = l.arr;
    return rc;
}

fm_rc data_pending(struct data_db *db, const struct data_viewer *v, const char *party,
                   json_t **out, struct fm_err *err)
{
    *out = NULL;
    if (v->role != DATA_ROLE_LIAISON && v->role != DATA_ROLE_SUPERVISOR)
        return fm_fail(err, FM_EFORBID, NULL, "a %s acknowledges nothing",
                       data_role_name(v->role));
    if (!party) party = v->party;
    if (strcmp(party, v->party) != 0 && v->role != DATA_ROLE_SUPERVISOR)
        return fm_fail(err, FM_EFORBID, "party", "only the supervisor sees another party's list");
    return item_list(db, NULL, party, out, err);
}

fm_rc data_disputes(struct data_db *db, const struct data_viewer *v, json_t **out,
                    struct fm_err *err)
{
    (void)v; /* a disputed item is never a draft: everyone sees the list */
    *out = NULL;
    return item_list(db, "disputed", NULL, out, err);
}
