/* vocabulary.c - GET /vocabulary: the words of the situation (statuses,
 * zone types, incident categories and severities, movement kinds) with
 * their labels, colours and how the server draws them, from
 * common/vocabulary.def. The viewer's forms and legend are built from it;
 * validation and the tile styles read the same list. Public: it holds no
 * data, only the words. */
#include "srv.h"
#include "vocabulary.h"

#include <stdlib.h>

static const char *const look_key[VOCAB_LIST_COUNT] = {
    [VOCAB_STATUSES] = "line",
    [VOCAB_ZONE_TYPES] = "pattern",
    [VOCAB_CATEGORIES] = "symbol",
};

static json_t *term_json(enum vocab_list l, const struct vocab_term *t)
{
    json_t *o = json_object();
    if (l == VOCAB_SEVERITIES) json_object_set_new(o, "value", json_integer(atoi(t->name)));
    else json_object_set_new(o, "name", json_string(t->name));
    json_object_set_new(o, "label", json_string(t->label));
    if (t->colour) json_object_set_new(o, "colour", json_string(t->colour));
    if (t->look && look_key[l]) {
        /* "STRIPES_WIDE" -> "stripes_wide" */
        char low[32];
        size_t i = 0;
        for (; t->look[i] && i < sizeof low - 1; i++)
            low[i] = (char)(t->look[i] >= 'A' && t->look[i] <= 'Z' ? t->look[i] + 32 : t->look[i]);
        low[i] = '\0';
        json_object_set_new(o, look_key[l], json_string(low));
        if (t->legend)
            json_object_set_new(o, "legend", json_sprintf("%s: %s", t->label, t->legend));
    }
    if (l == VOCAB_STATUSES) {
        json_t *colls = json_array();
        static const char *const names[] = {"zones", "incidents", "movements"};
        for (unsigned c = 0; c < 3; c++)
            if (t->colls & (1u << c)) json_array_append_new(colls, json_string(names[c]));
        json_object_set_new(o, "collections", colls);
        json_object_set_new(o, "alpha", json_real(t->alpha));
        json_object_set_new(o, "disputed", json_boolean(t->disputed));
        json_object_set_new(o, "draft", json_boolean(t->draft));
    }
    if (l == VOCAB_ZONE_TYPES) json_object_set_new(o, "fill_alpha", json_real(t->alpha));
    return o;
}

int h_vocabulary(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    json_t *doc = json_object();
    for (int l = 0; l < VOCAB_LIST_COUNT; l++) {
        size_t count;
        const struct vocab_term *t = vocab_terms((enum vocab_list)l, &count);
        json_t *arr = json_array();
        for (size_t i = 0; i < count; i++)
            json_array_append_new(arr, term_json((enum vocab_list)l, &t[i]));
        json_object_set_new(doc, vocab_list_name((enum vocab_list)l), arr);
    }
    return srv_reply_json(r, 200, NULL, doc);
}
