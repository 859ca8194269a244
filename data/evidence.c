/* evidence.c - an evidence bundle (issue 20): one item's whole record as
 * one party may see it, checkable offline with no server (tests/
 * verify_export.py does it in Python with JCS and Ed25519 only).
 *
 * The bundle is a JSON object {"type": "fusionmap evidence", "format": 1,
 * "collection", "item", "for": {user, party}, "made", "records": [...],
 * "head": {seq, hash}, "keys": {...}}. "records" walks the whole log from
 * record 1 to the head, one entry a record, each with its "hash":
 * - in full (the export's fields), when the record is the item's (its
 *   versions, answers, rulings, thread) or a conflict's that holds the
 *   item, or a cosigned head or a key record, and the party may read all
 *   of it;
 * - else as {"seq", "digest", "hash"} (chain v2: the hash is SHA-256 of
 *   the previous hash and the digest, so the chain is checked through it
 *   and the party learns only that a record is there), or, for a record
 *   of chain v1 (before the upgrade), {"seq", "hash"}, taken as given.
 * The cosigned heads in it are checked against that chain: a head another
 * party signed after the item's records binds them. "keys": the public
 * keys of the signatures in it whose key records the party may not read
 * (another party's): {fingerprint: {user, public_key}}, the server's word
 * (the fingerprint is the key's SHA-256). Nothing a party may not see is
 * in its bundle: the same rule as the log it reads (events.c's scan). The
 * server adds "picture" (heads.c: a PNG of the item's area drawn for the
 * caller, with its SHA-256), outside the chain. events.c checks a bundle
 * offline (data_bundle_verify), as tests/verify_export.py does.
 * data_events_chain gives the same entries for every record after a seq,
 * in full whenever the party reads all of it: the liaison page's witness
 * pass (web/js/signing.js). The rules only: the records are the store's. */
#include "internal.h"
#include "store.h"

#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bundle {
    const char *vp; /* the party whose drafts the viewer sees */
    const char *coll;
    int64_t item;
    json_t *records, *signers;
    json_t *conflicts; /* {"id": true}: the conflicts found to hold the item */
    char head[65];
    int64_t last;
    int v2;
    fm_rc rc;
    int all; /* every record the party reads in full (a witness pass), not the item's */
};

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* 1 if text (a conflict's Feature) names the item among its two. */
static int names_item(const struct bundle *b, const char *text)
{
    json_t *f = text ? json_loads(text, 0, NULL) : NULL;
    json_t *items = json_object_get(json_object_get(f, "properties"), "items");
    int yes = 0;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        const char *c = json_string_value(json_object_get(it, "collection"));
        if (c && !strcmp(c, b->coll) && json_integer_value(json_object_get(it, "id")) == b->item)
            yes = 1;
    }
    json_decref(f);
    return yes;
}

/* A record of a conflict the item was in: its id once seen to hold the
 * item (the conflict's two items never change), or its text naming it.
 * Only records the party reads come here: a conflict with another party's
 * draft is that party's alone, in full and in this set. */
static int in_conflict(struct bundle *b, const struct store_event *r)
{
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, r->item);
    if (json_object_get(b->conflicts, id)) return 1;
    if (!names_item(b, r->after) && !names_item(b, r->before)) return 0;
    json_object_set_new(b->conflicts, id, json_true());
    return 1;
}

