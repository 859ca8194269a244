/* inbox.c - what waits for a user (data.h, data_inbox): the items of the
 * other side to answer (the supervisor: the disputes to rule on), the
 * disputes of the user's party's items, the rulings on them that nothing
 * has followed yet, the open conflicts with them, the messages of the
 * threads and channels the user reads that the party has not seen, and the
 * overdue items. Everything is computed from the state when asked, through
 * the same visibility rule as the items (vis_may_see, vis_may_read): a
 * draft's entry is its party's alone. The rules only, above the store. */
#include "internal.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct inbox {
    struct data_db *db;
    const struct data_viewer *v;
    int sup;
    json_t *to_answer, *to_rule, *disputed, *rulings, *conflicts, *messages, *overdue;
    json_t *ruled; /* "item/version" of every ruling */
    long unseen;   /* messages not seen, in all threads */
    const struct data_inbox_filter *f; /* which overdue entries (NULL: all) */
    fm_time now;                       /* the deadlines' clock */
    long hidden;                       /* overdue entries the filter left out */
    struct fm_err *err;
    fm_rc rc;
};

static json_t *item_entry(const char *coll, int64_t id, int64_t version, const char *party,
                          const char *status, const char *title)
{
    return json_pack("{s:s,s:I,s:I,s:s,s:s,s:s}", "collection", coll, "id", (json_int_t)id,
                     "version", (json_int_t)version, "party", party, "status", status, "title",
                     title && *title ? title : "(untitled)");
}

/* Copies the deadline marks of a version's Feature into an entry. */
static void entry_marks(json_t *e, const char *feature)
{
    json_t *f = feature ? json_loads(feature, 0, NULL) : NULL;
    json_t *p = json_object_get(f, "properties");
    const char *due = json_string_value(json_object_get(p, "answer_due"));
    if (due) json_object_set_new(e, "answer_due", json_string(due));
    if (json_is_true(json_object_get(p, "late_notice")))
        json_object_set_new(e, "late_notice", json_true());
    json_decref(f);
}

/* ---- to answer, to rule, disputed ----------------------------------------- */

static int pending_row(void *ctx, const struct store_version *r)
{
    struct inbox *b = ctx;
    enum data_coll c;
    if (r->owner_only || !item_status_live(r->status) || !strcmp(r->party, b->v->party) ||
        data_coll_parse(r->collection, &c) != FM_OK || !ack_next_status(c, r->status))
        return 0;
    json_t *e = item_entry(r->collection, r->item, r->version, r->party, r->status, r->title);
    entry_marks(e, r->feature);
    json_array_append_new(b->to_answer, e);
    return 0;
}

static int ruled_row(void *ctx, const struct store_ruling *g)
{
    struct inbox *b = ctx;
    char key[48];
    snprintf(key, sizeof key, "%" PRId64 "/%" PRId64, g->item, g->version);
    json_object_set_new(b->ruled, key, json_true());
    return 0;
}

/* The latest dispute's reason of a version. */
struct reason {
    int64_t version;
    char party[16], by[64], at[FM_TIME_STAMP_LEN];
    char *text;
};

static int reason_row(void *ctx, const struct store_ack *a)
{
    struct reason *r = ctx;
    if (a->version != r->version || strcmp(a->decision, "dispute") != 0) return 0;
    free(r->text);
    r->text = fm_xstrdup(a->comment ? a->comment : "");
    snprintf(r->party, sizeof r->party, "%s", a->party);
    snprintf(r->by, sizeof r->by, "%s", a->user);
    fm_time_format(a->at, r->at);
    return 0;
}

static int disputed_row(void *ctx, const struct store_version *r)
{
    struct inbox *b = ctx;
    if (r->owner_only || !vis_may_see(b->v, r->party, r->owner_only)) return 0;
    char key[48];
    snprintf(key, sizeof key, "%" PRId64 "/%" PRId64, r->item, r->version);
    json_t *list;
    if (b->sup)
        list = json_object_get(b->ruled, key) ? NULL : b->to_rule;
    else
        list = strcmp(r->party, b->v->party) == 0 ? b->disputed : NULL;
    if (!list) return 0;
    json_t *e = item_entry(r->collection, r->item, r->version, r->party, r->status, r->title);
    /* the dispute is of the version before (the answer made this one) */
    struct reason why = {r->version - 1, "", "", "", NULL};
    if (b->rc == FM_OK) b->rc = store_of(b->db)->acks_each(b->db, r->item, reason_row, &why, b->err);
    if (why.text)
        json_object_set_new(e, "dispute", json_pack("{s:s,s:s,s:s,s:s}", "party", why.party, "by",
                                                     why.by, "at", why.at, "reason", why.text));
    free(why.text);
    json_array_append_new(list, e);
    return 0;
}

