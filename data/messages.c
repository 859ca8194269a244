/* messages.c - the cell's conversation (data.h, "messages"): item threads
 * and channels, their messages and "seen" receipts, each a record in the
 * log. The rules only, above the store (store.h): who reads a thread, what
 * a message may say and quote. */
#include "internal.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHANNEL_ALL "all"
#define CHANNEL_SUP "sup-" /* + a side party's code */

/* A thread as v may read it. */
struct thread_st {
    char key[64];        /* "zones/12", "channel/all" */
    char readers[160];   /* "" : everyone who reads the thread; else the parties */
    const char *coll;    /* the records' collection: an item's, or "channels" */
    int64_t item, version;
    char owner[160];     /* the records' owner: the item's party, or the readers */
    int owner_only;      /* the records' visibility flag */
    char channel[32];
};

static const char *readers_of(const struct thread_st *t)
{
    return t->readers[0] ? t->readers : NULL;
}

struct sup_ctx {
    const char *side;  /* the side party named by the channel */
    int side_found;
    char readers[160]; /* the side, then the supervisor parties */
    json_t *list;      /* data_channels: side channels, by party */
    const struct data_viewer *v;
    char sups[128];
};

/* Collects the supervisor parties (first pass). */
static int sup_collect(void *ctx, const struct store_party *p)
{
    struct sup_ctx *s = ctx;
    if (strcmp(p->kind, "supervisor") != 0 || strchr(p->code, ',')) return 0;
    size_t n = strlen(s->sups);
    if (n + strlen(p->code) + 2 < sizeof s->sups)
        snprintf(s->sups + n, sizeof s->sups - n, "%s%s", n ? "," : "", p->code);
    return 0;
}

/* A side party's channel with the supervisor (second pass). */
static int side_find(void *ctx, const struct store_party *p)
{
    struct sup_ctx *s = ctx;
    if (strcmp(p->kind, "side") != 0 || strchr(p->code, ',')) return 0;
    char readers[160];
    snprintf(readers, sizeof readers, "%s%s%s", p->code, s->sups[0] ? "," : "", s->sups);
    if (s->side && !strcmp(p->code, s->side)) {
        s->side_found = 1;
        snprintf(s->readers, sizeof s->readers, "%s", readers);
        return 1;
    }
    if (s->list && vis_may_read(s->v, readers)) {
        char name[32], title[96];
        snprintf(name, sizeof name, CHANNEL_SUP "%s", p->code);
        snprintf(title, sizeof title, "%s and the supervisor", p->name);
        json_t *parties = json_array();
        for (char *q = readers, *end; q; q = end ? end + 1 : NULL) {
            end = strchr(q, ',');
            json_array_append_new(parties, json_stringn(q, end ? (size_t)(end - q) : strlen(q)));
        }
        json_array_append_new(s->list, json_pack("{s:s,s:s,s:o}", "name", name, "title", title,
                                                 "parties", parties));
    }
    return 0;
}

static fm_rc not_found(const struct data_thread *t, struct fm_err *err)
{
    if (t->channel) return fm_fail(err, FM_ENOTFOUND, NULL, "no channel %.40s", t->channel);
    /* the same words as for an item that does not exist (items.c) */
    return fm_fail(err, FM_ENOTFOUND, NULL, "no %s item %" PRId64, data_coll_name(t->coll),
                   t->item);
}

/* Finds thread t as v may read it; FM_ENOTFOUND when there is none or v
 * may not read it (the same answer). */
static fm_rc thread_resolve(struct data_db *db, const struct data_viewer *v,
                            const struct data_thread *t, struct thread_st *out, struct fm_err *err)
{
    memset(out, 0, sizeof *out);
    const struct store_ops *ops = store_of(db);
    if (v->role == DATA_ROLE_NONE) return not_found(t, err);
    if (t->channel) {
        snprintf(out->channel, sizeof out->channel, "%s", t->channel);
        out->coll = "channels";
        if (strlen(t->channel) >= sizeof out->channel) return not_found(t, err);
        snprintf(out->key, sizeof out->key, "channel/%s", t->channel);
        if (!strcmp(t->channel, CHANNEL_ALL)) return FM_OK;
        if (strncmp(t->channel, CHANNEL_SUP, strlen(CHANNEL_SUP)) != 0) return not_found(t, err);
        struct sup_ctx s = {.side = t->channel + strlen(CHANNEL_SUP), .v = v};
        fm_rc rc = ops->parties_each(db, sup_collect, &s, err);
        if (!rc) rc = ops->parties_each(db, side_find, &s, err);
        if (rc) return rc;
        if (!s.side_found || !vis_may_read(v, s.readers)) return not_found(t, err);
        snprintf(out->readers, sizeof out->readers, "%s", s.readers);
        snprintf(out->owner, sizeof out->owner, "%s", s.readers);
        out->owner_only = 1;
        return FM_OK;
    }
    struct store_item_head h;
    fm_rc rc = ops->item_head(db, t->item, 0, &h, err);
    if (rc == FM_ENOTFOUND || (!rc && (strcmp(h.coll, data_coll_name(t->coll)) != 0 ||
                                       !vis_may_see(v, h.party, h.owner_only))))
        return not_found(t, err);
    if (rc) return rc;
    snprintf(out->key, sizeof out->key, "%s/%" PRId64, data_coll_name(t->coll), t->item);
    out->coll = data_coll_name(t->coll);
    out->item = t->item;
    out->version = h.version;
    snprintf(out->owner, sizeof out->owner, "%s", h.party);
    out->owner_only = h.owner_only;
    /* while the item is its party's alone, so is what is said of it */
    if (h.owner_only) snprintf(out->readers, sizeof out->readers, "%s", h.party);
    return FM_OK;
}