static int bundle_record(void *ctx, const struct store_event *r)
{
    struct bundle *b = ctx;
    char digest[65], link[65];
    b->last = r->seq;
    snprintf(b->head, sizeof b->head, "%s", r->hash);
    if (data_event_digest(r, digest)) {
        b->rc = FM_EINVAL;
        return 1;
    }
    data_event_link(r->prev_hash, digest, link);
    if (!strcmp(link, r->hash)) b->v2 = 1;
    int own = r->owner && vis_owner_has(r->owner, b->vp);
    int readable = (!r->after_owner_only || own) && (!r->before_owner_only || own);
    int about = r->collection && !strcmp(r->collection, b->coll) && r->item == b->item;
    if (readable && !about && !b->all && r->collection && !strcmp(r->collection, "conflicts"))
        about = in_conflict(b, r);
    int keyrec = r->collection && !strcmp(r->collection, "keys");
    int head = !strcmp(r->action, "cosign");
    json_t *e;
    if (readable && (about || keyrec || head || b->all)) {
        e = json_pack("{s:I,s:I,s:s,s:s,s:s,s:o,s:o,s:I,s:I,s:o,s:o,s:s}", "seq",
                      (json_int_t)r->seq, "at", (json_int_t)r->at, "user", r->user, "party",
                      r->party, "action", r->action, "collection", text_or_null(r->collection),
                      "owner", text_or_null(r->owner), "item", (json_int_t)r->item, "version",
                      (json_int_t)r->version, "before", text_or_null(r->before), "after",
                      text_or_null(r->after), "hash", r->hash);
        /* the signers of what is in it */
        json_t *a = !b->all && (about || head) && r->after ? json_loads(r->after, 0, NULL) : NULL;
        const char *fp = json_string_value(json_object_get(json_object_get(a, "signature"), "key"));
        if (fp) json_object_set_new(b->signers, fp, json_true());
        json_decref(a);
    } else if (b->v2 && !strcmp(link, r->hash)) {
        e = json_pack("{s:I,s:s,s:s}", "seq", (json_int_t)r->seq, "digest", digest, "hash",
                      r->hash);
    } else {
        e = json_pack("{s:I,s:s}", "seq", (json_int_t)r->seq, "hash", r->hash);
    }
    json_array_append_new(b->records, e);
    return 0;
}

static int key_of(void *ctx, const struct store_key *k)
{
    json_object_set_new(ctx, k->fingerprint,
                        json_pack("{s:s,s:s}", "user", k->user, "public_key", k->public_key));
    return 1;
}

fm_rc data_evidence(struct data_db *db, const struct data_viewer *v, enum data_coll c, int64_t id,
                    json_t **out, struct fm_err *err)
{
    *out = NULL;
    /* another party's draft (or no such item) has no bundle for v */
    fm_rc rc = item_visible(db, v, c, id, err);
    if (rc) return rc;
    const struct store_ops *ops = store_of(db);
    if ((rc = ops->snapshot_begin(db, err))) return rc;
    struct bundle b = {viewer_draft_party(v), data_coll_name(c), id, json_array(), json_object(),
                       json_object(), "", 0, 0, FM_OK, 0};
    rc = ops->events_each(db, 0, -1, bundle_record, &b, err);
    if (!rc && b.rc) rc = fm_fail(err, b.rc, NULL, "a record of the log is not UTF-8");
    json_t *keys = json_object();
    const char *fp;
    json_t *yes;
    json_object_foreach(b.signers, fp, yes)
    {
        if (!rc) rc = ops->key_get(db, fp, key_of, keys, err);
        if (rc == FM_ENOTFOUND) rc = FM_OK;
    }
    ops->snapshot_end(db);
    json_decref(b.signers);
    json_decref(b.conflicts);
    if (rc) {
        json_decref(b.records);
        json_decref(keys);
        return rc;
    }
    char made[FM_TIME_STAMP_LEN];
    fm_time_format(fm_time_now(), made);
    *out = json_pack("{s:s,s:i,s:s,s:I,s:{s:s,s:s},s:s,s:o,s:{s:I,s:s},s:o}", "type",
                     "fusionmap evidence", "format", 1, "collection", data_coll_name(c), "item",
                     (json_int_t)id, "for", "user", v->user, "party", v->party, "made", made,
                     "records", b.records, "head", "seq", (json_int_t)b.last, "hash", b.head,
                     "keys", keys);
    return FM_OK;
}

/* ---- the picture ------------------------------------------------------- */

