/* test_jcs.c - the RFC 8785 (JCS) canonicaliser (data/jcs.c) against the
 * RFC's own examples and its restriction (integers only), and the exact
 * statement an answer signs (data/keys.c). */
#include "check.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* The JCS text of the JSON text in, or NULL when refused. */
static char *canon(const char *in)
{
    json_error_t jerr;
    json_t *j = json_loads(in, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!j) {
        printf("bad test input %s: %s\n", in, jerr.text);
        return NULL;
    }
    char *out = NULL;
    struct fm_err err;
    if (data_jcs(j, &out, NULL, &err)) out = NULL;
    json_decref(j);
    return out;
}

static void same(const char *in, const char *want)
{
    char *got = canon(in);
    CHECK(got && !strcmp(got, want), "%s: got %s, want %s", in, got ? got : "(refused)", want);
    free(got);
}

static void refused(const char *in)
{
    char *got = canon(in);
    CHECK(!got, "%s: should be refused, got %s", in, got);
    free(got);
}

int main(void)
{
    /* RFC 8785 3.2.3: members sorted by UTF-16 code units (the emoji's
     * high surrogate U+D83D before U+FB33, though its code point is
     * greater), U+0080 written as its UTF-8 bytes */
    same("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter"
         " Dalet With Dagesh\",\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\","
         "\"\\u0080\":\"Control\",\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}",
         "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
         "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
         "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
         "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
    /* RFC 8785 3.2.2.2: string escaping (lower-case hex, '/' and ''' as
     * they are, the short escapes) */
    same("\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\"",
         "\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"");
    same("\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"", "\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"");
    /* no whitespace, nested members sorted, empty containers, literals */
    same(" { \"b\" : [ 1 , { \"d\" : \"x\" , \"c\" : 2 } ] , \"a\" : { } , \"e\" : [ ] } ",
         "{\"a\":{},\"b\":[1,{\"c\":2,\"d\":\"x\"}],\"e\":[]}");
    same("[null,true,false]", "[null,true,false]");
    same("{\"aa\":1,\"a\":2,\"B\":3,\"\":4}", "{\"\":4,\"B\":3,\"a\":2,\"aa\":1}");
    /* integers: exact up to 2^53 - 1, no sign on 0 */
    same("[0,-0,-1,9007199254740991,-9007199254740991]",
         "[0,0,-1,9007199254740991,-9007199254740991]");
    refused("9007199254740992");
    refused("-9007199254740992");
    /* the restriction: no real numbers, even whole ones */
    refused("1.5");
    refused("{\"a\":[1,2.0]}");
    refused("1e3");

    /* the statement an answer signs: this exact text */
    char *st = NULL;
    struct fm_err err;
    CHECK(sig_statement("zones", 12, 3, "{\"type\":\"Feature\"}", "dispute", "too \"close\"",
                        1796600000, "liaison-b", "B", &st, &err) == FM_OK,
          "statement: %s", err.msg);
    char vh[65], ch[65], want[1024];
    sha256_hex("{\"type\":\"Feature\"}", vh);
    sha256_hex("too \"close\"", ch);
    snprintf(want, sizeof want,
             "{\"at\":1796600000,\"collection\":\"zones\",\"comment_sha256\":\"%s\","
             "\"decision\":\"dispute\",\"item\":12,\"party\":\"B\",\"purpose\":\"fusionmap"
             " answer\",\"user\":\"liaison-b\",\"version\":3,\"version_sha256\":\"%s\"}",
             ch, vh);
    CHECK(st && !strcmp(st, want), "statement:\n got %s\nwant %s", st ? st : "", want);
    free(st);
    /* no comment: the digest of the empty text */
    CHECK(sig_statement("zones", 12, 3, "x", "ack", NULL, 1, "u", "B", &st, &err) == FM_OK &&
              strstr(st, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
          "statement without a comment: %s", st ? st : err.msg);
    free(st);
    return SUMMARY();
}
