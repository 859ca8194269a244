/* items.c - zones, incidents and movements: create, read, query, replace,
 * merge-patch, withdraw, history. Each write is one transaction that
 * closes the current version, opens the next and appends to the event
 * log; nothing is ever updated in place or deleted. The rules are here;
 * the rows are the store's (store.h). */
#include "internal.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

_Thread_local int64_t data_split_us[DATA_SPLIT_PARTS];

static int64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* ---- rules of who may do what ---------------------------------------- */

static int may_write(const struct data_viewer *v)
{
    return v->role == DATA_ROLE_LIAISON || v->role == DATA_ROLE_SUPERVISOR;
}

/* ---- geometry --------------------------------------------------------- */

/* Rejects what GEOS calls invalid, with its reason and location. */
static fm_rc geometry_check(struct data_db *db, const char *geojson, struct fm_err *err)
{
    int readable, valid;
    char reason[200];
    fm_rc rc = store_of(db)->geometry_check(db, geojson, &readable, &valid, reason, err);
    if (rc) return rc;
    if (!readable) return fm_fail(err, FM_EINVAL, "/geometry", "the geometry could not be read");
    if (!valid) return fm_fail(err, FM_EINVAL, "/geometry", "invalid geometry: %s", reason);
    return FM_OK;
}

/* ---- the current version --------------------------------------------- */

void item_current_cleanup(struct item_current *cur)
{
    json_decref(cur->feature);
    cur->feature = NULL;
}

struct load {
    const struct data_viewer *v;
    struct item_current *cur;
    int seen;
};

static int load_row(void *ctx, const struct store_version *r)
{
    struct load *l = ctx;
    struct item_current *cur = l->cur;
    if (!strcmp(r->status, "withdrawn") || !vis_may_see(l->v, r->party, r->owner_only)) return 1;
    l->seen = 1;
    cur->owner_only = r->owner_only;
    cur->vid = r->vid;
    cur->version = r->version;
    snprintf(cur->party, sizeof cur->party, "%s", r->party);
    snprintf(cur->status, sizeof cur->status, "%s", r->status);
    cur->created_at = r->created_at;
    snprintf(cur->created_by, sizeof cur->created_by, "%s", r->created_by);
    cur->feature = json_loads(r->feature, 0, NULL);
    return 1;
}

fm_rc item_load_current(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                        int64_t id, struct item_current *cur, struct fm_err *err)
{
    memset(cur, 0, sizeof *cur);
    struct load l = {v, cur, 0};
    fm_rc rc = store_of(db)->version_current(db, data_coll_name(c), id, load_row, &l, err);
    if (rc && rc != FM_ENOTFOUND) return rc;
    if (!l.seen)
        return fm_fail(err, FM_ENOTFOUND, NULL, "no %s item %" PRId64, data_coll_name(c), id);
    if (!cur->feature) return fm_fail(err, FM_EINTERNAL, NULL, "stored feature unreadable");
    return FM_OK;
}

fm_rc item_visible(struct data_db *db, const struct data_viewer *v, enum data_coll c, int64_t id,
                   struct fm_err *err)
{
    struct item_current cur;
    fm_rc rc = item_load_current(db, v, c, id, &cur, err);
    item_current_cleanup(&cur);
    return rc;
}

/* ---- writing a version ------------------------------------------------ */

/* Builds the stored Feature from validated fields and server-owned ones. */
static json_t *build_feature(int64_t id, const struct item_fields *f, const char *party,
                             const char *status, int64_t version, fm_time created_at,
                             const char *created_by, fm_time updated_at, const char *updated_by)
{
    char created[FM_TIME_STAMP_LEN], updated[FM_TIME_STAMP_LEN];
    fm_time_format(created_at, created);
    fm_time_format(updated_at, updated);
    json_t *props = json_deep_copy(f->props);
    json_object_set_new(props, "status", json_string(status));
    json_object_set_new(props, "party", json_string(party));
    json_object_set_new(props, "version", json_integer(version));
    json_object_set_new(props, "created_at", json_string(created));
    json_object_set_new(props, "created_by", json_string(created_by));
    json_object_set_new(props, "updated_at", json_string(updated));
    json_object_set_new(props, "updated_by", json_string(updated_by));
    return json_pack("{s:s,s:I,s:O,s:o}", "type", "Feature", "id", (json_int_t)id, "geometry",
                     f->geometry, "properties", props);
}

