/* events.c - the append-only event log and its hash chain, above the
 * store (store.h: the rows are the backend's, the text and chain here).
 *
 * Chain v1 (every record a server before issue 20's witness work wrote):
 * a record's hash is SHA-256(previous hash in hex || canonical record),
 * where the canonical record is the compact JSON object of its fields with
 * keys sorted. Chain v2 (every record written since): SHA-256(previous
 * hash in hex || digest in hex), the digest being SHA-256(canonical
 * record): so a record a party may not read can be handed to it as its
 * digest alone and the chain still checked through it (evidence bundles,
 * a party's own witness pass). The first record's previous hash is 64
 * zeros. A log is v1 up to some record and v2 from there on, never back:
 * verify takes a record's hash by either rule until the first v2 record,
 * by v2 alone after it (a database made before keeps its v1 records and
 * goes on in v2, with no marker: the first v2 record is its own). The
 * stores refuse to change a record; the chain makes any edit of the file
 * itself detectable. */
#include "internal.h"
#include "store.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char zero_hash[65] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* A record's hashed fields are those of store_event. */
#define record store_event

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* ---- the canonical text ----------------------------------------------- */

/* The canonical record is what jansson's json_dumps(JSON_COMPACT |
 * JSON_SORT_KEYS) writes for the object of its fields; the chain of every
 * existing log was hashed over exactly those bytes. It is written here
 * directly instead of packing an object and dumping it: jansson decodes
 * every character of the record's two Feature texts one by one, a tenth
 * of the time of creating a movement that opens 30 conflicts.
 * tests/unit/test_events.c compares the two on texts of every kind. */

/* The length of the UTF-8 sequence at s by jansson's rules (utf.c: no
 * overlong form, no surrogate, nothing past U+10FFFF), or 0 if it is not
 * one. s[0] >= 0x80; the terminating NUL, not being a continuation byte,
 * ends a short sequence. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned u = s[0];
    size_t n = u >= 0xC2 && u <= 0xDF   ? 2
               : u >= 0xE0 && u <= 0xEF ? 3
               : u >= 0xF0 && u <= 0xF4 ? 4
                                        : 0;
    if (!n) return 0;
    uint32_t cp = u & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (size_t i = 1; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) return 0;
    return n;
}

/* s as a JSON string, escaped as jansson's dump_string does without
 * JSON_ENSURE_ASCII or JSON_ESCAPE_SLASH: only '"', '\\' and the control
 * characters; -1 if s is NULL or not UTF-8 (json_string refuses it).
 * Escaped into a scratch buffer and appended once: an event's after text
 * is JSON, a quote every few bytes, and one append per escape was a
 * third of the cost of hashing a conflict's event (callgrind). */
static int canon_string(struct fm_buf *b, const char *s)
{
    if (!s) return -1;
    size_t n = strlen(s);
    char stack[4096], *heap = NULL;
    /* at most 6 bytes out per byte in (\u001F), and the two quotes */
    size_t need = n * 6 + 2;
    char *out = need <= sizeof stack ? stack : (heap = fm_xmalloc(need));
    char *o = out;
    const unsigned char *p = (const unsigned char *)s;
    int rc = 0;
    *o++ = '"';
    for (;;) {
        unsigned c = *p;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *o++ = (char)c;
            p++;
            continue;
        }
        if (c == 0) break;
        if (c >= 0x80) {
            size_t k = utf8_seq(p);
            if (!k) {
                rc = -1;
                break;
            }
            memcpy(o, p, k);
            o += k;
            p += k;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = "0123456789ABCDEF"[c >> 4];
            *o++ = "0123456789ABCDEF"[c & 15];
        }
        p++;
    }
    *o++ = '"';
    if (!rc) fm_buf_put(b, out, (size_t)(o - out));
    free(heap);
    return rc;
}

static int canon_text_or_null(struct fm_buf *b, const char *s)
{
    if (s) return canon_string(b, s);
    FM_BUF_LIT(b, "null");
    return 0;
}

/* Appends the canonical text of r to b; -1 if a text is not UTF-8. */
static int canon_record(struct fm_buf *b, const struct record *r)
{
    /* the keys in byte order */
    int bad = 0;
    FM_BUF_LIT(b, "{\"action\":");
    bad |= canon_string(b, r->action);
    FM_BUF_LIT(b, ",\"after\":");
    bad |= canon_text_or_null(b, r->after);
    FM_BUF_LIT(b, ",\"at\":");
    fm_buf_int(b, r->at);
    FM_BUF_LIT(b, ",\"before\":");
    bad |= canon_text_or_null(b, r->before);
    FM_BUF_LIT(b, ",\"collection\":");
    bad |= canon_text_or_null(b, r->collection);
    FM_BUF_LIT(b, ",\"item\":");
    fm_buf_int(b, r->item);
    FM_BUF_LIT(b, ",\"owner\":");
    bad |= canon_text_or_null(b, r->owner);
    FM_BUF_LIT(b, ",\"party\":");
    bad |= canon_string(b, r->party);
    FM_BUF_LIT(b, ",\"seq\":");
    fm_buf_int(b, r->seq);
    FM_BUF_LIT(b, ",\"user\":");
    bad |= canon_string(b, r->user);
    FM_BUF_LIT(b, ",\"version\":");
    fm_buf_int(b, r->version);
    FM_BUF_LIT(b, "}");
    return bad ? -1 : 0;
}

