/* pages.c - one page of GeoJSON Features answered as an OGC API
 * FeatureCollection: numberMatched, numberReturned, a time stamp and
 * self/next/prev links that keep the request's own filters. The stored
 * Feature text is copied as it is, never parsed again. */
#include "srv.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PAGE_BYTES ((size_t)512 << 20)

void srv_page_init(struct srv_page *pg)
{
    fm_buf_init(&pg->features, MAX_PAGE_BYTES);
    pg->returned = 0;
    pg->too_big = 0;
}

int srv_page_add(struct srv_page *pg, const char *feature)
{
    if ((pg->returned && fm_buf_adds(&pg->features, ",")) || fm_buf_adds(&pg->features, feature)) {
        pg->too_big = 1;
        return 1;
    }
    pg->returned++;
    return 0;
}

void srv_page_cleanup(struct srv_page *pg)
{
    fm_buf_cleanup(&pg->features);
}

/* A link to path?params (this request's values, percent-encoded) with
 * limit and offset set. */
static json_t *page_link(struct req *r, const char *base, const char *path,
                         const char *const *params, long offset, long limit, const char *rel)
{
    struct fm_buf b;
    fm_buf_init(&b, 8192);
    fm_buf_printf(&b, "%s%s?", base, path);
    for (const char *const *k = params; *k; k++) {
        if (!strcmp(*k, "offset") || !strcmp(*k, "limit")) continue;
        const char *v = srv_arg(r, *k);
        if (!v) continue;
        fm_buf_printf(&b, "%s=", *k);
        for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
            if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                strchr("-_.~,:", *c))
                fm_buf_add(&b, c, 1);
            else
                fm_buf_printf(&b, "%%%02X", *c);
        }
        fm_buf_adds(&b, "&");
    }
    fm_buf_printf(&b, "limit=%ld&offset=%ld", limit, offset);
    json_t *l = json_pack("{s:s,s:s,s:s}", "href", b.data ? b.data : "", "rel", rel, "type",
                          "application/geo+json");
    fm_buf_cleanup(&b);
    return l;
}

int srv_reply_page(struct req *r, struct srv_page *pg, const char *path,
                   const char *const *params, long offset, long limit, long matched)
{
    if (pg->too_big) {
        srv_page_cleanup(pg);
        return srv_problem_status(r, 413, "the page is too large; ask for a smaller limit", "limit");
    }
    char base[256], stamp[FM_TIME_STAMP_LEN];
    srv_base_url(r, base, sizeof base);
    fm_time_format(fm_time_now(), stamp);
    json_t *links = json_array();
    json_array_append_new(links, page_link(r, base, path, params, offset, limit, "self"));
    if (offset + pg->returned < matched && pg->returned > 0)
        json_array_append_new(links,
                              page_link(r, base, path, params, offset + limit, limit, "next"));
    if (offset > 0)
        json_array_append_new(links, page_link(r, base, path, params,
                                               offset > limit ? offset - limit : 0, limit, "prev"));
    json_t *head = json_pack("{s:s,s:I,s:I,s:s,s:o}", "type", "FeatureCollection",
                             "numberMatched", (json_int_t)matched, "numberReturned",
                             (json_int_t)pg->returned, "timeStamp", stamp, "links", links);
    char *head_text = json_dumps(head, JSON_COMPACT);
    json_decref(head);

    /* {head..., "features":[...]} */
    struct fm_buf out;
    fm_buf_init(&out, MAX_PAGE_BYTES + 65536);
    int bad = !head_text || fm_buf_add(&out, head_text, strlen(head_text) - 1) ||
              fm_buf_adds(&out, ",\"features\":[") ||
              fm_buf_add(&out, pg->features.data ? pg->features.data : "", pg->features.len) ||
              fm_buf_adds(&out, "]}");
    free(head_text);
    srv_page_cleanup(pg);
    if (bad) {
        fm_buf_cleanup(&out);
        return srv_problem_status(r, 413, "the page is too large; ask for a smaller limit", "limit");
    }
    size_t len;
    char *body = fm_buf_take(&out, &len);
    return srv_reply(r, 200, "application/geo+json", body, len);
}
