/* rules.c - lead times and deadlines (data.h, "lead times, deadlines and
 * the inbox"): the admin's rules, the marks a version carries (late_notice,
 * notified_at, answer_due), and the check that makes an unanswered version
 * overdue. The rules only, above the store (store.h).
 *
 * What a version carries is decided when it is written, from the rule in
 * force then, and kept in its Feature (so its record, its exports and its
 * history say the same):
 *   - notified_at: when the item was first shown to the other side (its
 *     first version that is not a draft), carried by later versions;
 *   - late_notice, notice_required_s: valid_from came sooner after
 *     notified_at than the rule's notice (urgent_notice for an item marked
 *     urgent with a reason); decided again when valid_from or urgent
 *     changes, and then measured from that change;
 *   - answer_due: on a version that waits for the other side's answer
 *     (ack_next_status), the time of the write plus answer_s, but never
 *     later than answer_before_s before valid_from; when the notice was
 *     too short even for that, valid_from itself (and answer_s when the
 *     item has started already).
 * A version written with answer_due gets a row in the store's deadlines;
 * once data_clock_now() passes it while that version is still the current
 * one (an answer, an amendment and a withdrawal all make a new version),
 * it is marked overdue by a record "overdue" of the item, seen exactly as
 * the version is. A draft is never notified, so never overdue. */
#include "internal.h"
#include "store.h"
#include "vocabulary.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULE_MAX_S (90L * 86400L) /* no rule asks more than 90 days */

/* ---- the clock --------------------------------------------------------- */

static _Atomic int64_t clock_offset;

fm_time data_clock_now(void)
{
    return fm_time_now() + atomic_load(&clock_offset);
}

int64_t data_clock_offset(void)
{
    return atomic_load(&clock_offset);
}

void data_clock_advance(int64_t seconds)
{
    atomic_fetch_add(&clock_offset, seconds);
}

/* ---- the rules ----------------------------------------------------------- */

struct rule {
    char collection[16], type[32];
    int64_t notice_s, urgent_notice_s, answer_s, answer_before_s;
    int set; /* 0: a default */
    fm_time at;
    char by[64];
};

/* The defaults: a movement needs two days' notice (one when urgent), a
 * zone one (six hours when urgent); an incident is reported after the
 * fact, so it needs none. The other side answers within 12 hours (an
 * incident within 6), and at the latest 6 hours (zones 2) before the start. */
static const struct rule defaults[] = {
    {"zones", "*", 24 * 3600, 6 * 3600, 12 * 3600, 2 * 3600, 0, 0, ""},
    {"incidents", "*", 0, 0, 6 * 3600, 0, 0, 0, ""},
    {"movements", "*", 48 * 3600, 24 * 3600, 12 * 3600, 6 * 3600, 0, 0, ""},
};
#define NDEFAULTS (sizeof defaults / sizeof defaults[0])

struct rules_set {
    struct rule *r;
    size_t n, cap;
};

static int rules_collect(void *ctx, const struct store_rule *s)
{
    struct rules_set *rs = ctx;
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 16;
        rs->r = fm_xrealloc(rs->r, rs->cap * sizeof *rs->r);
    }
    struct rule *r = &rs->r[rs->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->collection, sizeof r->collection, "%s", s->collection);
    snprintf(r->type, sizeof r->type, "%s", s->type);
    r->notice_s = s->notice_s;
    r->urgent_notice_s = s->urgent_notice_s;
    r->answer_s = s->answer_s;
    r->answer_before_s = s->answer_before_s;
    r->set = 1;
    r->at = s->at;
    snprintf(r->by, sizeof r->by, "%s", s->by ? s->by : "");
    return 0;
}

/* The rules in force: the set ones, then a default "*" for each
 * collection that has no "*" set. OUT rs (free rs->r). */