/* hex(SHA-256(prefix || canonical(r))), prefix (64 hex digits) or none:
 * 0, or -1 when the record has no canonical JSON (a text that is not
 * UTF-8, which only an edit of the database file can put there). */
static int hash_canon(const char *prefix, const struct record *r, char out[65])
{
    struct fm_buf b;
    fm_buf_init(&b, FM_BUF_UNCAPPED);
    if (prefix) fm_buf_put(&b, prefix, 64);
    int rc = canon_record(&b, r);
    if (rc) {
        memset(out, 0, 65);
    } else {
        unsigned char d[32];
        sha256(b.data, b.len, d);
        fm_hex(d, 32, out);
    }
    fm_buf_cleanup(&b);
    return rc;
}

/* v1: hash = hex(SHA-256(prev || canonical(r))) */
static int record_hash(const char *prev, const struct record *r, char out[65])
{
    return hash_canon(prev, r, out);
}

/* The record's digest: hex(SHA-256(canonical(r))); -1 as record_hash. */
static int record_digest(const struct record *r, char out[65])
{
    return hash_canon(NULL, r, out);
}

/* v2: hash = hex(SHA-256(prev || digest)) */
static void link_hash(const char *prev, const char *digest, char out[65])
{
    char msg[128];
    memcpy(msg, prev, 64);
    memcpy(msg + 64, digest, 64);
    unsigned char d[32];
    sha256(msg, sizeof msg, d);
    fm_hex(d, 32, out);
}

static int record_hash_v2(const char *prev, const struct record *r, char out[65])
{
    char digest[65];
    if (record_digest(r, digest)) {
        memset(out, 0, 65);
        return -1;
    }
    link_hash(prev, digest, out);
    return 0;
}

fm_rc data_event_digest(const struct store_event *r, char out[65])
{
    return record_digest(r, out) ? FM_EINVAL : FM_OK;
}

void data_event_link(const char *prev, const char *digest, char out[65])
{
    link_hash(prev, digest, out);
}

fm_rc events_append_ex(struct data_db *db, const struct data_viewer *v, const char *action,
                       const char *collection, int64_t item, int64_t version, const char *before,
                       const char *after, const char *owner, int before_owner_only,
                       int after_owner_only, fm_time at, struct fm_err *err)
{
    const struct store_ops *ops = store_of(db);
    char prev[65];
    int64_t seq;
    fm_rc rc = ops->event_head(db, &seq, prev, err);
    if (rc) return rc;
    if (seq == 0) memcpy(prev, zero_hash, sizeof prev);
    char hash[65];
    struct record r = {
        .seq = seq + 1,
        .at = at,
        .user = v->user,
        .party = v->party,
        .action = action,
        .collection = collection,
        .owner = owner,
        .item = item,
        .version = version,
        .before = before,
        .after = after,
        .before_owner_only = before_owner_only != 0,
        .after_owner_only = after_owner_only != 0,
        .prev_hash = prev,
        .hash = hash,
    };
    if (record_hash_v2(prev, &r, hash))
        return fm_fail(err, FM_EINVAL, NULL, "the event has a text that is not UTF-8");
    return ops->event_insert(db, &r, err);
}

fm_rc data_events_last(struct data_db *db, int64_t *out, struct fm_err *err)
{
    char hash[65];
    return store_of(db)->event_head(db, out, hash, err);
}

fm_rc data_events_head(struct data_db *db, const struct data_viewer *v, int64_t *head,
                       int64_t *seen, char hash[65], struct fm_err *err)
{
    *head = *seen = 0;
    hash[0] = '\0';
    char top[65];
    fm_rc rc = store_of(db)->event_head(db, head, top, err);
    if (rc || *head == 0) return rc;
    /* back from the head in growing windows until a record v may read */
    for (int64_t width = 64, to = *head; to > 0; to -= width, width *= 2) {
        int64_t from = to > width ? to - width : 0;
        json_t *part = NULL;
        if ((rc = data_events_scan(db, v, from, to - from, &part, NULL, err))) return rc;
        size_t i;
        json_t *e;
        json_array_foreach(part, i, e) {
            int64_t seq = json_integer_value(json_object_get(e, "seq"));
            const char *h = json_string_value(json_object_get(e, "hash"));
            if (seq <= to && h && strlen(h) == 64) *seen = seq, memcpy(hash, h, 65);
        }
        json_decref(part);
        if (*seen) break;
    }
    return FM_OK;
}