static void extent_of(const json_t *coords, double b[4], int *any)
{
    if (json_is_array(coords) && json_array_size(coords) >= 2 &&
        json_is_number(json_array_get(coords, 0)) && json_is_number(json_array_get(coords, 1))) {
        double x = json_number_value(json_array_get(coords, 0));
        double y = json_number_value(json_array_get(coords, 1));
        if (!*any) b[0] = b[2] = x, b[1] = b[3] = y;
        b[0] = fmin(b[0], x), b[1] = fmin(b[1], y), b[2] = fmax(b[2], x), b[3] = fmax(b[3], y);
        *any = 1;
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(coords, i, e) extent_of(e, b, any);
}

fm_rc data_evidence_area(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                         int64_t id, double bbox[4], struct fm_err *err)
{
    json_t *f = NULL;
    fm_rc rc = data_item_get(db, v, c, id, &f, err);
    if (rc) return rc;
    double b[4] = {0, 0, 0, 0};
    int any = 0;
    json_t *g = json_object_get(f, "geometry");
    extent_of(json_object_get(g, "coordinates"), b, &any);
    json_t *gs = json_object_get(g, "geometries");
    size_t i;
    json_t *e;
    json_array_foreach(gs, i, e) extent_of(json_object_get(e, "coordinates"), b, &any);
    json_decref(f);
    if (!any) return fm_fail(err, FM_EINVAL, NULL, "the item has no coordinates to frame");
    /* half its size again around it, and at least about 2 km across */
    double w = fmax((b[2] - b[0]) * 2, 0.02), h = fmax((b[3] - b[1]) * 2, 0.02);
    double cx = (b[0] + b[2]) / 2, cy = (b[1] + b[3]) / 2;
    bbox[0] = fmax(-180, cx - w / 2), bbox[2] = fmin(180, cx + w / 2);
    bbox[1] = fmax(-85, cy - h / 2), bbox[3] = fmin(85, cy + h / 2);
    return FM_OK;
}

void data_evidence_picture(json_t *bundle, const unsigned char *png, size_t len,
                           const double bbox[4])
{
    size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = fm_xmalloc(n);
    sodium_bin2base64(b64, n, png, len, sodium_base64_VARIANT_ORIGINAL);
    unsigned char d[32];
    char hex[65];
    sha256(png, len, d);
    fm_hex(d, 32, hex);
    char drawn[FM_TIME_STAMP_LEN];
    fm_time_format(fm_time_now(), drawn);
    json_object_set_new(bundle, "picture",
                        json_pack("{s:s,s:[f,f,f,f],s:s,s:s,s:s}", "note",
                                  "the server's drawing of the item's area as the bundle's"
                                  " party saw it when the bundle was made; outside the chain",
                                  "bbox", bbox[0], bbox[1], bbox[2], bbox[3], "drawn", drawn,
                                  "sha256", hex, "png", b64));
    free(b64);
}

int evidence_picture_bad(const json_t *bundle, struct fm_err *err)
{
    json_t *pic = json_object_get(bundle, "picture");
    if (!pic) return 0;
    const char *b64 = json_string_value(json_object_get(pic, "png"));
    const char *want = json_string_value(json_object_get(pic, "sha256"));
    size_t n = b64 ? strlen(b64) : 0, got = 0;
    unsigned char *png = fm_xmalloc(n / 4 * 3 + 3);
    const char *end = NULL;
    int bad = !b64 || !want ||
              sodium_base642bin(png, n / 4 * 3 + 3, b64, n, NULL, &got, &end,
                                sodium_base64_VARIANT_ORIGINAL) != 0 ||
              end != b64 + n || got < 8 || memcmp(png, "\x89PNG\r\n\x1a\n", 8) != 0;
    if (!bad) {
        unsigned char d[32];
        char hex[65];
        sha256(png, got, d);
        fm_hex(d, 32, hex);
        bad = strcmp(hex, want) != 0;
    }
    free(png);
    if (bad)
        fm_fail(err, FM_OK, NULL,
                "the bundle's picture is not the PNG its digest names (changed or cut)");
    return bad;
}

/* ---- a witness pass ------------------------------------------------------ */

fm_rc data_events_chain(struct data_db *db, const struct data_viewer *v, int64_t since, long limit,
                        json_t **out, struct fm_err *err)
{
    *out = NULL;
    struct bundle b = {viewer_draft_party(v), "", 0, json_array(), json_object(), json_object(),
                       "", 0, 0, FM_OK, 1};
    fm_rc rc = store_of(db)->events_each(db, since, limit, bundle_record, &b, err);
    if (!rc && b.rc) rc = fm_fail(err, b.rc, NULL, "a record of the log is not UTF-8");
    json_decref(b.signers);
    json_decref(b.conflicts);
    if (rc) {
        json_decref(b.records);
        return rc;
    }
    *out = b.records;
    return FM_OK;
}
