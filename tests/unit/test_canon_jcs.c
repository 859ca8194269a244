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

static json_t *record_object(const struct record *r)
{
    return json_pack("{s:I,s:I,s:s,s:s,s:s,s:o,s:o,s:I,s:I,s:o,s:o}", "seq", (json_int_t)r->seq,
                     "at", (json_int_t)r->at, "user", r->user, "party", r->party, "action",
                     r->action, "collection", text_or_null(r->collection), "owner",
                     text_or_null(r->owner), "item", (json_int_t)r->item, "version",
                     (json_int_t)r->version, "before", text_or_null(r->before), "after",
                     text_or_null(r->after));
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

static int export_file(const char *path)
{
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot open %s", path);
    if (!f) return 1;
    char *line = NULL;
    size_t cap = 0;
    long n = 0, differ = 0, refused = 0;
    json_t *kinds = json_object();
    while (getline(&line, &cap, f) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j || !json_object_get(j, "seq")) {
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
        char kind[96];
        snprintf(kind, sizeof kind, "%s %s", r.collection ? r.collection : "-", r.action);
        json_object_set_new(kinds, kind, json_true());
        char *canon = NULL, *jcs = NULL;
        int a = agree(&r, &canon, &jcs);
        n++;
        if (a == 0) {
            differ++;
            size_t at = 0;
            while (canon[at] && canon[at] == jcs[at]) at++;
            size_t from = at > 40 ? at - 40 : 0;
            printf("# record %lld (%s) differs at byte %zu:\n#   jansson ...%.80s\n#   JCS     ...%.80s\n",
                   (long long)r.seq, kind, at, canon + from, jcs + from);
        } else if (a < 0) {
            refused++;
            printf("# record %lld (%s): JCS refuses it\n", (long long)r.seq, kind);
        }
        free(canon);
        free(jcs);
        json_decref(j);
    }
    free(line);
    fclose(f);
    printf("# %ld records of %zu kinds compared:", n, json_object_size(kinds));
    const char *k;
    json_t *yes;
    json_object_foreach(kinds, k, yes) printf(" [%s]", k);
    printf("\n# %ld differ, %ld refused by JCS\n", differ, refused);
    json_decref(kinds);
    CHECK(n > 0, "no records in %s", path);
    CHECK(differ == 0 && refused == 0, "%ld records' jansson text is not their JCS text", differ + refused);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1) export_file(argv[1]);
    else classes();
    return SUMMARY();
}