static fm_rc rules_load(struct data_db *db, struct rules_set *rs, struct fm_err *err)
{
    memset(rs, 0, sizeof *rs);
    fm_rc rc = store_of(db)->rules_each(db, rules_collect, rs, err);
    if (rc) {
        free(rs->r);
        rs->r = NULL;
        return rc;
    }
    for (size_t d = 0; d < NDEFAULTS; d++) {
        int found = 0;
        for (size_t i = 0; i < rs->n && !found; i++)
            found = !strcmp(rs->r[i].collection, defaults[d].collection) &&
                    !strcmp(rs->r[i].type, "*");
        if (found) continue;
        struct store_rule s = {defaults[d].collection, "*", defaults[d].notice_s,
                               defaults[d].urgent_notice_s, defaults[d].answer_s,
                               defaults[d].answer_before_s, 0, ""};
        rules_collect(rs, &s);
        rs->r[rs->n - 1].set = 0;
    }
    return FM_OK;
}

/* The rule of (collection, type) in rs: the type's, else the "*". */
static const struct rule *rule_pick(const struct rules_set *rs, const char *coll, const char *type)
{
    const struct rule *star = NULL;
    for (size_t i = 0; i < rs->n; i++) {
        if (strcmp(rs->r[i].collection, coll) != 0) continue;
        if (type && !strcmp(rs->r[i].type, type)) return &rs->r[i];
        if (!strcmp(rs->r[i].type, "*")) star = &rs->r[i];
    }
    return star;
}

static fm_rc rule_for(struct data_db *db, enum data_coll c, const char *type, struct rule *out,
                      struct fm_err *err)
{
    struct rules_set rs;
    fm_rc rc = rules_load(db, &rs, err);
    if (rc) return rc;
    const struct rule *r = rule_pick(&rs, data_coll_name(c), type);
    if (r)
        *out = *r;
    else
        memset(out, 0, sizeof *out);
    free(rs.r);
    return FM_OK;
}

static json_t *rule_json(const struct rule *r, int with_source)
{
    json_t *j = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "collection", r->collection, "type",
                          r->type, "notice_s", (json_int_t)r->notice_s, "urgent_notice_s",
                          (json_int_t)r->urgent_notice_s, "answer_s", (json_int_t)r->answer_s,
                          "answer_before_s", (json_int_t)r->answer_before_s);
    if (with_source) {
        json_object_set_new(j, "source", json_string(r->set ? "set" : "default"));
        if (r->set) {
            char at[FM_TIME_STAMP_LEN];
            fm_time_format(r->at, at);
            json_object_set_new(j, "set_at", json_string(at));
            json_object_set_new(j, "set_by", json_string(r->by));
        }
    }
    return j;
}

fm_rc data_rules(struct data_db *db, json_t **out, struct fm_err *err)
{
    *out = NULL;
    struct rules_set rs;
    fm_rc rc = rules_load(db, &rs, err);
    if (rc) return rc;
    json_t *arr = json_array();
    /* by collection in the API's order, "*" first, then by type */
    for (int c = 0; c < DATA_COLL_COUNT; c++) {
        const char *name = data_coll_name((enum data_coll)c);
        for (int star = 1; star >= 0; star--)
            for (size_t i = 0; i < rs.n; i++)
                if (!strcmp(rs.r[i].collection, name) && (strcmp(rs.r[i].type, "*") == 0) == star)
                    json_array_append_new(arr, rule_json(&rs.r[i], 1));
    }
    free(rs.r);
    *out = arr;
    return FM_OK;
}

/* A type a rule may name: "*", or a word of lower-case letters, digits,
 * '_' and '-' (and, for zones and movements, one of the vocabulary's). */