/* The row of a version from its validated fields. */
static struct store_version version_row(int64_t id, int64_t version, enum data_coll c,
                                        const char *party, const char *status, const char *action,
                                        const char *by, int owner_only, fm_time now,
                                        const struct item_fields *f, const char *feature_text,
                                        const char *geometry_text)
{
    return (struct store_version){
        .item = id,
        .version = version,
        .collection = data_coll_name(c),
        .party = party,
        .status = status,
        .type = f->type,
        .title = f->title,
        .has_from = f->has_from,
        .has_to = f->has_to,
        .has_floor = f->has_floor,
        .has_ceiling = f->has_ceiling,
        .valid_from = f->valid_from,
        .valid_to = f->valid_to,
        .alt_floor = f->alt_floor,
        .alt_ceiling = f->alt_ceiling,
        .sys_from = now,
        .action = action,
        .by = by,
        .feature = feature_text,
        .geometry = geometry_text,
        .owner_only = owner_only,
    };
}

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
}

/* ---- create ----------------------------------------------------------- */

/* item_create_in_tx; geometry_checked: the caller has checked the
 * geometry's validity already, before its transaction (data_item_create). */
static fm_rc create_in_tx(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                          const json_t *feature, const struct data_limits *lim,
                          int geometry_checked, json_t **created, struct fm_err *err)
{
    *created = NULL;
    if (!may_write(v))
        return fm_fail(err, FM_EFORBID, NULL, "a %s may not create items", data_role_name(v->role));
    int64_t t0 = now_us();
    struct item_fields f;
    fm_rc rc = feature_validate(c, feature, lim, &f, err);
    if (rc) return rc;
    json_t *out = NULL;
    char *geom_text = NULL, *feature_text = NULL;
    const char *status = f.status ? f.status : coll_default_status(c);
    if (!coll_initial_status(c, status)) {
        /* the initial statuses in words: "draft or proposed" (zones, whose
         * default is draft), "draft or reported", "draft or notified" */
        const char *other = c == DATA_ZONES ? "proposed" : coll_default_status(c);
        rc = fm_fail(err, FM_EINVAL, "/properties/status",
                     "a new item of %s starts as draft or %s, not %s", data_coll_name(c), other,
                     status);
        goto done;
    }
    geom_text = dump(f.geometry);
    if (!geometry_checked && (rc = geometry_check(db, geom_text, err))) goto done;

    const struct store_ops *ops = store_of(db);
    fm_time now = fm_time_now();
    int64_t id;
    if ((rc = ops->item_insert(db, data_coll_name(c), v->party, now, v->user, &id, err))) goto done;
    out = build_feature(id, &f, v->party, status, 1, now, v->user, now, v->user);
    int owner_only = vis_owner_only(status, 0);
    if ((rc = deadline_mark(db, c, NULL, &f, status, owner_only, out, now, err))) goto done;
    feature_text = dump(out);
    struct store_version r = version_row(id, 1, c, v->party, status, "create", v->user, owner_only,
                                         now, &f, feature_text, geom_text);
    if ((rc = ops->version_insert(db, &r, err))) goto done;
    int64_t t1 = now_us();
    data_split_us[DATA_SPLIT_ROWS] += t1 - t0;
    rc = events_append_ex(db, v, "create", data_coll_name(c), id, 1, NULL, feature_text, v->party,
                          0, owner_only, now, err);
    int64_t t2 = now_us();
    data_split_us[DATA_SPLIT_EVENT] += t2 - t1;
    if (rc) goto done;
    rc = conflicts_check_item(db, v, c, id, 1, now, err);
    t0 = now_us();
    data_split_us[DATA_SPLIT_CONFLICTS] += t0 - t2;
    if (rc) goto done;
    rc = deadline_written(db, c, id, 1, v->party, out, now, err);
    data_split_us[DATA_SPLIT_ROWS] += now_us() - t0;
    if (rc) goto done;
    *created = out;
    out = NULL;
done:
    json_decref(out);
    free(geom_text);
    free(feature_text);
    feature_fields_cleanup(&f);
    return rc;
}

fm_rc item_create_in_tx(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                        const json_t *feature, const struct data_limits *lim, json_t **created,
                        struct fm_err *err)
{
    return create_in_tx(db, v, c, feature, lim, 0, created, err);
}

