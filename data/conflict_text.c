/* conflict_text.c - a conflict as its GeoJSON Feature: the text hashed
 * into the event log and served by the collection, written in C so that
 * every backend hashes the same bytes (issue 18).
 *
 * The bytes are those SQLite's json_object made over the row before
 * (CONFLICT_FEATURE_SQL, data/sqlite/sqlite.h, still says it, and
 * tests/unit/test_conflicts.c compares the two on every record): logs
 * written then verify and replay as they are. The geometry is the text
 * the row keeps (store_conflict.geojson): SQLite's AsGeoJSON for the
 * rows of before, geo_to_geojson (geom.c) for those written since. */
#include "internal.h"
#include "store.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* s as SQLite's json_object quotes a text (json.c jsonAppendString):
 * '"' and '\\' escaped, \b \t \n \f \r by name, other bytes below 0x20
 * as \u00xx in lower case, every other byte as it is; NULL is null. */
static void jstr(struct fm_buf *b, const char *s)
{
    if (!s) {
        FM_BUF_LIT(b, "null");
        return;
    }
    FM_BUF_LIT(b, "\"");
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s;; p++) {
        unsigned c = *p;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        fm_buf_put(b, run, (size_t)((const char *)p - run));
        run = (const char *)p + 1;
        if (c == 0) break;
        char esc[8];
        const char *named = c == '"'    ? "\\\""
                            : c == '\\' ? "\\\\"
                            : c == '\b' ? "\\b"
                            : c == '\t' ? "\\t"
                            : c == '\n' ? "\\n"
                            : c == '\f' ? "\\f"
                            : c == '\r' ? "\\r"
                                        : NULL;
        if (!named) {
            snprintf(esc, sizeof esc, "\\u00%c%c", '0' + (c >> 4), "0123456789abcdef"[c & 15]);
            named = esc;
        }
        fm_buf_put(b, named, strlen(named));
    }
    FM_BUF_LIT(b, "\"");
}

/* A REAL as json_object writes it, SQLite's "%!0.15g": 15 significant
 * digits, and a point with a digit after it always ("1500.0", "1.0e+20").
 * Altitudes are -1,000 to 100,000 m (validate.c); test_conflicts compares
 * with SQLite's printf over that range and beyond. */
static void jreal(struct fm_buf *b, int has, double v)
{
    if (!has) {
        FM_BUF_LIT(b, "null");
        return;
    }
    char t[64];
    int n = snprintf(t, sizeof t, "%.15g", v);
    if (n <= 0 || (size_t)n >= sizeof t - 3) {
        FM_BUF_LIT(b, "null");
        return;
    }
    char *e = strchr(t, 'e');
    if (!strchr(t, '.') && isfinite(v)) {
        size_t at = e ? (size_t)(e - t) : (size_t)n;
        memmove(t + at + 2, t + at, (size_t)n - at + 1);
        t[at] = '.';
        t[at + 1] = '0';
        n += 2;
    }
    fm_buf_put(b, t, (size_t)n);
}

/* strftime('%Y-%m-%dT%H:%M:%SZ', t, 'unixepoch'), for the years 0 to
 * 9999 (every time the rules write: RFC 3339 has no others); null
 * beyond. */
static void jtime(struct fm_buf *b, int has, fm_time t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!has || !gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        FM_BUF_LIT(b, "null");
        return;
    }
    /* the digits by hand: snprintf's six %02d were a tenth of the cost
     * of a conflict's text (callgrind) */
    char s[] = "\"YYYY-MM-DDThh:mm:ssZ\"";
    int year = tm.tm_year + 1900;
    const int two[5] = {tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
    for (int i = 4; i >= 1; i--, year /= 10) s[i] = (char)('0' + year % 10);
    for (int i = 0; i < 5; i++) {
        s[6 + 3 * i] = (char)('0' + two[i] / 10);
        s[7 + 3 * i] = (char)('0' + two[i] % 10);
    }
    fm_buf_put(b, s, sizeof s - 1);
}

char *conflict_text(const struct store_conflict *r)
{
    struct fm_buf b;
    fm_buf_init(&b, FM_BUF_UNCAPPED);
    FM_BUF_LIT(&b, "{\"type\":\"Feature\",\"id\":");
    fm_buf_int(&b, r->id);
    FM_BUF_LIT(&b, ",\"geometry\":");
    if (r->geojson)
        fm_buf_put(&b, r->geojson, strlen(r->geojson));
    else
        FM_BUF_LIT(&b, "null");
    FM_BUF_LIT(&b, ",\"properties\":{\"kind\":");
    jstr(&b, r->kind);
    FM_BUF_LIT(&b, ",\"title\":");
    char title[128];
    const char *k = r->kind ? r->kind : "";
    snprintf(title, sizeof title,
             !strcmp(k, "movement_crosses_zone") ? CONFLICT_TITLE_MZ
             : !strcmp(k, "zones_overlap")       ? CONFLICT_TITLE_ZZ
             : !strcmp(k, "incident_in_zone")    ? CONFLICT_TITLE_IZ
                                                 : CONFLICT_TITLE_IM,
             (long long)r->a_id, (long long)r->b_id);
    jstr(&b, title);
    FM_BUF_LIT(&b, ",\"items\":[{\"collection\":");
    jstr(&b, r->a_coll);
    FM_BUF_LIT(&b, ",\"id\":");
    fm_buf_int(&b, r->a_id);
    FM_BUF_LIT(&b, ",\"version\":");
    fm_buf_int(&b, r->a_version);
    FM_BUF_LIT(&b, "},{\"collection\":");
    jstr(&b, r->b_coll);
    FM_BUF_LIT(&b, ",\"id\":");
    fm_buf_int(&b, r->b_id);
    FM_BUF_LIT(&b, ",\"version\":");
    fm_buf_int(&b, r->b_version);
    FM_BUF_LIT(&b, "}],\"interval\":[");
    jtime(&b, r->has_tf, r->t_from);
    FM_BUF_LIT(&b, ",");
    jtime(&b, r->has_tt, r->t_to);
    FM_BUF_LIT(&b, "],\"altitude_band\":[");
    jreal(&b, r->has_af, r->alt_floor);
    FM_BUF_LIT(&b, ",");
    jreal(&b, r->has_ac, r->alt_ceiling);
    FM_BUF_LIT(&b, "],\"severity\":");
    fm_buf_int(&b, r->severity);
    FM_BUF_LIT(&b, ",\"state\":");
    jstr(&b, r->state);
    FM_BUF_LIT(&b, ",\"opened_at\":");
    jtime(&b, 1, r->opened_at);
    FM_BUF_LIT(&b, ",\"updated_at\":");
    jtime(&b, 1, r->updated_at);
    FM_BUF_LIT(&b, ",\"resolved_at\":");
    jtime(&b, r->has_resolved_at, r->resolved_at);
    FM_BUF_LIT(&b, ",\"resolved_by\":");
    jstr(&b, r->resolved_by);
    FM_BUF_LIT(&b, ",\"comment\":");
    jstr(&b, r->comment);
    FM_BUF_LIT(&b, ",\"revision\":");
    fm_buf_int(&b, r->revision);
    FM_BUF_LIT(&b, "}}");
    return fm_buf_take(&b, NULL);
}