fm_rc data_channels(struct data_db *db, const struct data_viewer *v, json_t **out,
                    struct fm_err *err)
{
    *out = NULL;
    if (v->role == DATA_ROLE_NONE) return fm_fail(err, FM_EFORBID, NULL, "log in");
    const struct store_ops *ops = store_of(db);
    struct sup_ctx s = {.v = v, .list = json_array()};
    json_array_append_new(s.list, json_pack("{s:s,s:s,s:n}", "name", CHANNEL_ALL, "title",
                                            "All parties", "parties"));
    fm_rc rc = ops->parties_each(db, sup_collect, &s, err);
    if (!rc) rc = ops->parties_each(db, side_find, &s, err);
    if (rc) {
        json_decref(s.list);
        return rc;
    }
    *out = s.list;
    return FM_OK;
}

/* ---- what a message may say ------------------------------------------------ */

/* The code point of the UTF-8 sequence at s and its length in *n, or -1
 * when it is not one (overlong, surrogate, past U+10FFFF, cut short). */
static long utf8_next(const unsigned char *s, size_t *n)
{
    unsigned u = s[0];
    if (u < 0x80) {
        *n = 1;
        return u;
    }
    size_t k = u >= 0xC2 && u <= 0xDF ? 2 : u >= 0xE0 && u <= 0xEF ? 3 : u >= 0xF0 && u <= 0xF4 ? 4 : 0;
    if (!k) return -1;
    long cp = u & (k == 2 ? 0x1F : k == 3 ? 0x0F : 0x07);
    for (size_t i = 1; i < k; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) return -1;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000)) return -1;
    *n = k;
    return cp;
}

fm_rc message_text_check(const char *text, const char *pointer, struct fm_err *err)
{
    if (!text) return fm_fail(err, FM_EINVAL, pointer, "send the text (%s)", pointer + 1);
    long chars = 0;
    int visible = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        size_t n;
        long cp = utf8_next(p, &n);
        if (cp < 0) return fm_fail(err, FM_EINVAL, pointer, "the text is UTF-8");
        if ((cp < 0x20 && cp != '\n') || (cp >= 0x7F && cp <= 0x9F))
            return fm_fail(err, FM_EINVAL, pointer,
                           "the text holds no control character but newline (found U+%04lX)",
                           cp);
        if (cp != ' ' && cp != '\n') visible = 1;
        if (++chars > DATA_MESSAGE_MAX_CHARS)
            return fm_fail(err, FM_ETOOBIG, pointer, "the text holds at most %d characters",
                           DATA_MESSAGE_MAX_CHARS);
        p += n;
    }
    if (!visible) return fm_fail(err, FM_EINVAL, pointer, "the text says something (not only blanks)");
    return FM_OK;
}

/* A quote {collection, id, version}: of a version v may see, and that
 * every reader of the thread may see (a draft is quoted only in its own
 * party's thread). */