static fm_rc type_check(enum data_coll c, const char *type, const char *ptr, struct fm_err *err)
{
    if (!type || !*type || strlen(type) > 31)
        return fm_fail(err, FM_EINVAL, ptr, "type is \"*\" or an item type (1 to 31 characters)");
    if (!strcmp(type, "*")) return FM_OK;
    for (const char *p = type; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' || *p == '-'))
            return fm_fail(err, FM_EINVAL, ptr,
                           "type is \"*\" or a word of a-z, 0-9, '_' and '-'");
    /* the vocabulary's words, where the collection has a list */
    enum vocab_list l = c == DATA_ZONES ? VOCAB_ZONE_TYPES : VOCAB_MOVEMENT_KINDS;
    if (c != DATA_INCIDENTS && !vocab_find(l, type)) {
        char words[300];
        vocab_join(l, 0, words, sizeof words);
        return fm_fail(err, FM_EINVAL, ptr, "type is \"*\" or one of %s", words);
    }
    return FM_OK;
}

static fm_rc field_seconds(const json_t *o, const char *key, int64_t *v, const char *base,
                           struct fm_err *err)
{
    json_t *j = json_object_get(o, key);
    if (!j) return FM_OK;
    if (!json_is_integer(j) || json_integer_value(j) < 0 || json_integer_value(j) > RULE_MAX_S)
        return fm_fail(err, FM_EINVAL, NULL, "x");
    *v = json_integer_value(j);
    (void)base;
    return FM_OK;
}

/* Reads rule object o (at pointer base) over its current value r. */
static fm_rc rule_parse(const json_t *o, const char *base, const struct rules_set *rs,
                        struct rule *r, struct fm_err *err)
{
    char ptr[96];
    if (!json_is_object(o))
        return fm_fail(err, FM_EINVAL, base[0] ? base : "",
                       "a rule is an object {collection, type, notice_s, urgent_notice_s,"
                       " answer_s, answer_before_s}");
    static const char *const known[] = {"collection", "type",     "notice_s", "urgent_notice_s",
                                        "answer_s",   "answer_before_s", NULL};
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)o, key, val)
    {
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++) ok = !strcmp(*k, key);
        if (!ok) {
            snprintf(ptr, sizeof ptr, "%s/%.40s", base, key);
            return fm_fail(err, FM_EINVAL, ptr,
                           "unknown field; a rule has collection, type, notice_s,"
                           " urgent_notice_s, answer_s, answer_before_s");
        }
    }
    enum data_coll c;
    const char *coll = json_string_value(json_object_get(o, "collection"));
    snprintf(ptr, sizeof ptr, "%s/collection", base);
    if (!coll || data_coll_parse(coll, &c) != FM_OK)
        return fm_fail(err, FM_EINVAL, ptr, "collection is zones, incidents or movements");
    const char *type = json_string_value(json_object_get(o, "type"));
    if (!json_object_get(o, "type")) type = "*";
    snprintf(ptr, sizeof ptr, "%s/type", base);
    fm_rc rc = type_check(c, type, ptr, err);
    if (rc) return rc;
    const struct rule *cur = rule_pick(rs, coll, type);
    memset(r, 0, sizeof *r);
    if (cur) *r = *cur;
    snprintf(r->collection, sizeof r->collection, "%s", coll);
    snprintf(r->type, sizeof r->type, "%s", type);
    struct {
        const char *key;
        int64_t *v;
    } fields[] = {{"notice_s", &r->notice_s},
                  {"urgent_notice_s", &r->urgent_notice_s},
                  {"answer_s", &r->answer_s},
                  {"answer_before_s", &r->answer_before_s}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (field_seconds(o, fields[i].key, fields[i].v, base, err)) {
            snprintf(ptr, sizeof ptr, "%s/%s", base, fields[i].key);
            return fm_fail(err, FM_EINVAL, ptr, "%s is whole seconds, 0 to %ld (90 days)",
                           fields[i].key, RULE_MAX_S);
        }
    }
    if (r->urgent_notice_s > r->notice_s) {
        snprintf(ptr, sizeof ptr, "%s/urgent_notice_s", base);
        return fm_fail(err, FM_EINVAL, ptr,
                       "urgent_notice_s (%" PRId64 ") cannot be more than notice_s (%" PRId64 ")",
                       r->urgent_notice_s, r->notice_s);
    }
    return FM_OK;
}

