/* rulings.c - the supervisor settles a dispute (data.h, "rulings"): uphold
 * (the item must change; it stays disputed) or overrule (the item stands),
 * with a written reason, in the same transaction as the step of the
 * workflow it causes. Each ruling is a record in the log (action
 * "ruling"). The rules only, above the store (store.h). */
#include "internal.h"
#include "store.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

json_t *ruling_json(const char *coll, const struct store_ruling *r, const char *status)
{
    char at[FM_TIME_STAMP_LEN];
    fm_time_format(r->at, at);
    return json_pack("{s:s,s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "Ruling", "collection",
                     coll, "item", (json_int_t)r->item, "version", (json_int_t)r->version,
                     "decision", r->decision, "reason", r->reason, "party", r->party, "by",
                     r->user, "at", at, "status", status);
}

/* The status an overruled dispute gives the item: the one an
 * acknowledgement would have given it before the dispute, else the one it
 * had, else the supervisor's first step from disputed that keeps it live;
 * always a step the supervisor may take (validate.c's one table). NULL
 * when there is none. */
static const char *overruled_status(enum data_coll c, const char *before)
{
    const char *acked = before ? ack_next_status(c, before) : NULL;
    if (acked && coll_supervisor_step_ok(c, "disputed", acked)) return acked;
    if (before && strcmp(before, "disputed") != 0 && coll_supervisor_step_ok(c, "disputed", before))
        return before;
    for (const char *const *s = data_coll_statuses(c); *s; s++)
        if (item_status_live(*s) && coll_supervisor_step_ok(c, "disputed", *s)) return *s;
    return NULL;
}

fm_rc ruling_input_check(const struct data_viewer *v, const char *decision, const char *reason,
                         struct fm_err *err)
{
    if (v->role != DATA_ROLE_SUPERVISOR)
        return fm_fail(err, FM_EFORBID, NULL, "only the supervisor rules on a dispute");
    if (!decision || (strcmp(decision, "uphold") != 0 && strcmp(decision, "overrule") != 0))
        return fm_fail(err, FM_EINVAL, "/decision", "decision is \"uphold\" or \"overrule\"");
    return message_text_check(reason, "/reason", err);
}

fm_rc data_item_rule(struct data_db *db, const struct data_viewer *v, enum data_coll c, int64_t id,
                     int64_t if_match, const char *decision, const char *reason,
                     json_t **updated, json_t **ruling, struct fm_err *err)
{
    return data_item_rule_signed(db, v, c, id, if_match, decision, reason, NULL, updated, ruling,
                                 err);
}