struct scan {
    const char *vp; /* the party whose drafts the viewer sees */
    json_t *arr;
    int64_t read_to; /* the last record read, seen or not */
};

static int scan_record(void *ctx, const struct record *r)
{
    struct scan *sc = ctx;
    sc->read_to = r->seq;
    int own = r->owner && vis_owner_has(r->owner, sc->vp); /* a list: messages.c */
    if (r->after_owner_only && !own) return 0; /* a draft of another party */
    const char *before = r->before_owner_only && !own ? NULL : r->before;
    char at[FM_TIME_STAMP_LEN];
    fm_time_format(r->at, at);
    json_array_append_new(
        sc->arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:I,s:I,s:s,s:o*,s:o*}", "seq",
                           (json_int_t)r->seq, "at", at, "user", r->user, "party", r->party,
                           "action", r->action, "collection", text_or_null(r->collection), "item",
                           (json_int_t)r->item, "version", (json_int_t)r->version, "hash", r->hash,
                           "before", before ? json_loads(before, 0, NULL) : json_null(), "after",
                           r->after ? json_loads(r->after, 0, NULL) : json_null()));
    return 0;
}

fm_rc data_events_scan(struct data_db *db, const struct data_viewer *v, int64_t since, long limit,
                       json_t **out, int64_t *scanned, struct fm_err *err)
{
    *out = NULL;
    if (scanned) *scanned = since;
    struct scan sc = {viewer_draft_party(v), json_array(), since};
    fm_rc rc = store_of(db)->events_each(db, since, limit, scan_record, &sc, err);
    if (rc) {
        json_decref(sc.arr);
        return rc;
    }
    *out = sc.arr;
    if (scanned) *scanned = sc.read_to;
    return FM_OK;
}

fm_rc data_events_since(struct data_db *db, const struct data_viewer *v, int64_t since, long limit,
                        json_t **out, struct fm_err *err)
{
    return data_events_scan(db, v, since, limit, out, NULL, err);
}

/* ---- verification ----------------------------------------------------- */

/* Follows a chain record by record; shared by the database and the file.
 * It keeps every record's hash (32 bytes each: 3.2 MB for 100,000
 * records) to check each cosigned head (heads.c) against the record it
 * names. */
struct chain {
    char prev[65];
    int64_t expect;
    int64_t bad;
    unsigned char (*hashes)[32];
    size_t cap;
    int64_t heads, held; /* cosigned heads checked; the newest seq one held */
    int v2;              /* a v2 record was seen: v2 only from here */
};

static void chain_init(struct chain *c)
{
    memset(c, 0, sizeof *c);
    memcpy(c->prev, zero_hash, sizeof c->prev);
    c->expect = 1;
}

static void chain_cleanup(struct chain *c)
{
    free(c->hashes);
    c->hashes = NULL;
}

static int unhex32(const char *h, unsigned char out[32])
{
    for (int i = 0; i < 32; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char ch = h[2 * i + j];
            v = v * 16 + (unsigned)(ch >= '0' && ch <= '9'   ? ch - '0'
                                    : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                                             : 99);
        }
        if (v > 255) return -1;
        out[i] = (unsigned char)v;
    }
    return h[64] == '\0' ? 0 : -1;
}

/* Keeps record seq's hash (for the cosigned heads after it). */
static void chain_keep(struct chain *c, int64_t seq, const char *hash)
{
    if ((size_t)seq > c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4096;
        if (c->cap < (size_t)seq) c->cap = (size_t)seq;
        c->hashes = fm_xrealloc(c->hashes, c->cap * sizeof *c->hashes);
    }
    unhex32(hash, c->hashes[seq - 1]);
}

/* A cosigned head (action cosign, heads.c) must name a record before it
 * whose hash is the one it signs: else the log was rewritten up to there
 * (even re-hashed), or a second history was signed. 1 and c->bad when not.
 * Its signature is keys.c's check. */