fm_rc data_rules_set(struct data_db *db, const struct data_viewer *v, const json_t *body,
                     json_t **out, struct fm_err *err)
{
    *out = NULL;
    if (v->role != DATA_ROLE_ADMIN)
        return fm_fail(err, FM_EFORBID, NULL, "only the admin sets the rules");
    if (!json_is_object(body) && !json_is_array(body))
        return fm_fail(err, FM_EINVAL, "",
                       "send a rule {collection, type, notice_s, urgent_notice_s, answer_s,"
                       " answer_before_s} or an array of them");
    size_t n = json_is_array(body) ? json_array_size(body) : 1;
    if (n == 0 || n > 64) return fm_fail(err, FM_EINVAL, "", "send 1 to 64 rules");
    const struct store_ops *ops = store_of(db);
    fm_rc rc = ops->begin(db, err);
    if (rc) return rc;
    fm_time now = fm_time_now();
    for (size_t i = 0; i < n && !rc; i++) {
        struct rules_set rs;
        if ((rc = rules_load(db, &rs, err))) break;
        char base[24] = "";
        if (json_is_array(body)) snprintf(base, sizeof base, "/%zu", i);
        const json_t *o = json_is_array(body) ? json_array_get(body, i) : body;
        struct rule r;
        rc = rule_parse(o, base, &rs, &r, err);
        const struct rule *cur = rc ? NULL : rule_pick(&rs, r.collection, r.type);
        json_t *bj = cur && !strcmp(cur->type, r.type) ? rule_json(cur, 0) : NULL;
        free(rs.r);
        if (rc) break;
        struct store_rule s = {r.collection,     r.type,   r.notice_s, r.urgent_notice_s,
                               r.answer_s,       r.answer_before_s, now, v->user};
        json_t *aj = rule_json(&r, 0);
        char *before = bj ? json_dumps(bj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        char *after = json_dumps(aj, JSON_COMPACT | JSON_SORT_KEYS);
        if (!(rc = ops->rule_put(db, &s, err)))
            rc = events_append_ex(db, v, "rules_set", "rules", 0, 0, before, after, NULL, 0, 0,
                                  now, err);
        free(before);
        free(after);
        json_decref(aj);
        json_decref(bj);
    }
    if (!rc) rc = ops->commit(db, err);
    if (rc) {
        ops->rollback(db);
        return rc;
    }
    return data_rules(db, out, err);
}

/* ---- the marks of a version ---------------------------------------------- */

/* The demo's staging (deadline_stage_notice): this thread's first
 * notifications dated this many seconds before the write. */
static _Thread_local int64_t staged_notice_s;

void deadline_stage_notice(int64_t seconds)
{
    staged_notice_s = seconds > 0 ? seconds : 0;
}

static const char *prop_str(const json_t *props, const char *key)
{
    return json_string_value(json_object_get(props, key));
}

static void set_time(json_t *props, const char *key, fm_time t)
{
    char s[FM_TIME_STAMP_LEN];
    fm_time_format(t, s);
    json_object_set_new(props, key, json_string(s));
}

fm_rc deadline_mark(struct data_db *db, enum data_coll c, const json_t *prev,
                    const struct item_fields *f, const char *status, int owner_only,
                    json_t *feature, fm_time now, struct fm_err *err)
{
    json_t *props = json_object_get(feature, "properties");
    const json_t *pprops = prev ? json_object_get(prev, "properties") : NULL;
    static const char *const marks[] = {"late_notice", "notified_at", "notice_required_s",
                                        "answer_due", NULL};
    for (const char *const *k = marks; *k; k++) json_object_del(props, *k);
    json_t *urgent = json_object_get(props, "urgent");
    if (urgent && !json_is_boolean(urgent))
        return fm_fail(err, FM_EINVAL, "/properties/urgent", "urgent is true or false");
    int is_urgent = json_is_true(urgent);
    const char *reason = prop_str(props, "urgent_reason");
    if (is_urgent && (!reason || !reason[strspn(reason, " \t\n")]))
        return fm_fail(err, FM_EINVAL, "/properties/urgent_reason",
                       "an urgent item says why: urgent_reason is required with urgent: true");
    if (owner_only) return FM_OK; /* a draft is shown to no one: nothing to mark */

    struct rule r;
    fm_rc rc = rule_for(db, c, f->type, &r, err);
    if (rc) return rc;

    /* notified: the first version the other side saw */
    fm_time notified = now;
    const char *pn = prop_str(pprops, "notified_at");
    int first = !pn || fm_time_parse(pn, &notified) != FM_OK;
    if (first) notified = now - staged_notice_s;
    set_time(props, "notified_at", notified);

    /* late notice: decided at notification, and again when the start or
     * the urgency changes (measured from that change) */
    fm_time pfrom = 0;
    const char *pvf = prop_str(pprops, "valid_from");
    int phas = pvf && fm_time_parse(pvf, &pfrom) == FM_OK;
    int purgent = json_is_true(json_object_get(pprops, "urgent"));
    int changed = first || phas != f->has_from || (f->has_from && pfrom != f->valid_from) ||
                  purgent != is_urgent;
    int64_t required = is_urgent ? r.urgent_notice_s : r.notice_s;
    if (changed) {
        fm_time from_when = first ? notified : now;
        int late = required > 0 && f->has_from && f->valid_from - from_when < required;
        json_object_set_new(props, "late_notice", json_boolean(late));
        json_object_set_new(props, "notice_required_s", json_integer(required));
    } else {
        json_object_set_new(props, "late_notice",
                            json_boolean(json_is_true(json_object_get(pprops, "late_notice"))));
        json_t *pr = json_object_get(pprops, "notice_required_s");
        json_object_set_new(props, "notice_required_s",
                            json_integer(json_is_integer(pr) ? json_integer_value(pr) : required));
    }

    /* the answer's deadline, on a version that waits for one */
    if (ack_next_status(c, status) && r.answer_s > 0) {
        fm_time due = now + r.answer_s;
        if (f->has_from && r.answer_before_s > 0 && f->valid_from - r.answer_before_s < due) {
            due = f->valid_from - r.answer_before_s;
            if (due < now) due = f->valid_from > now ? f->valid_from : now + r.answer_s;
        }
        set_time(props, "answer_due", due);
    }
    return FM_OK;
}

/* ---- overdue ---------------------------------------------------------------- */

static const struct data_viewer deadline_actor = {0, "system", "", DATA_ROLE_ADMIN};

struct due_list {
    struct store_deadline *d;
    char (*coll)[16];
    char (*party)[16];
    size_t n, cap;
};

static int due_collect(void *ctx, const struct store_deadline *d)
{
    struct due_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->d = fm_xrealloc(l->d, l->cap * sizeof *l->d);
        l->coll = fm_xrealloc(l->coll, l->cap * sizeof *l->coll);
        l->party = fm_xrealloc(l->party, l->cap * sizeof *l->party);
    }
    l->d[l->n] = *d;
    snprintf(l->coll[l->n], sizeof l->coll[l->n], "%s", d->collection);
    snprintf(l->party[l->n], sizeof l->party[l->n], "%s", d->party);
    l->d[l->n].collection = l->coll[l->n];
    l->d[l->n].party = l->party[l->n];
    l->n++;
    return 0;
}