static fm_rc quote_check(struct data_db *db, const struct data_viewer *v,
                         const struct thread_st *t, const json_t *q, struct store_message *m,
                         struct fm_err *err)
{
    if (!q || json_is_null(q)) return FM_OK;
    const json_t *c = json_object_get(q, "collection"), *id = json_object_get(q, "id"),
                 *ver = json_object_get(q, "version");
    enum data_coll coll;
    if (!json_is_object(q) || json_object_size(q) != 3 || !json_is_string(c) ||
        data_coll_parse(json_string_value(c), &coll) != FM_OK || !json_is_integer(id) ||
        json_integer_value(id) <= 0 || !json_is_integer(ver) || json_integer_value(ver) <= 0)
        return fm_fail(err, FM_EINVAL, "/quote",
                       "a quote is {\"collection\": \"zones\"|\"incidents\"|\"movements\","
                       " \"id\": N, \"version\": N}");
    struct store_item_head h;
    fm_rc rc = store_of(db)->item_head(db, json_integer_value(id), json_integer_value(ver), &h,
                                       err);
    if (rc == FM_ENOTFOUND ||
        (!rc && (strcmp(h.coll, data_coll_name(coll)) != 0 || !vis_may_see(v, h.party, h.owner_only))))
        return fm_fail(err, FM_ENOTFOUND, "/quote", "no %s item %" JSON_INTEGER_FORMAT
                       " version %" JSON_INTEGER_FORMAT " to quote",
                       data_coll_name(coll), json_integer_value(id), json_integer_value(ver));
    if (rc) return rc;
    if (h.owner_only && strcmp(t->readers, h.party) != 0)
        return fm_fail(err, FM_EINVAL, "/quote",
                       "that version is your party's alone: it is quoted only in a thread no"
                       " other party reads");
    m->quote_coll = data_coll_name(coll);
    m->quote_id = json_integer_value(id);
    m->quote_version = json_integer_value(ver);
    return FM_OK;
}

json_t *message_json(const struct store_message *m)
{
    char at[FM_TIME_STAMP_LEN];
    fm_time_format(m->at, at);
    json_t *readers = json_null();
    if (m->readers) {
        readers = json_array();
        for (const char *q = m->readers, *end; q; q = end ? end + 1 : NULL) {
            end = strchr(q, ',');
            json_array_append_new(readers, json_stringn(q, end ? (size_t)(end - q) : strlen(q)));
        }
    }
    json_t *j = json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:o}", "type", m->text ? "Message" : "Seen",
                          "id", (json_int_t)m->id, "thread", m->thread, "at", at, "by", m->user,
                          "party", m->party, "readers", readers);
    if (m->text) {
        json_object_set_new(j, "text", json_string(m->text));
        json_object_set_new(j, "quote",
                            m->quote_coll
                                ? json_pack("{s:s,s:I,s:I}", "collection", m->quote_coll, "id",
                                            (json_int_t)m->quote_id, "version",
                                            (json_int_t)m->quote_version)
                                : json_null());
    } else {
        json_object_set_new(j, "upto", json_integer(m->upto));
    }
    return j;
}

/* Appends the record of m (a message or a receipt) to the log. */
static fm_rc record(struct data_db *db, const struct data_viewer *v, const struct thread_st *t,
                    const struct store_message *m, struct fm_err *err)
{
    json_t *j = message_json(m);
    char *after = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    fm_rc rc = events_append_ex(db, v, m->text ? "message" : "seen", t->coll, t->item, t->version,
                                NULL, after, t->owner[0] ? t->owner : NULL, 0, t->owner_only,
                                m->at, err);
    free(after);
    return rc;
}

static int may_speak(const struct data_viewer *v)
{
    return v->role == DATA_ROLE_LIAISON || v->role == DATA_ROLE_SUPERVISOR;
}

fm_rc data_message_post(struct data_db *db, const struct data_viewer *v,
                        const struct data_thread *t, const char *text, const json_t *quote,
                        json_t **out, struct fm_err *err)
{
    *out = NULL;
    if (!may_speak(v))
        return fm_fail(err, FM_EFORBID, NULL, "a %s does not post messages",
                       data_role_name(v->role));
    fm_rc rc = message_text_check(text, "/text", err);
    if (rc) return rc;
    const struct store_ops *ops = store_of(db);
    if ((rc = ops->begin(db, err))) return rc;
    struct thread_st ts;
    struct store_message m = {.party = v->party, .user = v->user, .at = fm_time_now(), .text = text};
    if ((rc = thread_resolve(db, v, t, &ts, err))) goto fail;
    m.thread = ts.key;
    m.readers = readers_of(&ts);
    if ((rc = quote_check(db, v, &ts, quote, &m, err))) goto fail;
    if ((rc = ops->message_insert(db, &m, &m.id, err))) goto fail;
    if ((rc = record(db, v, &ts, &m, err))) goto fail;
    if ((rc = ops->commit(db, err))) goto fail;
    *out = message_json(&m);
    return FM_OK;
fail:
    ops->rollback(db);
    return rc;
}

/* ---- reading a thread, and the receipts ------------------------------------- */

struct read_ctx {
    const struct data_viewer *v;
    json_t *messages; /* may be NULL: only the newest id */
    int64_t newest;
    json_t *seen;     /* party -> its latest receipt */
};