static int chain_head(struct chain *c, const struct record *r, struct fm_err *err)
{
    json_t *a = r->after ? json_loads(r->after, 0, NULL) : NULL;
    json_t *sj = json_object_get(a, "seq");
    const char *h = json_string_value(json_object_get(a, "hash"));
    int64_t s = json_is_integer(sj) ? json_integer_value(sj) : 0;
    unsigned char want[32];
    int bad = 0;
    if (s < 1 || s >= r->seq || !h || unhex32(h, want)) {
        c->bad = r->seq;
        fm_fail(err, FM_OK, NULL,
                "record %" PRId64 " is a cosigned head that names no record before it", r->seq);
        bad = 1;
    } else if (memcmp(c->hashes[s - 1], want, 32) != 0) {
        char have[65];
        fm_hex(c->hashes[s - 1], 32, have);
        c->bad = s;
        fm_fail(err, FM_OK, NULL,
                "record %" PRId64 " is not what %s (%s) cosigned in record %" PRId64
                ": hash %.12s... signed, %.12s... now: rewritten at or before record %" PRId64
                " (even re-hashed), or a fork",
                s, r->user, r->party, r->seq, h, have, s);
        bad = 1;
    } else {
        c->heads++;
        if (s > c->held) c->held = s;
    }
    json_decref(a);
    return bad;
}

/* Returns 1 and sets c->bad (and err) at the first bad record. */
static int chain_step(struct chain *c, const struct record *r, const char *stored_prev,
                      const char *stored_hash, struct fm_err *err)
{
    char hash[65];
    int encodable = (c->v2 ? record_hash_v2 : record_hash)(c->prev, r, hash) == 0;
    if (encodable && !c->v2 && strcmp(stored_hash, hash) != 0 &&
        record_hash_v2(c->prev, r, hash) == 0 && !strcmp(stored_hash, hash))
        c->v2 = 1; /* the first v2 record */
    if (r->seq != c->expect) {
        c->bad = c->expect;
        fm_fail(err, FM_OK, NULL,
                "record %" PRId64 " is missing (record %" PRId64 " stands in its place)", c->expect,
                r->seq);
    } else if (strcmp(stored_prev, c->prev) != 0) {
        c->bad = r->seq;
        fm_fail(err, FM_OK, NULL, "record %" PRId64 " does not follow its predecessor", r->seq);
    } else if (!encodable || strcmp(stored_hash, hash) != 0) {
        c->bad = r->seq;
        fm_fail(err, FM_OK, NULL, "record %" PRId64 " was changed after it was written", r->seq);
    }
    if (c->bad) return 1;
    chain_keep(c, r->seq, hash);
    if (r->action && !strcmp(r->action, "cosign") && r->collection &&
        !strcmp(r->collection, "heads") && chain_head(c, r, err))
        return 1;
    memcpy(c->prev, hash, sizeof c->prev);
    c->expect++;
    return 0;
}

/* Each version record must hold exactly the stored version, and each
 * stored version must have its record: a re-hashed chain with edited
 * content, or a log cut short at its tail, shows here. */
static fm_rc cross_check(struct data_db *db, int64_t last, int64_t *bad, struct fm_err *err)
{
    const struct store_ops *ops = store_of(db);
    fm_rc rc = ops->event_version_mismatch(db, bad, err);
    if (rc) return rc;
    if (*bad)
        return fm_fail(err, FM_OK, NULL,
                       "record %" PRId64 " does not hold the item version it records: rewritten",
                       *bad);
    int64_t item, version;
    if ((rc = ops->version_unrecorded(db, &item, &version, err))) return rc;
    /* each answer (ack, dispute) and its record: replay.c, which names
     * the row and column */
    if (item) {
        *bad = last + 1;
        fm_fail(err, FM_OK, NULL,
                "record %" PRId64 " is missing: item %lld version %lld has a change or an"
                " answer with no record"
                " (the log was cut short or a record removed)",
                last + 1, (long long)item, (long long)version);
    }
    return FM_OK;
}

struct verify {
    struct chain chain;
    int64_t count;
    struct fm_err *err;
};

static int verify_record(void *ctx, const struct record *r)
{
    struct verify *vf = ctx;
    vf->count++;
    return chain_step(&vf->chain, r, r->prev_hash, r->hash, vf->err);
}

static fm_rc verify_in_read(struct data_db *db, int64_t *bad_seq, int64_t *count,
                            int64_t *heads, struct fm_err *err)
{
    struct verify vf = {.err = err};
    chain_init(&vf.chain);
    fm_rc rc = store_of(db)->events_each(db, 0, -1, verify_record, &vf, err);
    *count = vf.count;
    *heads = vf.chain.heads;
    chain_cleanup(&vf.chain);
    if (rc) return rc;
    *bad_seq = vf.chain.bad;
    if (!vf.chain.bad) rc = cross_check(db, vf.chain.expect - 1, bad_seq, err);
    /* and the state the server acts on says what the log says (replay.c) */
    if (!rc && !*bad_seq) rc = replay_check(db, vf.chain.expect - 1, bad_seq, err);
    return rc;
}

fm_rc data_events_verify(struct data_db *db, int64_t *bad_seq, int64_t *count, struct fm_err *err)
{
    int64_t heads;
    return data_events_verify_heads(db, bad_seq, count, &heads, err);
}