static void due_free(struct due_list *l)
{
    free(l->d);
    free(l->coll);
    free(l->party);
}

struct version_peek {
    char status[24];
    char title[200];
    int owner_only;
    int found;
};

static int peek_row(void *ctx, const struct store_version *r)
{
    struct version_peek *p = ctx;
    p->found = 1;
    snprintf(p->status, sizeof p->status, "%s", r->status);
    snprintf(p->title, sizeof p->title, "%s", r->title ? r->title : "");
    p->owner_only = r->owner_only;
    return 1;
}

/* Marks overdue what is due by now, inside the caller's transaction. */
static fm_rc check_in_tx(struct data_db *db, fm_time now, long *marked, struct fm_err *err)
{
    const struct store_ops *ops = store_of(db);
    struct due_list l = {0};
    fm_rc rc = ops->deadlines_each(db, 0, now, due_collect, &l, err);
    /* the record is written at the time of the log (at); the mark is
     * stamped on the deadlines' clock (now), the clock answer_due is
     * compared on, so that overdue_at is never before answer_due, and the
     * record says it (overdue_at), for verify to compare with the row */
    fm_time at = fm_time_now();
    char stamp[FM_TIME_STAMP_LEN];
    fm_time_format(now, stamp);
    for (size_t i = 0; i < l.n && !rc; i++) {
        const struct store_deadline *d = &l.d[i];
        struct version_peek p = {0};
        enum data_coll c;
        if ((rc = ops->version_get(db, d->item, d->version, peek_row, &p, err))) break;
        /* never a draft's; only a version still waiting for its answer */
        if (!p.found || p.owner_only || data_coll_parse(d->collection, &c) != FM_OK ||
            !ack_next_status(c, p.status))
            continue;
        char due[FM_TIME_STAMP_LEN];
        fm_time_format(d->due_at, due);
        json_t *j = json_pack("{s:s,s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:s}", "type", "Overdue",
                              "collection", d->collection, "item", (json_int_t)d->item,
                              "version", (json_int_t)d->version, "party", d->party, "title",
                              p.title, "status", p.status, "answer_due", due, "overdue_at",
                              stamp);
        char *after = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(j);
        if (!(rc = ops->deadline_overdue(db, d->item, d->version, now, err)))
            rc = events_append_ex(db, &deadline_actor, "overdue", d->collection, d->item,
                                  d->version, NULL, after, d->party, 0, p.owner_only, at, err);
        free(after);
        if (!rc && marked) (*marked)++;
    }
    due_free(&l);
    return rc;
}