/* ---- rulings on my items that nothing has followed yet -------------------- */

struct title_peek {
    char title[200], status[24], party[16];
    int owner_only, found;
};

static int title_row(void *ctx, const struct store_version *r)
{
    struct title_peek *t = ctx;
    t->found = 1;
    snprintf(t->title, sizeof t->title, "%s", r->title ? r->title : "");
    snprintf(t->status, sizeof t->status, "%s", r->status);
    snprintf(t->party, sizeof t->party, "%s", r->party);
    t->owner_only = r->owner_only;
    return 1;
}

static int ruling_row(void *ctx, const struct store_ruling *g)
{
    struct inbox *b = ctx;
    if (b->rc) return 1;
    struct store_item_head h;
    struct fm_err e2;
    if (store_of(b->db)->item_head(b->db, g->item, 0, &h, &e2) != FM_OK) return 0;
    if (strcmp(h.party, b->v->party) != 0 || !item_status_live(h.status) ||
        !vis_may_see(b->v, h.party, h.owner_only))
        return 0;
    int uphold = !strcmp(g->decision, "uphold");
    if (!(uphold ? h.version == g->version : h.version == g->version + 1)) return 0;
    struct title_peek t = {0};
    if ((b->rc = store_of(b->db)->version_get(b->db, g->item, h.version, title_row, &t, b->err)))
        return 1;
    json_t *e = item_entry(h.coll, g->item, h.version, h.party, h.status, t.title);
    char at[FM_TIME_STAMP_LEN];
    fm_time_format(g->at, at);
    json_object_set_new(e, "ruling", json_pack("{s:s,s:s,s:s,s:s,s:I}", "decision", g->decision,
                                               "reason", g->reason, "by", g->user, "at", at,
                                               "version", (json_int_t)g->version));
    json_array_append_new(b->rulings, e);
    return 0;
}

/* ---- open conflicts with my items ------------------------------------------ */

static int conflict_row(void *ctx, int64_t id, const char *feature)
{
    struct inbox *b = ctx;
    json_t *f = json_loads(feature, 0, NULL);
    json_t *items = json_object_get(json_object_get(f, "properties"), "items");
    int mine = b->sup;
    json_t *names = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        int64_t item = json_integer_value(json_object_get(it, "id"));
        struct title_peek t = {0};
        struct store_item_head h;
        struct fm_err e2;
        if (store_of(b->db)->item_head(b->db, item, 0, &h, &e2) != FM_OK) continue;
        if (store_of(b->db)->version_get(b->db, item, h.version, title_row, &t, &e2) != FM_OK)
            continue;
        if (!strcmp(h.party, b->v->party)) mine = 1;
        json_array_append_new(
            names, json_pack("{s:s,s:I,s:s,s:s}", "collection",
                             json_string_value(json_object_get(it, "collection")), "id",
                             (json_int_t)item, "party", h.party, "title",
                             t.title[0] ? t.title : "(untitled)"));
    }
    if (mine) {
        json_t *p = json_object_get(f, "properties");
        json_array_append_new(
            b->conflicts,
            json_pack("{s:I,s:s,s:O,s:O,s:o}", "id", (json_int_t)id, "kind",
                      json_string_value(json_object_get(p, "kind")), "severity",
                      json_object_get(p, "severity") ? json_object_get(p, "severity") : json_null(),
                      "opened_at",
                      json_object_get(p, "opened_at") ? json_object_get(p, "opened_at") : json_null(),
                      "items", names));
    } else {
        json_decref(names);
    }
    json_decref(f);
    return 0;
}

/* ---- messages not seen ------------------------------------------------------- */

struct seen_ctx {
    const char *party;
    json_t *upto; /* thread -> the party's latest upto */
};

static int receipt_row(void *ctx, const struct store_message *m)
{
    struct seen_ctx *s = ctx;
    if (strcmp(m->party, s->party) != 0) return 0;
    json_int_t cur = json_integer_value(json_object_get(s->upto, m->thread));
    if (m->upto > cur) json_object_set_new(s->upto, m->thread, json_integer(m->upto));
    return 0;
}