fm_rc data_events_verify_heads(struct data_db *db, int64_t *bad_seq, int64_t *count,
                               int64_t *heads, struct fm_err *err)
{
    *heads = 0;
    *bad_seq = 0;
    *count = 0;
    /* one read of one state: a write committed meanwhile is not half seen */
    const struct store_ops *ops = store_of(db);
    fm_rc rc = ops->snapshot_begin(db, err);
    if (rc) return rc;
    rc = verify_in_read(db, bad_seq, count, heads, err);
    ops->snapshot_end(db);
    return rc;
}

/* ---- export ------------------------------------------------------------ */

static json_t *record_json(const struct record *r, const char *prev, const char *hash)
{
    return json_pack("{s:I,s:I,s:s,s:s,s:s,s:o,s:o,s:I,s:I,s:o,s:o,s:s,s:s}", "seq",
                     (json_int_t)r->seq, "at", (json_int_t)r->at, "user", r->user, "party",
                     r->party, "action", r->action, "collection", text_or_null(r->collection),
                     "owner", text_or_null(r->owner), "item", (json_int_t)r->item, "version",
                     (json_int_t)r->version, "before", text_or_null(r->before), "after",
                     text_or_null(r->after), "prev_hash", prev, "hash", hash);
}

struct export
{
    FILE *out;
    int64_t count;
    char head[65];
    int failed;
};

static int export_record(void *ctx, const struct record *r)
{
    struct export *x = ctx;
    json_t *j = record_json(r, r->prev_hash, r->hash);
    x->failed = json_dumpf(j, x->out, JSON_COMPACT) != 0 || fputc('\n', x->out) == EOF;
    json_decref(j);
    if (x->failed) return 1;
    snprintf(x->head, sizeof x->head, "%s", r->hash);
    x->count++;
    return 0;
}

fm_rc data_events_export(struct data_db *db, FILE *out, int64_t *count, struct fm_err *err)
{
    struct export x = {.out = out};
    memcpy(x.head, zero_hash, sizeof x.head);
    fm_rc rc = store_of(db)->events_each(db, 0, -1, export_record, &x, err);
    *count = x.count;
    if (!rc && x.failed) rc = fm_fail(err, FM_EIO, NULL, "cannot write the export");
    if (!rc) {
        /* the last line names the head, so that a file cut short shows */
        json_t *end = json_pack("{s:I,s:s}", "records", (json_int_t)x.count, "head", x.head);
        if (json_dumpf(end, out, JSON_COMPACT) != 0 || fputc('\n', out) == EOF || fflush(out) != 0)
            rc = fm_fail(err, FM_EIO, NULL, "cannot write the export");
        json_decref(end);
    }
    return rc;
}

/* Reads an export line by line; calls each(ctx, record, prev, hash) per
 * record, which returns 0 or the bad record's number. The closing line
 * must name the count and the head. */
typedef int64_t (*file_record_cb)(void *ctx, const struct record *r, const char *prev,
                                  const char *hash, struct fm_err *err);

static fm_rc read_export(const char *path, file_record_cb each, void *ctx, int64_t *count,
                         int64_t *bad, struct fm_err *err)
{
    *count = 0;
    *bad = 0;
    FILE *f = fopen(path, "r");
    if (!f) return fm_fail(err, FM_EIO, NULL, "cannot open %s", path);
    char *line = NULL;
    size_t cap = 0;
    fm_rc rc = FM_OK;
    int ended = 0;
    char head[65];
    memcpy(head, zero_hash, sizeof head);
    while (!*bad && getline(&line, &cap, f) > 0) {
        json_error_t jerr;
        json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
        if (!j || ended) {
            *bad = *count + 1;
            fm_fail(err, FM_OK, NULL, "line %lld of the export is not a record",
                    (long long)*count + 1);
            json_decref(j);
            break;
        }
        if (!json_object_get(j, "seq")) {
            /* the closing line */
            ended = 1;
            if (json_integer_value(json_object_get(j, "records")) != *count ||
                !json_is_string(json_object_get(j, "head")) ||
                strcmp(json_string_value(json_object_get(j, "head")), head) != 0) {
                *bad = *count + 1;
                fm_fail(err, FM_OK, NULL,
                        "the export ends after record %lld but its closing line says otherwise:"
                        " cut short or extended",
                        (long long)*count);
            }
            json_decref(j);
            continue;
        }
        struct record r = {
            .seq = json_integer_value(json_object_get(j, "seq")),
            .at = json_integer_value(json_object_get(j, "at")),
            .user = json_string_value(json_object_get(j, "user")),
            .party = json_string_value(json_object_get(j, "party")),
            .action = json_string_value(json_object_get(j, "action")),
            .collection = json_string_value(json_object_get(j, "collection")),
            .owner = json_string_value(json_object_get(j, "owner")),
            .item = json_integer_value(json_object_get(j, "item")),
            .version = json_integer_value(json_object_get(j, "version")),
            .before = json_string_value(json_object_get(j, "before")),
            .after = json_string_value(json_object_get(j, "after")),
        };
        const char *prev = json_string_value(json_object_get(j, "prev_hash"));
        const char *hash = json_string_value(json_object_get(j, "hash"));
        (*count)++;
        if (!r.user || !r.party || !r.action || !prev || !hash) {
            *bad = r.seq ? r.seq : *count;
            fm_fail(err, FM_OK, NULL, "record %lld of the export lacks fields", (long long)*count);
        } else if ((*bad = each(ctx, &r, prev, hash, err)) == 0) {
            snprintf(head, sizeof head, "%s", hash);
        }
        json_decref(j);
    }
    if (!*bad && !ended) {
        *bad = *count + 1;
        fm_fail(err, FM_OK, NULL, "the export has no closing line: cut short after record %lld",
                (long long)*count);
    }
    free(line);
    fclose(f);
    return rc;
}