fm_rc data_item_create(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                       const json_t *feature, const struct data_limits *lim, json_t **created,
                       struct fm_err *err)
{
    *created = NULL;
    if (!may_write(v))
        return fm_fail(err, FM_EFORBID, NULL, "a %s may not create items", data_role_name(v->role));
    /* the feature's shape and its geometry's validity (GEOS) depend on
     * nothing stored: checked before the transaction, outside the write
     * queue's turn, which every other writer waits for (issue 23); they
     * are checked again inside (but for GEOS) as the rest is written */
    struct item_fields f;
    fm_rc rc = feature_validate(c, feature, lim, &f, err);
    if (rc) return rc;
    char *geom_text = dump(f.geometry);
    int64_t t0 = now_us();
    rc = geometry_check(db, geom_text, err);
    data_split_us[DATA_SPLIT_GEOMETRY] += now_us() - t0;
    free(geom_text);
    feature_fields_cleanup(&f);
    if (rc) return rc;
    const struct store_ops *ops = store_of(db);
    rc = ops->begin(db, err);
    if (rc) return rc;
    rc = create_in_tx(db, v, c, feature, lim, 1, created, err);
    if (!rc) rc = ops->commit(db, err);
    if (rc) {
        ops->rollback(db);
        json_decref(*created);
        *created = NULL;
    }
    return rc;
}

/* ---- read ------------------------------------------------------------- */

fm_rc data_item_get(struct data_db *db, const struct data_viewer *v, enum data_coll c, int64_t id,
                    json_t **feature, struct fm_err *err)
{
    struct item_current cur;
    *feature = NULL;
    fm_rc rc = item_load_current(db, v, c, id, &cur, err);
    if (rc) return rc;
    *feature = cur.feature;
    return FM_OK;
}

/* ---- update ----------------------------------------------------------- */

/* The change of a supervisor to another party's item may touch the status
 * only (to dispute or arbitrate); geometry and content stay the owner's. */
static int only_status_changed(const json_t *old_feature, const json_t *new_feature)
{
    json_t *a = json_deep_copy(old_feature), *b = json_deep_copy(new_feature);
    json_t *pa = json_object_get(a, "properties"), *pb = json_object_get(b, "properties");
    static const char *const ignore[] = {"status",     "party",      "version",    "created_at",
                                         "created_by", "updated_at", "updated_by",
                                         /* rules.c's marks */
                                         "late_notice", "notified_at", "notice_required_s",
                                         "answer_due", NULL};
    for (const char *const *k = ignore; *k; k++) {
        json_object_del(pa, *k);
        json_object_del(pb, *k);
    }
    json_object_del(a, "id");
    json_object_del(b, "id");
    int same = json_equal(a, b);
    json_decref(a);
    json_decref(b);
    return same;
}

static void transitions_from(enum data_coll c, const char *from, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *const *s = data_coll_statuses(c); *s; s++)
        if (strcmp(*s, from) != 0 && strcmp(*s, "withdrawn") != 0 &&
            coll_transition_ok(c, from, *s))
            used +=
                (size_t)snprintf(out + used, used < n ? n - used : 0, "%s%s", used ? ", " : "", *s);
    if (!used) snprintf(out, n, "none");
}

/* The rules of the workflow beyond the table of steps (DESIGN.md, issue 6).
 * May rewrite *status (an edited active zone needs a new acknowledgement). */
static fm_rc workflow_rules(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                            int64_t id, const struct item_current *cur, const json_t *proposed,
                            int flags, const char **status, struct fm_err *err)
{
    int arbiter = v->role == DATA_ROLE_SUPERVISOR || (flags & ITEM_BY_WORKFLOW);
    if (!strcmp(*status, "disputed") && strcmp(cur->status, "disputed") != 0 && !arbiter)
        return fm_fail(err, FM_ECONFLICT, "/properties/status",
                       "an item becomes disputed through POST .../ack with decision dispute,"
                       " or by the supervisor");
    if (c == DATA_ZONES && !strcmp(cur->status, "active") && !strcmp(*status, "active") &&
        !only_status_changed(cur->feature, proposed)) {
        *status = "proposed"; /* a changed zone is a new proposal */
        return FM_OK;
    }
    if (c == DATA_ZONES && !strcmp(*status, "active") && strcmp(cur->status, "active") != 0 &&
        !arbiter) {
        int yes;
        fm_rc rc = store_of(db)->ack_exists(db, id, cur->version, cur->party, &yes, err);
        if (rc) return rc;
        if (!yes)
            return fm_fail(err, FM_ECONFLICT, "/properties/status",
                           "a zone becomes active only when the other side has acknowledged"
                           " its current version (%" PRId64 "), or the supervisor arbitrates",
                           cur->version);
    }
    return FM_OK;
}