struct unseen_ctx {
    struct inbox *b;
    json_t *upto;
    json_t *threads; /* thread -> entry */
    json_t *readable; /* thread -> true/false (an item thread's head) */
};

/* May b's viewer read thread (an item's: its newest version is visible)? */
static int thread_readable(struct unseen_ctx *u, const char *thread, json_t **entry_base)
{
    *entry_base = NULL;
    json_t *known = json_object_get(u->readable, thread);
    if (known) return json_is_true(known);
    int ok = 0;
    json_t *base = NULL;
    if (!strncmp(thread, "channel/", 8)) {
        ok = 1;
        const char *ch = thread + 8;
        char title[96];
        if (!strcmp(ch, "all"))
            snprintf(title, sizeof title, "All parties");
        else
            snprintf(title, sizeof title, "%.20s and the supervisor",
                     strncmp(ch, "sup-", 4) ? ch : ch + 4);
        base = json_pack("{s:s,s:s,s:s}", "thread", thread, "channel", ch, "title", title);
    } else {
        const char *slash = strchr(thread, '/');
        enum data_coll c;
        char coll[16];
        snprintf(coll, sizeof coll, "%.*s", slash ? (int)(slash - thread) : 0, thread);
        int64_t id = slash ? strtoll(slash + 1, NULL, 10) : 0;
        struct store_item_head h;
        struct fm_err e2;
        if (id > 0 && data_coll_parse(coll, &c) == FM_OK &&
            store_of(u->b->db)->item_head(u->b->db, id, 0, &h, &e2) == FM_OK &&
            vis_may_see(u->b->v, h.party, h.owner_only)) {
            struct title_peek t = {0};
            store_of(u->b->db)->version_get(u->b->db, id, h.version, title_row, &t, &e2);
            ok = 1;
            base = json_pack("{s:s,s:s,s:I,s:s,s:s}", "thread", thread, "collection", coll, "id",
                             (json_int_t)id, "party", h.party, "title",
                             t.title[0] ? t.title : "(untitled)");
        }
    }
    json_object_set_new(u->readable, thread, json_boolean(ok));
    if (base) json_object_set_new(u->threads, thread, base);
    *entry_base = base;
    return ok;
}

static int message_row(void *ctx, const struct store_message *m)
{
    struct unseen_ctx *u = ctx;
    if (!strcmp(m->party, u->b->v->party) || !vis_may_read(u->b->v, m->readers)) return 0;
    if (m->id <= json_integer_value(json_object_get(u->upto, m->thread))) return 0;
    json_t *base;
    if (!thread_readable(u, m->thread, &base)) return 0;
    json_t *e = json_object_get(u->threads, m->thread);
    json_object_set_new(e, "unseen",
                        json_integer(json_integer_value(json_object_get(e, "unseen")) + 1));
    char at[FM_TIME_STAMP_LEN];
    fm_time_format(m->at, at);
    json_object_set_new(e, "last", json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)m->id,
                                             "by", m->user, "party", m->party, "at", at, "text",
                                             m->text ? m->text : ""));
    u->b->unseen++;
    return 0;
}

/* ---- overdue ------------------------------------------------------------------ */

static int overdue_row(void *ctx, const struct store_deadline *d)
{
    struct inbox *b = ctx;
    struct title_peek t = {0};
    struct fm_err e2;
    if (store_of(b->db)->version_get(b->db, d->item, d->version, title_row, &t, &e2) != FM_OK ||
        !t.found || t.owner_only || !vis_may_see(b->v, d->party, t.owner_only))
        return 0;
    enum data_coll c;
    if (data_coll_parse(d->collection, &c) != FM_OK || !ack_next_status(c, t.status)) return 0;
    /* how late the answer is, on the clock that made it overdue */
    int64_t by = b->now > d->due_at ? b->now - d->due_at : 0;
    if (b->f && ((b->f->has_min && by < b->f->min_s) || (b->f->has_max && by > b->f->max_s))) {
        b->hidden++;
        return 0;
    }
    json_t *e = item_entry(d->collection, d->item, d->version, d->party, t.status, t.title);
    char due[FM_TIME_STAMP_LEN], at[FM_TIME_STAMP_LEN];
    fm_time_format(d->due_at, due);
    fm_time_format(d->overdue_at, at);
    json_object_set_new(e, "answer_due", json_string(due));
    json_object_set_new(e, "overdue_at", json_string(at));
    json_object_set_new(e, "overdue_by_s", json_integer(by));
    /* whose move it is: the owner waits, the other side owes the answer */
    json_object_set_new(e, "waiting_for",
                        json_string(!strcmp(d->party, b->v->party) ? "the other side"
                                    : b->sup                       ? "the other side"
                                                                   : "you"));
    json_array_append_new(b->overdue, e);
    return 0;
}