static int64_t file_chain_step(void *ctx, const struct record *r, const char *prev,
                               const char *hash, struct fm_err *err)
{
    struct chain *c = ctx;
    return chain_step(c, r, prev, hash, err) ? c->bad : 0;
}

fm_rc data_events_verify_file(const char *path, int64_t *bad_seq, int64_t *count,
                              struct fm_err *err)
{
    int64_t heads;
    return data_events_verify_file_heads(path, bad_seq, count, &heads, err);
}

fm_rc data_events_verify_file_heads(const char *path, int64_t *bad_seq, int64_t *count,
                                    int64_t *heads, struct fm_err *err)
{
    struct chain c;
    chain_init(&c);
    fm_rc rc = read_export(path, file_chain_step, &c, count, bad_seq, err);
    *heads = c.heads;
    chain_cleanup(&c);
    return rc;
}

fm_rc data_events_check_head(struct data_db *db, const char *path, int64_t *bad_seq,
                             int64_t *checked, struct fm_err *err)
{
    *bad_seq = 0;
    *checked = 0;
    json_error_t je;
    json_t *j = json_load_file(path, JSON_DECODE_ANY, &je);
    if (!j) return fm_fail(err, FM_EINVAL, NULL, "%s is not JSON: %s", path, je.text);
    /* one head ({seq, hash, ...}: POST /heads' answer), or a list (GET /heads) */
    json_t *list = json_is_array(j) ? j : json_is_array(json_object_get(j, "heads"))
                                              ? json_object_get(j, "heads")
                                              : NULL;
    size_t n = list ? json_array_size(list) : 1;
    fm_rc rc = FM_OK;
    for (size_t i = 0; !rc && !*bad_seq && i < n; i++) {
        json_t *h = list ? json_array_get(list, i) : j;
        json_t *sj = json_object_get(h, "seq");
        const char *want = json_string_value(json_object_get(h, "hash"));
        if (!json_is_integer(sj) || !want) {
            rc = fm_fail(err, FM_EINVAL, NULL, "%s: head %zu has no seq and hash", path, i + 1);
            break;
        }
        int64_t seq = json_integer_value(sj);
        char have[65];
        struct fm_err e2;
        fm_rc hr = store_of(db)->event_hash(db, seq, have, &e2);
        if (hr && hr != FM_ENOTFOUND) {
            rc = hr;
            *err = e2;
        } else if (hr == FM_ENOTFOUND) {
            *bad_seq = seq;
            fm_fail(err, FM_OK, NULL,
                    "record %" PRId64 ", which you cosigned, is not in this log: cut short", seq);
        } else if (strcmp(have, want) != 0) {
            *bad_seq = seq;
            fm_fail(err, FM_OK, NULL,
                    "record %" PRId64 " is not the one you cosigned (hash %.12s... signed,"
                    " %.12s... now): this log was rewritten at or before it, or is another"
                    " history (a fork)",
                    seq, want, have);
        } else {
            ++*checked;
        }
    }
    json_decref(j);
    return rc;
}

struct against {
    struct chain chain;
    struct data_db *db;
};