fm_rc item_write_next(struct data_db *db, const struct data_viewer *v, enum data_coll c, int64_t id,
                      struct item_current *cur, int64_t if_match, const json_t *proposed,
                      const char *action, const struct data_limits *lim, int flags,
                      json_t **updated, struct fm_err *err)
{
    if (updated) *updated = NULL;
    struct item_fields f;
    fm_rc rc = feature_validate(c, proposed, lim, &f, err);
    if (rc) return rc;
    json_t *out = NULL;
    char *geom_text = NULL, *feature_text = NULL, *before_text = NULL;
    const char *status = f.status ? f.status : cur->status;

    if (!(flags & ITEM_BY_WORKFLOW) && strcmp(v->party, cur->party) != 0) {
        if (v->role != DATA_ROLE_SUPERVISOR || !only_status_changed(cur->feature, proposed)) {
            rc = fm_fail(err, FM_EFORBID, NULL,
                         "item %" PRId64 " belongs to party %s; only its owner may change it", id,
                         cur->party);
            goto done;
        }
    }
    if (if_match != cur->version) {
        rc = fm_fail(err, FM_ESTALE, NULL,
                     "item %" PRId64 " is at version %" PRId64 ", not %" PRId64
                     ": someone changed it; reload and compare",
                     id, cur->version, if_match);
        goto done;
    }
    if (!(flags & ITEM_WITHDRAW) && !coll_transition_ok(c, cur->status, status)) {
        char allowed[200];
        transitions_from(c, cur->status, allowed, sizeof allowed);
        rc = fm_fail(err, FM_ECONFLICT, "/properties/status",
                     "%s cannot go from %s to %s; allowed: %s", data_coll_name(c), cur->status,
                     status, allowed);
        goto done;
    }
    if (!(flags & (ITEM_BY_WORKFLOW | ITEM_WITHDRAW)) && strcmp(v->party, cur->party) != 0 &&
        !coll_supervisor_step_ok(c, cur->status, status)) {
        char allowed[200];
        coll_supervisor_steps_from(c, cur->status, allowed, sizeof allowed);
        rc = fm_fail(err, FM_ECONFLICT, "/properties/status",
                     "the supervisor may take another party's %s from %s to: %s (not %s)",
                     data_coll_name(c), cur->status, allowed, status);
        goto done;
    }
    if (!(flags & ITEM_WITHDRAW) &&
        (rc = workflow_rules(db, v, c, id, cur, proposed, flags, &status, err)))
        goto done;
    geom_text = dump(f.geometry);
    if ((rc = geometry_check(db, geom_text, err))) goto done;

    fm_time now = fm_time_now();
    int64_t version = cur->version + 1;
    out = build_feature(id, &f, cur->party, status, version, cur->created_at, cur->created_by, now,
                        v->user);
    int owner_only = vis_owner_only(status, cur->owner_only);
    if ((rc = deadline_mark(db, c, cur->feature, &f, status, owner_only, out, now, err))) goto done;
    feature_text = dump(out);
    before_text = dump(cur->feature);
    const struct store_ops *ops = store_of(db);
    if ((rc = ops->version_close(db, cur->vid, now, err))) goto done;
    struct store_version r = version_row(id, version, c, cur->party, status, action, v->user,
                                         owner_only, now, &f, feature_text, geom_text);
    if ((rc = ops->version_insert(db, &r, err))) goto done;
    if ((rc = events_append_ex(db, v, action, data_coll_name(c), id, version, before_text,
                               feature_text, cur->party, cur->owner_only, owner_only, now, err)))
        goto done;
    if ((rc = conflicts_check_item(db, v, c, id, 0, now, err))) goto done;
    if ((rc = deadline_written(db, c, id, version, cur->party, out, now, err))) goto done;
    if (updated) {
        *updated = out;
        out = NULL;
    }
done:
    json_decref(out);
    free(geom_text);
    free(feature_text);
    free(before_text);
    feature_fields_cleanup(&f);
    return rc;
}

/* One write: load the current version and write the next, in one
 * IMMEDIATE transaction, so that two writers with the same If-Match get
 * one 200 and one 412, never a half write. make_next builds the proposal. */
typedef json_t *(*make_next_fn)(const struct item_current *cur, const json_t *arg);

