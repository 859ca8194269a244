/* test_canon_jcs.c - is the chain's canonical record (events.c: jansson's
 * sorted compact JSON, on which every existing chain is hashed) the same
 * text as RFC 8785's (jcs.c)? Issue 20 asked for records canonical as
 * JCS; this measures where the two differ before anything is changed.
 *
 * Without an argument: records made of each class of character and of
 * the integers a record holds; the two must agree on all but the nine
 * control characters whose \u00XX escape holds a hex letter (0x0B, 0x0E,
 * 0x0F, 0x1A-0x1F), which jansson writes in upper case and JCS in lower
 * case (the one known difference, asserted here so that a change of
 * either shows), and 2^53 and beyond, which jcs.c refuses. With an export (`fusionmap
 * events export`) as argument: every record in it, which must all agree
 * (tests/e2e/canon_jcs.sh makes one with every record kind the server
 * writes). */
#include "check.h"

#include "../../data/events.c"

#include <stdlib.h>

/* The object of the record's hashed fields: the export's (events.c's
 * record_json) without the two hashes, not a copy of its field list. */
static json_t *record_object(const struct record *r)
{
    json_t *o = record_json(r, "", "");
    json_object_del(o, "prev_hash");
    json_object_del(o, "hash");
    return o;
}

/* 1 when both canonical texts are the same; -1 when JCS refuses. */
static int agree(const struct record *r, char **canon_out, char **jcs_out)
{
    struct fm_buf b;
    fm_buf_init(&b, FM_BUF_UNCAPPED);
    int bad = canon_record(&b, r);
    char *canon = bad ? NULL : fm_buf_take(&b, NULL);
    if (bad) fm_buf_cleanup(&b);
    json_t *o = record_object(r);
    char *jcs = NULL;
    struct fm_err err;
    int rc = o && data_jcs(o, &jcs, NULL, &err) == FM_OK ? (canon && !strcmp(canon, jcs)) : -1;
    json_decref(o);
    if (canon_out) *canon_out = canon;
    else free(canon);
    if (jcs_out) *jcs_out = jcs;
    else free(jcs);
    return rc;
}

/* escaped as \u00XX with a hex letter in it: 0x0B, 0x0E, 0x0F, 0x1A-0x1F */
static int control_differs(unsigned c)
{
    return c < 0x20 && c != '\b' && c != '\t' && c != '\n' && c != '\f' && c != '\r' &&
           (c & 15) >= 10;
}

static void classes(void)
{
    static const char *const kinds[] = {
        "plain ASCII", "a/b/c", "\"quoted\"", "back\\slash", "caf\xc3\xa9", "\xd7\xa9\xd7\x9c",
        "\xe2\x82\xac 20", "line\xe2\x80\xa8sep", "\xf0\x9f\x9a\x81", "del\x7f", "\\u0041",
        "{\"type\":\"Feature\",\"properties\":{\"title\":\"Z\\u00f4ne \\u0001\"}}"};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        struct record r = {.seq = 1, .at = 1796686406, .user = kinds[i], .party = "A",
                           .action = "create", .collection = "zones", .owner = kinds[i],
                           .item = 12, .version = 3, .before = NULL, .after = kinds[i]};
        CHECK(agree(&r, NULL, NULL) == 1, "text class %zu (%s): jansson and JCS differ", i, kinds[i]);
    }
    int differ = 0;
    for (unsigned c = 1; c < 0x20; c++) {
        char s[4] = {'x', (char)c, 'y', 0};
        struct record r = {.seq = 1, .at = 0, .user = "u", .party = "A", .action = "message",
                           .after = s};
        char *canon = NULL, *jcs = NULL;
        int a = agree(&r, &canon, &jcs);
        CHECK(a == (control_differs(c) ? 0 : 1), "control 0x%02x: agree=%d (%s | %s)", c, a,
              canon, jcs);
        if (!a) differ++;
        free(canon);
        free(jcs);
    }
    printf("# %d of the 31 control characters are written differently (upper- vs lower-case"
           " \\u00XX: 0x0B, 0x0E, 0x0F, 0x1A-0x1F)\n", differ);
    CHECK(differ == 9, "%d control characters differ, not 9", differ);
    static const int64_t ints[] = {0, 1, -1, 1796686406, 1796686406123, 9007199254740991LL};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        struct record r = {.seq = ints[i], .at = ints[i], .user = "u", .party = "A",
                           .action = "a", .item = ints[i], .version = ints[i]};
        CHECK(agree(&r, NULL, NULL) == 1, "integer %lld: the texts differ", (long long)ints[i]);
    }
    struct record big = {.seq = 9007199254740992LL, .user = "u", .party = "A", .action = "a"};
    CHECK(agree(&big, NULL, NULL) == -1, "2^53: JCS (jcs.c) refuses it, jansson writes it");
}

struct compared {
    json_t *kinds;
    long n, differ, refused;
};

/* One record of the export, as events.c's read_export reads it for
 * `events verify --file`: its canonical text against JCS's. */
static int64_t compare_record(void *ctx, const struct record *r, const char *prev,
                              const char *hash, struct fm_err *err)
{
    (void)prev, (void)hash, (void)err;
    struct compared *x = ctx;
    char kind[96];
    snprintf(kind, sizeof kind, "%s %s", r->collection ? r->collection : "-", r->action);
    json_object_set_new(x->kinds, kind, json_true());
    char *canon = NULL, *jcs = NULL;
    int a = agree(r, &canon, &jcs);
    x->n++;
    if (a == 0) {
        x->differ++;
        size_t at = 0;
        while (canon[at] && canon[at] == jcs[at]) at++;
        size_t from = at > 40 ? at - 40 : 0;
        printf("# record %lld (%s) differs at byte %zu:\n#   jansson ...%.80s\n#   JCS     ...%.80s\n",
               (long long)r->seq, kind, at, canon + from, jcs + from);
    } else if (a < 0) {
        x->refused++;
        printf("# record %lld (%s): JCS refuses it\n", (long long)r->seq, kind);
    }
    free(canon);
    free(jcs);
    return 0;
}

static int export_file(const char *path)
{
    struct compared x = {.kinds = json_object()};
    int64_t count, bad;
    struct fm_err err;
    err.msg[0] = 0;
    fm_rc rc = read_export(path, compare_record, &x, &count, &bad, &err);
    CHECK(rc == FM_OK && bad == 0, "%s is not a whole export: %s", path, err.msg);
    printf("# %ld records of %zu kinds compared:", x.n, json_object_size(x.kinds));
    const char *k;
    json_t *yes;
    json_object_foreach(x.kinds, k, yes) printf(" [%s]", k);
    printf("\n# %ld differ, %ld refused by JCS\n", x.differ, x.refused);
    json_decref(x.kinds);
    CHECK(x.n > 0, "no records in %s", path);
    CHECK(x.differ == 0 && x.refused == 0, "%ld records' jansson text is not their JCS text",
          x.differ + x.refused);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1) export_file(argv[1]);
    else classes();
    return SUMMARY();
}