static int64_t against_step(void *ctx, const struct record *r, const char *prev, const char *hash,
                            struct fm_err *err)
{
    struct against *a = ctx;
    int64_t bad = file_chain_step(&a->chain, r, prev, hash, err);
    if (bad) return bad;
    char stored[65];
    struct fm_err e2 = {0};
    fm_rc rc = store_of(a->db)->event_hash(a->db, r->seq, stored, &e2);
    if (rc == FM_ENOTFOUND) {
        fm_fail(err, FM_OK, NULL,
                "record %" PRId64 " of the export is not in the database: the log was cut short",
                r->seq);
        return r->seq;
    }
    if (rc) {
        fm_fail(err, FM_OK, NULL, "record %" PRId64 ": %s", r->seq, e2.msg);
        return r->seq;
    }
    if (strcmp(stored, hash) != 0) {
        fm_fail(err, FM_OK, NULL,
                "record %" PRId64 " differs from the export: the log was rewritten from here",
                r->seq);
        return r->seq;
    }
    return 0;
}

fm_rc data_events_verify_against(struct data_db *db, const char *path, int64_t *bad_seq,
                                 int64_t *count, struct fm_err *err)
{
    struct against a = {.db = db};
    chain_init(&a.chain);
    fm_rc rc = read_export(path, against_step, &a, count, bad_seq, err);
    chain_cleanup(&a.chain);
    return rc;
}

/* ---- an evidence bundle, offline ------------------------------------------ */

/* The same checks as tests/verify_export.py's, in the same order, so that
 * either names the same first fault: the records in order from 1; a record
 * in full by the chain's rule (v1 until the first v2 record), its
 * signature (keys.c's replay, with the bundle's given keys) and, for a
 * cosigned head, the hash it signs; a record given as its digest by v2's
 * link; a record given as its hash alone (chain v1, before the upgrade)
 * taken as given, never after a v2 record; the head the last record's. */

static int is_version_record(const char *a)
{
    static const char *const acts[] = {"create",   "replace",      "patch",
                                       "withdraw", "acknowledged", "disputed"};
    for (size_t i = 0; i < sizeof acts / sizeof *acts; i++)
        if (!strcmp(a, acts[i])) return 1;
    return 0;
}

static int is_hex64(const char *s)
{
    unsigned char d[32];
    return s && strlen(s) == 64 && unhex32(s, d) == 0;
}

/* A record in full from its JSON; 0, or -1 when a member is missing or of
 * another type. */
static int bundle_record_of(const json_t *j, struct record *r)
{
    static const char *const ints[] = {"seq", "at", "item", "version"};
    static const char *const texts[] = {"user", "party", "action"};
    static const char *const maybe[] = {"collection", "owner", "before", "after"};
    for (size_t i = 0; i < 4; i++)
        if (!json_is_integer(json_object_get(j, ints[i]))) return -1;
    for (size_t i = 0; i < 3; i++)
        if (!json_is_string(json_object_get(j, texts[i]))) return -1;
    for (size_t i = 0; i < 4; i++) {
        json_t *m = json_object_get(j, maybe[i]);
        if (!json_is_string(m) && !json_is_null(m)) return -1;
    }
    memset(r, 0, sizeof *r);
    r->seq = json_integer_value(json_object_get(j, "seq"));
    r->at = json_integer_value(json_object_get(j, "at"));
    r->user = json_string_value(json_object_get(j, "user"));
    r->party = json_string_value(json_object_get(j, "party"));
    r->action = json_string_value(json_object_get(j, "action"));
    r->collection = json_string_value(json_object_get(j, "collection"));
    r->owner = json_string_value(json_object_get(j, "owner"));
    r->item = json_integer_value(json_object_get(j, "item"));
    r->version = json_integer_value(json_object_get(j, "version"));
    r->before = json_string_value(json_object_get(j, "before"));
    r->after = json_string_value(json_object_get(j, "after"));
    return 0;
}

