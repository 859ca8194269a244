/* vocabulary.h - the words of the situation (statuses, zone types,
 * incident categories and severities, movement kinds), defined once in
 * vocabulary.def and read here by validation (data/validate.c), the API
 * (GET /vocabulary, server/vocabulary.c) and, through the same .def, the
 * tile styles (tiles/style.c). It lives in common/ because tiles/ never
 * includes data/ headers (STYLE.md).
 *
 * Everything is static and read-only: safe from any thread. */
#ifndef FM_VOCABULARY_H
#define FM_VOCABULARY_H

#include <stddef.h>

/* The collections a status belongs to. */
#define VOCAB_ZONES 1u
#define VOCAB_INCIDENTS 2u
#define VOCAB_MOVEMENTS 4u

struct vocab_term {
    const char *name;   /* the stored value ("in_progress"); severities: "1".."5" */
    const char *label;  /* for people ("in progress") */
    const char *colour; /* "#rrggbb", or NULL */
    const char *look;   /* how the server draws it, as in the .def: "DASHED", "HATCH", "STAR"... */
    const char *legend; /* that look in words for legends ("diagonal hatch"), or NULL */
    double alpha;       /* statuses: strength; zone types: fill alpha; else 0 */
    unsigned colls;     /* statuses: VOCAB_ZONES | ...; else 0 */
    int disputed, draft; /* statuses: drawn with the red outline / as a draft */
};

enum vocab_list {
    VOCAB_STATUSES,
    VOCAB_ZONE_TYPES,
    VOCAB_CATEGORIES,
    VOCAB_SEVERITIES,
    VOCAB_MOVEMENT_KINDS,
    VOCAB_LIST_COUNT
};

/* The terms of a list in their defined order; OUT *n their count. */
const struct vocab_term *vocab_terms(enum vocab_list l, size_t *n);
/* Its name in JSON ("zone_types"). */
const char *vocab_list_name(enum vocab_list l);
/* The term called name in list l, or NULL (name may be NULL). */
const struct vocab_term *vocab_find(enum vocab_list l, const char *name);
/* The statuses of one collection (a VOCAB_ZONES... bit), NULL-terminated,
 * in the workflow's order. */
const char *const *vocab_statuses(unsigned coll_bit);
/* The 2525D symbol set and entity of a category (VOCAB_CATEGORIES) or a
 * movement kind (VOCAB_MOVEMENT_KINDS) name: 1 and OUT set, entity (static
 * strings), or 0 when it has none. */
int vocab_symbol(enum vocab_list l, const char *name, const char **set, const char **entity);

/* ---- the workflow ---------------------------------------------------- */

/* Who takes a step (bits): the item's party; another party's
 * acknowledgement; another party's dispute; the supervisor on another
 * party's item. */
#define VOCAB_BY_OWNER 1u
#define VOCAB_BY_ANSWER 2u
#define VOCAB_BY_DISPUTE 4u
#define VOCAB_BY_SUPERVISOR 8u

struct vocab_step {
    unsigned coll;      /* one VOCAB_ZONES... bit */
    const char *from, *to;
    unsigned by;        /* VOCAB_BY_... bits */
    const char *note;   /* a condition in words, or NULL */
};

/* Every step of every collection, in the .def's order; OUT *n. */
const struct vocab_step *vocab_steps(size_t *n);
/* The step from -> to of coll_bit's workflow, or NULL. */
const struct vocab_step *vocab_step_find(unsigned coll_bit, const char *from, const char *to);
/* The statuses a new item of coll_bit may have, default first,
 * NULL-terminated. */
const char *const *vocab_starts(unsigned coll_bit);

/* Names of list l (or of coll_bit's statuses when l is VOCAB_STATUSES)
 * joined by ", " into out (truncated to n). */
void vocab_join(enum vocab_list l, unsigned coll_bit, char *out, size_t n);

#endif