fm_rc data_item_rule_signed(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                            int64_t id, int64_t if_match, const char *decision,
                            const char *reason, const struct data_signature *sig,
                            json_t **updated, json_t **ruling, struct fm_err *err)
{
    *updated = NULL;
    *ruling = NULL;
    fm_rc rc = ruling_input_check(v, decision, reason, err);
    if (rc) return rc;
    const struct store_ops *ops = store_of(db);
    struct item_current cur;
    if ((rc = ops->begin(db, err))) return rc;
    if ((rc = item_load_current(db, v, c, id, &cur, err))) goto fail;
    int uphold = !strcmp(decision, "uphold");
    const char *status = cur.status;
    struct store_item_head before; /* the version before the dispute: status may point in it */
    if (strcmp(cur.status, "disputed") != 0) {
        rc = fm_fail(err, FM_ECONFLICT, NULL,
                     "item %" PRId64 " is %s, not disputed: there is nothing to rule on", id,
                     cur.status);
    } else if (if_match > 0 && if_match != cur.version) {
        rc = fm_fail(err, FM_ESTALE, NULL,
                     "item %" PRId64 " is at version %" PRId64 ", not %" PRId64
                     ": a ruling is on one version; reload and read it again",
                     id, cur.version, if_match);
    } else if (!uphold) {
        /* the status before the dispute */
        fm_rc hr = cur.version > 1 ? ops->item_head(db, id, cur.version - 1, &before, err)
                                   : FM_ENOTFOUND;
        if (hr && hr != FM_ENOTFOUND) rc = hr;
        if (!rc && !(status = overruled_status(c, hr ? NULL : before.status)))
            rc = fm_fail(err, FM_ECONFLICT, NULL, "no step of the workflow overrules this dispute");
    }
    fm_time now = fm_time_now();
    if (!rc) {
        /* the signature, over the statement of exactly this version */
        char *text = NULL, *statement = NULL;
        if (sig && !(rc = item_version_text(db, id, cur.version, &text, err)))
            rc = sig_statement(data_coll_name(c), id, cur.version, text, decision, reason,
                               sig->at, v->user, v->party, &statement, err);
        if (!rc) rc = sig_answer_check(db, v, statement, sig, now, err);
        free(text);
        free(statement);
    }
    if (!rc) {
        struct store_ruling r = {.item = id, .version = cur.version, .party = v->party,
                                 .user = v->user, .decision = decision, .reason = reason,
                                 .at = now};
        json_t *j = NULL;
        char *after = NULL;
        if (!(rc = ops->ruling_insert(db, &r, &r.id, err))) {
            j = ruling_json(data_coll_name(c), &r, status);
            if (sig)
                json_object_set_new(j, "signature",
                                    json_pack("{s:s,s:I,s:s}", "key", sig->key, "at",
                                              (json_int_t)sig->at, "value", sig->value));
            after = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
            /* the owner is told: the record is the item's, seen as its version is */
            rc = events_append_ex(db, v, "ruling", data_coll_name(c), id, cur.version, NULL, after,
                                  cur.party, 0, cur.owner_only, r.at, err);
        }
        if (!rc && !uphold) {
            json_t *proposed = json_deep_copy(cur.feature);
            json_object_set_new(json_object_get(proposed, "properties"), "status",
                                json_string(status));
            struct data_limits unlimited = {INT32_MAX, INT32_MAX};
            rc = item_write_next(db, v, c, id, &cur, cur.version, proposed, "patch", &unlimited,
                                 ITEM_BY_WORKFLOW, updated, err);
            json_decref(proposed);
        } else if (!rc) {
            *updated = json_incref(cur.feature);
        }
        free(after);
        if (!rc) *ruling = j;
        else json_decref(j);
    }
    item_current_cleanup(&cur);
    if (rc) goto fail;
    if ((rc = ops->commit(db, err))) goto fail;
    return FM_OK;
fail:
    ops->rollback(db);
    json_decref(*updated);
    json_decref(*ruling);
    *updated = *ruling = NULL;
    return rc;
}

struct list_ctx {
    const char *coll;
    json_t *out;
};

static int list_one(void *ctx, const struct store_ruling *r)
{
    struct list_ctx *l = ctx;
    json_t *j = ruling_json(l->coll, r, "");
    json_object_del(j, "status");
    json_object_del(j, "type");
    json_object_del(j, "collection");
    json_object_del(j, "item");
    json_array_append_new(l->out, j);
    return 0;
}

fm_rc data_item_rulings(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                        int64_t id, json_t **out, struct fm_err *err)
{
    *out = NULL;
    fm_rc rc = item_visible(db, v, c, id, err);
    if (rc) return rc;
    struct list_ctx l = {data_coll_name(c), json_array()};
    if ((rc = store_of(db)->rulings_each(db, id, list_one, &l, err))) {
        json_decref(l.out);
        return rc;
    }
    *out = l.out;
    return FM_OK;
}

fm_rc data_item_dispute(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                        int64_t id, json_t **out, struct fm_err *err)
{
    *out = NULL;
    json_t *acks = NULL, *rulings = NULL;
    fm_rc rc = data_item_acks(db, v, c, id, &acks, err);
    if (!rc) rc = data_item_rulings(db, v, c, id, &rulings, err);
    if (rc) {
        json_decref(acks);
        return rc;
    }
    json_t *dispute = json_null();
    for (size_t i = json_array_size(acks); i-- > 0;) {
        json_t *a = json_array_get(acks, i);
        if (strcmp(json_string_value(json_object_get(a, "decision")), "dispute") != 0) continue;
        dispute = json_pack("{s:O,s:O,s:O,s:O,s:O}", "version", json_object_get(a, "version"),
                            "party", json_object_get(a, "party"), "by", json_object_get(a, "by"),
                            "at", json_object_get(a, "at"), "reason",
                            json_object_get(a, "comment"));
        break;
    }
    size_t n = json_array_size(rulings);
    json_t *ruling = n ? json_incref(json_array_get(rulings, n - 1)) : json_null();
    *out = json_pack("{s:o,s:o}", "dispute", dispute, "ruling", ruling);
    json_decref(acks);
    json_decref(rulings);
    return FM_OK;
}