fm_rc deadline_written(struct data_db *db, enum data_coll c, int64_t id, int64_t version,
                       const char *party, const json_t *feature, fm_time now,
                       struct fm_err *err)
{
    const char *due_s = prop_str(json_object_get(feature, "properties"), "answer_due");
    fm_time due;
    if (due_s && fm_time_parse(due_s, &due) == FM_OK) {
        struct store_deadline d = {id, version, data_coll_name(c), party, now, due, 0};
        fm_rc rc = store_of(db)->deadline_insert(db, &d, err);
        if (rc) return rc;
    }
    return check_in_tx(db, data_clock_now(), NULL, err);
}

fm_rc data_deadlines_check(struct data_db *db, long *marked, struct fm_err *err)
{
    long n = 0;
    const struct store_ops *ops = store_of(db);
    fm_rc rc = ops->begin(db, err);
    if (rc) return rc;
    rc = check_in_tx(db, data_clock_now(), &n, err);
    if (!rc) rc = ops->commit(db, err);
    if (rc) {
        ops->rollback(db);
        return rc;
    }
    if (marked) *marked = n;
    return FM_OK;
}

struct overdue_list {
    const char *coll;
    struct data_overdue *v;
    size_t n, cap;
};

static int overdue_row(void *ctx, const struct store_deadline *d)
{
    struct overdue_list *l = ctx;
    if (strcmp(d->collection, l->coll) != 0) return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = fm_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (struct data_overdue){d->item, d->version, d->overdue_at};
    return 0;
}

/* The overdue versions of collection c: of items[0..n), or every one
 * (items NULL: a picture's). */
fm_rc data_overdue_of(struct data_db *db, enum data_coll c, const int64_t *items, size_t n,
                      struct data_overdue **out, size_t *nout, struct fm_err *err)
{
    struct overdue_list l = {data_coll_name(c), NULL, 0, 0};
    fm_rc rc = items ? store_of(db)->deadlines_overdue_of(db, items, n, overdue_row, &l, err)
                     : store_of(db)->deadlines_each(db, 1, 0, overdue_row, &l, err);
    if (rc) {
        free(l.v);
        l.v = NULL, l.n = 0;
    }
    *out = l.v;
    *nout = l.n;
    return rc;
}