static int bundle_bad(struct data_bundle_check *out, int64_t seq, struct fm_err *err,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int bundle_bad(struct data_bundle_check *out, int64_t seq, struct fm_err *err,
                      const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    out->bad = seq > 0 ? seq : 1;
    fm_fail(err, FM_OK, NULL, "%s", msg);
    return 1;
}

static void bundle_walk(const json_t *b, struct chain *c, struct sig_replay *s,
                        struct data_bundle_check *out, struct fm_err *err)
{
    const char *type = json_string_value(json_object_get(b, "type"));
    if (!type || strcmp(type, "fusionmap evidence") != 0 ||
        !json_is_integer(json_object_get(b, "format")) ||
        json_integer_value(json_object_get(b, "format")) != 1) {
        bundle_bad(out, 1, err, "not an evidence bundle of format 1");
        return;
    }
    json_t *records = json_object_get(b, "records"), *keys = json_object_get(b, "keys"),
           *head = json_object_get(b, "head");
    if (!json_is_array(records) || !json_is_object(keys) || !json_is_object(head)) {
        bundle_bad(out, 1, err, "the bundle lacks its records, keys or head");
        return;
    }
    const char *fp;
    json_t *k;
    json_object_foreach(keys, fp, k) {
        if (sig_replay_key(s, fp, json_string_value(json_object_get(k, "user")),
                           json_string_value(json_object_get(k, "public_key")), err)) {
            out->bad = 1;
            return;
        }
    }
    size_t i;
    json_t *j;
    json_array_foreach(records, i, j) {
        json_t *sj = json_object_get(j, "seq");
        int64_t seq = json_is_integer(sj) ? json_integer_value(sj) : 0;
        const char *hash = json_string_value(json_object_get(j, "hash"));
        if (seq != c->expect) {
            bundle_bad(out, c->expect, err,
                       "the bundle's records are not the log's in order: record %" PRId64
                       " is missing (%s stands in its place)",
                       c->expect, seq ? "another" : "an entry with no seq");
            return;
        }
        if (!is_hex64(hash)) {
            bundle_bad(out, seq, err, "record %" PRId64 " has no hash", seq);
            return;
        }
        out->records++;
        if (!json_object_get(j, "action")) {
            /* another record, as its digest (v2) or its hash (v1) */
            json_t *dj = json_object_get(j, "digest");
            if (dj) {
                const char *digest = json_string_value(dj);
                char link[65];
                if (!is_hex64(digest)) {
                    bundle_bad(out, seq, err, "record %" PRId64 "'s digest is not 64 hex digits",
                               seq);
                    return;
                }
                c->v2 = 1;
                link_hash(c->prev, digest, link);
                if (strcmp(link, hash) != 0) {
                    bundle_bad(out, seq, err,
                               "record %" PRId64 ": the chain breaks here (its digest and hash do"
                               " not follow the record before: the record or its digest was"
                               " changed)",
                               seq);
                    return;
                }
            } else if (c->v2) {
                bundle_bad(out, seq, err,
                           "record %" PRId64 " is given as a hash alone (chain v1) after a record"
                           " of chain v2",
                           seq);
                return;
            } else {
                out->given++;
            }
            chain_keep(c, seq, hash);
            memcpy(c->prev, hash, 65);
            c->expect++;
            continue;
        }
        struct record r;
        if (bundle_record_of(j, &r)) {
            bundle_bad(out, seq, err,
                       "record %" PRId64 " lacks a field or has one of another type", seq);
            return;
        }
        out->full++;
        char prev[65];
        memcpy(prev, c->prev, sizeof prev);
        if (chain_step(c, &r, prev, hash, err)) {
            out->bad = c->bad;
            return;
        }
        struct sig_record sr = {r.seq,  r.user, r.party,   r.action,
                                r.collection, r.item, r.version, r.after};
        if (sig_replay_record(s, &sr, err)) {
            out->bad = seq;
            return;
        }
    }
    /* the bundle is of its item: a version of it is among its records */
    const char *coll = json_string_value(json_object_get(b, "collection"));
    json_int_t item = json_integer_value(json_object_get(b, "item"));
    int found = 0;
    json_array_foreach(records, i, j) {
        const char *a = json_string_value(json_object_get(j, "action"));
        const char *rc = json_string_value(json_object_get(j, "collection"));
        if (a && rc && coll && !strcmp(rc, coll) && is_version_record(a) &&
            json_integer_value(json_object_get(j, "item")) == item)
            found = 1;
    }
    if (!found) {
        bundle_bad(out, 1, err,
                   "the bundle holds no version of the item it names (%s/%lld): its collection"
                   " or item was changed",
                   coll ? coll : "?", (long long)item);
        return;
    }
    json_t *hs = json_object_get(head, "seq");
    const char *hh = json_string_value(json_object_get(head, "hash"));
    int64_t last = c->expect - 1;
    if (!json_is_integer(hs) || json_integer_value(hs) != last || !hh ||
        strcmp(hh, last ? c->prev : zero_hash) != 0) {
        bundle_bad(out, last + 1, err,
                   "the bundle's head is not its last record's (record %" PRId64
                   "): records cut or added, or the head changed",
                   last);
        return;
    }
    if (evidence_picture_bad(b, err)) out->bad = last + 1;
}

int data_bundle_read(const char *path, json_t **out)
{
    *out = NULL;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(j) && json_is_string(json_object_get(j, "type")) &&
        !strcmp(json_string_value(json_object_get(j, "type")), "fusionmap evidence")) {
        *out = j;
        return 1;
    }
    json_decref(j);
    return 0;
}

fm_rc data_bundle_verify(const json_t *bundle, struct data_bundle_check *out, struct fm_err *err)
{
    memset(out, 0, sizeof *out);
    struct chain c;
    chain_init(&c);
    struct sig_replay *s = sig_replay_new();
    bundle_walk(bundle, &c, s, out, err);
    out->nsigned = sig_replay_count(s);
    out->heads = c.heads;
    sig_replay_free(s);
    chain_cleanup(&c);
    return FM_OK;
}