static fm_rc write_one(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                       int64_t id, int64_t if_match, make_next_fn make, const json_t *arg,
                       const char *action, const struct data_limits *lim, int flags,
                       json_t **updated, struct fm_err *err)
{
    const struct store_ops *ops = store_of(db);
    struct item_current cur;
    fm_rc rc = ops->begin(db, err);
    if (rc) return rc;
    if ((rc = item_load_current(db, v, c, id, &cur, err))) goto fail;
    if (flags & ITEM_WITHDRAW && strcmp(v->party, cur.party) != 0) {
        rc = fm_fail(err, FM_EFORBID, NULL,
                     "item %" PRId64 " belongs to party %s; only its owner may withdraw it", id,
                     cur.party);
    } else {
        json_t *next = make(&cur, arg);
        rc = item_write_next(db, v, c, id, &cur, if_match, next, action, lim, flags, updated, err);
        json_decref(next);
    }
    item_current_cleanup(&cur);
    if (rc) goto fail;
    if ((rc = ops->commit(db, err))) goto fail;
    return FM_OK;
fail:
    ops->rollback(db);
    if (updated) {
        json_decref(*updated);
        *updated = NULL;
    }
    return rc;
}

static json_t *next_replace(const struct item_current *cur, const json_t *feature)
{
    (void)cur;
    return json_deep_copy(feature);
}

fm_rc data_item_replace(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                        int64_t id, int64_t if_match, const json_t *feature,
                        const struct data_limits *lim, json_t **updated, struct fm_err *err)
{
    *updated = NULL;
    if (!may_write(v))
        return fm_fail(err, FM_EFORBID, NULL, "a %s may not change items", data_role_name(v->role));
    return write_one(db, v, c, id, if_match, next_replace, feature, "replace", lim, 0, updated,
                     err);
}

/* RFC 7396: null removes, objects merge, anything else replaces. */
static json_t *merge_patch(const json_t *target, const json_t *patch)
{
    if (!json_is_object(patch)) return json_deep_copy(patch);
    json_t *out = json_is_object(target) ? json_deep_copy(target) : json_object();
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)patch, key, val)
    {
        if (json_is_null(val)) {
            json_object_del(out, key);
        } else {
            json_t *merged = merge_patch(json_object_get(out, key), val);
            json_object_set_new(out, key, merged);
        }
    }
    return out;
}

static json_t *next_patch(const struct item_current *cur, const json_t *patch)
{
    return merge_patch(cur->feature, patch);
}

fm_rc data_item_patch(struct data_db *db, const struct data_viewer *v, enum data_coll c, int64_t id,
                      int64_t if_match, const json_t *patch, const struct data_limits *lim,
                      json_t **updated, struct fm_err *err)
{
    *updated = NULL;
    if (!may_write(v))
        return fm_fail(err, FM_EFORBID, NULL, "a %s may not change items", data_role_name(v->role));
    if (!json_is_object(patch))
        return fm_fail(err, FM_EINVAL, "", "a merge patch must be a JSON object");
    return write_one(db, v, c, id, if_match, next_patch, patch, "patch", lim, 0, updated, err);
}

static json_t *next_withdrawn(const struct item_current *cur, const json_t *arg)
{
    (void)arg;
    json_t *w = json_deep_copy(cur->feature);
    json_object_set_new(json_object_get(w, "properties"), "status", json_string("withdrawn"));
    return w;
}

fm_rc data_item_withdraw(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                         int64_t id, int64_t if_match, struct fm_err *err)
{
    if (!may_write(v))
        return fm_fail(err, FM_EFORBID, NULL, "a %s may not withdraw items",
                       data_role_name(v->role));
    /* withdrawal is a step from any live status, outside the table */
    struct data_limits unlimited = {INT32_MAX, INT32_MAX};
    return write_one(db, v, c, id, if_match, next_withdrawn, NULL, "withdraw", &unlimited,
                     ITEM_WITHDRAW, NULL, err);
}

/* ---- history ---------------------------------------------------------- */

struct history {
    const struct data_viewer *v;
    json_t *arr;
};

static int history_row(void *ctx, const struct store_version *r)
{
    struct history *h = ctx;
    if (!vis_may_see(h->v, r->party, r->owner_only)) return 0;
    char at[FM_TIME_STAMP_LEN];
    fm_time_format(r->sys_from, at);
    json_array_append_new(h->arr,
                          json_pack("{s:I,s:s,s:s,s:s,s:s,s:o*}", "version", (json_int_t)r->version,
                                    "at", at, "by", r->by, "party", r->party, "action", r->action,
                                    "feature", json_loads(r->feature, 0, NULL)));
    return 0;
}

fm_rc data_item_history(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                        int64_t id, json_t **out, struct fm_err *err)
{
    *out = NULL;
    struct history h = {v, json_array()};
    fm_rc rc = store_of(db)->versions_each(db, data_coll_name(c), id, history_row, &h, err);
    if (!rc && json_array_size(h.arr) == 0)
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no %s item %" PRId64, data_coll_name(c), id);
    if (rc)
        json_decref(h.arr);
    else
        *out = h.arr;
    return rc;
}