fm_rc data_item_deadline(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                         int64_t id, json_t **out, struct fm_err *err)
{
    *out = NULL;
    struct item_current cur;
    fm_rc rc = item_load_current(db, v, c, id, &cur, err);
    if (rc) return rc;
    int64_t version = cur.version;
    int owner_only = cur.owner_only;
    item_current_cleanup(&cur);
    if (owner_only) return FM_OK;
    struct data_overdue *od;
    size_t n;
    if ((rc = data_overdue_of(db, c, &id, 1, &od, &n, err))) return rc;
    for (size_t i = 0; i < n; i++)
        if (od[i].version == version) {
            char at[FM_TIME_STAMP_LEN];
            fm_time_format(od[i].at, at);
            *out = json_pack("{s:b,s:s}", "overdue", 1, "overdue_at", at);
        }
    free(od);
    return FM_OK;
}

/* ---- verify ------------------------------------------------------------------- */

struct replay_dl {
    int64_t last;
    json_t *rules;     /* "coll/type" -> the record's after, with "_seq", "_at", "_by" */
    json_t *deadlines; /* "item/version" -> {due, at, overdue, _seq} */
    int64_t bad;
    struct fm_err *err;
};

static int replay_record(void *ctx, const struct store_event *e)
{
    struct replay_dl *r = ctx;
    if (e->seq > r->last) return 1;
    char key[96];
    if (!strcmp(e->action, "rules_set") && e->after) {
        json_t *a = json_loads(e->after, 0, NULL);
        if (!a) return 0;
        snprintf(key, sizeof key, "%s/%s", json_string_value(json_object_get(a, "collection")),
                 json_string_value(json_object_get(a, "type")));
        json_object_set_new(a, "_seq", json_integer(e->seq));
        json_object_set_new(a, "_at", json_integer(e->at));
        json_object_set_new(a, "_by", json_string(e->user));
        json_object_set_new(r->rules, key, a);
        return 0;
    }
    if (!e->collection || !e->after || e->item <= 0) return 0;
    snprintf(key, sizeof key, "%" PRId64 "/%" PRId64, e->item, e->version);
    if (!strcmp(e->action, "overdue")) {
        json_t *d = json_object_get(r->deadlines, key);
        /* stamped on the deadlines' clock, which the record names; a
         * record written before it did was stamped at its own time */
        fm_time stamped = e->at;
        json_t *a = json_loads(e->after, 0, NULL);
        const char *od = json_string_value(json_object_get(a, "overdue_at"));
        if (od && fm_time_parse(od, &stamped) != FM_OK) stamped = e->at;
        json_decref(a);
        if (d) json_object_set_new(d, "overdue", json_integer(stamped));
        else if (!r->bad) {
            r->bad = e->seq;
            fm_fail(r->err, FM_OK, "/deadlines",
                    "the state differs from the log: record %" PRId64 " marks overdue a version that had no deadline", e->seq);
        }
        return 0;
    }
    int version_action = 0;
#define IS_ACTION_(s) version_action |= !strcmp(e->action, s);
#define NOTHING_
    EVENT_VERSION_ACTIONS(IS_ACTION_, NOTHING_)
#undef IS_ACTION_
#undef NOTHING_
    if (!version_action || !strstr(e->after, "\"answer_due\"")) return 0;
    json_t *a = json_loads(e->after, 0, NULL);
    const char *due_s = json_string_value(json_object_get(json_object_get(a, "properties"), "answer_due"));
    fm_time due;
    if (due_s && fm_time_parse(due_s, &due) == FM_OK)
        json_object_set_new(r->deadlines, key,
                            json_pack("{s:I,s:I,s:I}", "due", (json_int_t)due, "at",
                                      (json_int_t)e->at, "_seq", (json_int_t)e->seq));
    json_decref(a);
    return 0;
}