static int read_message(void *ctx, const struct store_message *m)
{
    struct read_ctx *c = ctx;
    if (!vis_may_read(c->v, m->readers)) return 0;
    c->newest = m->id;
    if (c->messages) {
        json_t *j = message_json(m);
        json_object_del(j, "thread");
        json_object_del(j, "type");
        json_array_append_new(c->messages, j);
    }
    return 0;
}

static int read_receipt(void *ctx, const struct store_message *m)
{
    struct read_ctx *c = ctx;
    if (!vis_may_read(c->v, m->readers)) return 0;
    char at[FM_TIME_STAMP_LEN];
    fm_time_format(m->at, at);
    json_object_set_new(c->seen, m->party,
                        json_pack("{s:s,s:s,s:s,s:I}", "party", m->party, "by", m->user, "at",
                                  at, "upto", (json_int_t)m->upto));
    return 0;
}

fm_rc data_messages(struct data_db *db, const struct data_viewer *v, const struct data_thread *t,
                    int64_t since, json_t **out, struct fm_err *err)
{
    *out = NULL;
    const struct store_ops *ops = store_of(db);
    struct thread_st ts;
    fm_rc rc = thread_resolve(db, v, t, &ts, err);
    if (rc) return rc;
    struct read_ctx c = {.v = v, .messages = json_array(), .seen = json_object()};
    if (!(rc = ops->messages_each(db, ts.key, since > 0 ? since : 0, read_message, &c, err)))
        rc = ops->receipts_each(db, ts.key, read_receipt, &c, err);
    if (rc) {
        json_decref(c.messages);
        json_decref(c.seen);
        return rc;
    }
    json_t *seen = json_array();
    const char *k;
    json_t *r;
    json_object_foreach(c.seen, k, r) json_array_append(seen, r);
    json_decref(c.seen);
    *out = json_pack("{s:s,s:o,s:o}", "thread", ts.key, "messages", c.messages, "seen", seen);
    if (t->channel) json_object_set_new(*out, "channel", json_string(t->channel));
    return FM_OK;
}

fm_rc data_messages_seen(struct data_db *db, const struct data_viewer *v,
                         const struct data_thread *t, int64_t upto, json_t **out,
                         struct fm_err *err)
{
    *out = NULL;
    if (upto < 0) return fm_fail(err, FM_EINVAL, "/upto", "upto is a message id");
    const struct store_ops *ops = store_of(db);
    fm_rc rc = ops->begin(db, err);
    if (rc) return rc;
    struct thread_st ts;
    struct read_ctx c = {.v = v, .seen = json_object()};
    if ((rc = thread_resolve(db, v, t, &ts, err))) goto fail;
    if (!may_speak(v)) {
        /* after the thread: a thread v may not read stays unknown */
        rc = fm_fail(err, FM_EFORBID, NULL, "a %s keeps no receipts", data_role_name(v->role));
        goto fail;
    }
    if ((rc = ops->messages_each(db, ts.key, 0, read_message, &c, err)) ||
        (rc = ops->receipts_each(db, ts.key, read_receipt, &c, err)))
        goto fail;
    if (!c.newest) {
        rc = fm_fail(err, FM_ECONFLICT, NULL, "the thread has no message to have seen");
        goto fail;
    }
    if (upto > c.newest) {
        rc = fm_fail(err, FM_EINVAL, "/upto", "upto is past the newest message of the thread");
        goto fail;
    }
    if (!upto) upto = c.newest;
    json_t *mine = json_object_get(c.seen, v->party);
    if (mine && json_integer_value(json_object_get(mine, "upto")) >= upto) {
        /* seen already: nothing new to record */
        *out = json_incref(mine);
        json_decref(c.seen);
        ops->rollback(db);
        return FM_OK;
    }
    struct store_message m = {.thread = ts.key, .readers = readers_of(&ts), .party = v->party,
                              .user = v->user, .at = fm_time_now(), .upto = upto};
    if ((rc = ops->receipt_insert(db, &m, &m.id, err))) goto fail;
    if ((rc = record(db, v, &ts, &m, err))) goto fail;
    if ((rc = ops->commit(db, err))) goto fail;
    char at[FM_TIME_STAMP_LEN];
    fm_time_format(m.at, at);
    *out = json_pack("{s:s,s:s,s:s,s:I}", "party", m.party, "by", m.user, "at", at, "upto",
                     (json_int_t)upto);
    json_decref(c.seen);
    return FM_OK;
fail:
    json_decref(c.seen);
    ops->rollback(db);
    return rc;
}