fm_rc data_inbox(struct data_db *db, const struct data_viewer *v,
                 const struct data_inbox_filter *f, json_t **out, struct fm_err *err)
{
    *out = NULL;
    if (v->role != DATA_ROLE_LIAISON && v->role != DATA_ROLE_SUPERVISOR)
        return fm_fail(err, FM_EFORBID, NULL,
                       "the inbox is a liaison's or the supervisor's: a %s answers nothing",
                       data_role_name(v->role));
    const struct store_ops *ops = store_of(db);
    struct inbox b = {
        .db = db, .v = v, .sup = v->role == DATA_ROLE_SUPERVISOR, .err = err,
        .to_answer = json_array(), .to_rule = json_array(), .disputed = json_array(),
        .rulings = json_array(), .conflicts = json_array(), .messages = json_array(),
        .overdue = json_array(), .ruled = json_object(), .f = f, .now = data_clock_now(),
    };
    fm_rc rc = FM_OK;
    if (!b.sup) rc = ops->current_each(db, NULL, v->party, pending_row, &b, err);
    if (!rc) rc = ops->rulings_each(db, 0, ruled_row, &b, err);
    if (!rc) rc = ops->current_each(db, "disputed", NULL, disputed_row, &b, err);
    if (!rc) rc = b.rc;
    if (!rc && !b.sup) rc = ops->rulings_each(db, 0, ruling_row, &b, err);
    if (!rc) rc = b.rc;
    if (!rc) {
        struct data_conflict_query q = {.state = "open", .limit = 10000};
        long matched;
        rc = data_conflicts_query(db, v, &q, conflict_row, &b, &matched, err);
    }
    if (!rc) {
        struct seen_ctx s = {v->party, json_object()};
        struct unseen_ctx u = {&b, s.upto, json_object(), json_object()};
        rc = ops->receipts_each(db, NULL, receipt_row, &s, err);
        if (!rc) rc = ops->messages_each(db, NULL, 0, message_row, &u, err);
        const char *key;
        json_t *e;
        json_object_foreach(u.threads, key, e)
        {
            if (json_integer_value(json_object_get(e, "unseen")) > 0)
                json_array_append(b.messages, e);
        }
        json_decref(s.upto);
        json_decref(u.threads);
        json_decref(u.readable);
    }
    if (!rc) rc = ops->deadlines_each(db, 1, 0, overdue_row, &b, err);
    json_decref(b.ruled);
    json_t *counts = json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "to_answer", (json_int_t)json_array_size(b.to_answer),
        "to_rule", (json_int_t)json_array_size(b.to_rule), "disputed",
        (json_int_t)json_array_size(b.disputed), "rulings", (json_int_t)json_array_size(b.rulings),
        "conflicts", (json_int_t)json_array_size(b.conflicts), "messages", (json_int_t)b.unseen,
        "overdue", (json_int_t)json_array_size(b.overdue));
    json_int_t total = 0;
    const char *key;
    json_t *n;
    json_object_foreach(counts, key, n) total += json_integer_value(n);
    json_object_set_new(counts, "total", json_integer(total));
    json_t *res = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "user", v->user,
                            "party", v->party, "role", data_role_name(v->role), "counts", counts,
                            "to_answer", b.to_answer, "to_rule", b.to_rule, "disputed", b.disputed,
                            "rulings", b.rulings, "conflicts", b.conflicts, "messages", b.messages,
                            "overdue", b.overdue);
    char now[FM_TIME_STAMP_LEN];
    fm_time_format(b.now, now);
    json_object_set_new(res, "now", json_string(now));
    if (f) {
        json_t *of = json_pack("{s:n,s:n,s:I}", "min_s", "max_s", "hidden", (json_int_t)b.hidden);
        if (f->has_min) json_object_set_new(of, "min_s", json_integer(f->min_s));
        if (f->has_max) json_object_set_new(of, "max_s", json_integer(f->max_s));
        json_object_set_new(res, "overdue_filter", of);
    }
    if (rc) {
        json_decref(res);
        return rc;
    }
    *out = res;
    return FM_OK;
}