static int replay_rule_row(void *ctx, const struct store_rule *s)
{
    struct replay_dl *r = ctx;
    char key[96];
    snprintf(key, sizeof key, "%s/%s", s->collection, s->type);
    json_t *a = json_object_get(r->rules, key);
    if (!a) {
        r->bad = r->last + 1;
        fm_fail(r->err, FM_OK, "/deadline_rules",
                "the state differs from the log: deadline_rules row %s: no record sets it", key);
        return 1;
    }
    int64_t seq = json_integer_value(json_object_get(a, "_seq"));
    struct {
        const char *k;
        int64_t v;
    } cols[] = {{"notice_s", s->notice_s},
                {"urgent_notice_s", s->urgent_notice_s},
                {"answer_s", s->answer_s},
                {"answer_before_s", s->answer_before_s},
                {"_at", s->at}};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        if (json_integer_value(json_object_get(a, cols[i].k)) != cols[i].v) {
            r->bad = seq;
            fm_fail(r->err, FM_OK, "/deadline_rules",
                    "the state differs from the log: deadline_rules row %s: column %s is %" PRId64 ", the log says %" PRId64, key,
                    cols[i].k, cols[i].v, (int64_t)json_integer_value(json_object_get(a, cols[i].k)));
            return 1;
        }
    json_object_del(r->rules, key);
    return 0;
}

static int replay_deadline_row(void *ctx, const struct store_deadline *d)
{
    struct replay_dl *r = ctx;
    char key[64];
    snprintf(key, sizeof key, "%" PRId64 "/%" PRId64, d->item, d->version);
    json_t *a = json_object_get(r->deadlines, key);
    if (!a) {
        r->bad = r->last + 1;
        fm_fail(r->err, FM_OK, "/deadlines", "the state differs from the log: deadlines row %s: no record tells it", key);
        return 1;
    }
    int64_t seq = json_integer_value(json_object_get(a, "_seq"));
    if (json_integer_value(json_object_get(a, "due")) != d->due_at ||
        json_integer_value(json_object_get(a, "at")) != d->notified_at ||
        json_integer_value(json_object_get(a, "overdue")) != d->overdue_at) {
        r->bad = seq;
        fm_fail(r->err, FM_OK, "/deadlines",
                "the state differs from the log: deadlines row %s: due_at %" PRId64 ", notified_at %" PRId64
                ", overdue_at %" PRId64 " differ from the log's",
                key, d->due_at, d->notified_at, d->overdue_at);
        return 1;
    }
    json_object_del(r->deadlines, key);
    return 0;
}

fm_rc deadlines_replay_check(struct data_db *db, int64_t last, int64_t *bad, struct fm_err *err)
{
    const struct store_ops *ops = store_of(db);
    struct replay_dl r = {last, json_object(), json_object(), 0, err};
    fm_rc rc = ops->events_each(db, 0, -1, replay_record, &r, err);
    if (!rc && !r.bad) rc = ops->rules_each(db, replay_rule_row, &r, err);
    if (!rc && !r.bad) rc = ops->deadlines_each(db, 2, 0, replay_deadline_row, &r, err);
    if (!rc && !r.bad) {
        const char *key;
        json_t *a;
        json_object_foreach(r.rules, key, a)
        {
            r.bad = json_integer_value(json_object_get(a, "_seq"));
            fm_fail(err, FM_OK, "/deadline_rules", "the state differs from the log: rule %s: the log sets it, no row holds it",
                    key);
            break;
        }
    }
    if (!rc && !r.bad) {
        const char *key;
        json_t *a;
        json_object_foreach(r.deadlines, key, a)
        {
            r.bad = json_integer_value(json_object_get(a, "_seq"));
            fm_fail(err, FM_OK, "/deadlines", "the state differs from the log: deadline %s: the log tells it, no row holds it",
                    key);
            break;
        }
    }
    json_decref(r.rules);
    json_decref(r.deadlines);
    if (!rc && r.bad) *bad = r.bad;
    return rc;
}
