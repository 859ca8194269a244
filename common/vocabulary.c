/* vocabulary.c - the lists of vocabulary.def as tables (see vocabulary.h). */
#include "vocabulary.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define Z VOCAB_ZONES
#define I VOCAB_INCIDENTS
#define M VOCAB_MOVEMENTS

static const struct vocab_term statuses[] = {
#define STATUS(n, label, colour, line, alpha, disputed, draft, colls) \
    {#n, label, colour, #line, NULL, alpha, colls, disputed, draft},
#include "vocabulary.def"
};
static const struct vocab_term zone_types[] = {
#define ZONE_TYPE(n, label, fill, fill_alpha, look) {#n, label, NULL, #fill, look, fill_alpha, 0, 0, 0},
#include "vocabulary.def"
};
static const struct vocab_term categories[] = {
#define CATEGORY(n, label, symbol, look) {#n, label, NULL, #symbol, look, 0, 0, 0, 0},
#include "vocabulary.def"
};
static const struct vocab_term severities[] = {
#define SEVERITY(value, label, colour) {#value, label, colour, NULL, NULL, 0, 0, 0, 0},
#include "vocabulary.def"
};
static const struct vocab_term movement_kinds[] = {
#define MOVEMENT_KIND(n, label) {#n, label, NULL, NULL, NULL, 0, 0, 0, 0},
#include "vocabulary.def"
};

#define OWNER VOCAB_BY_OWNER
#define ANSWER VOCAB_BY_ANSWER
#define DISPUTE VOCAB_BY_DISPUTE
#define SUPERVISOR VOCAB_BY_SUPERVISOR
/* in SYMBOL rows, C and M name lists, not collections */
#define C VOCAB_CATEGORIES
#undef M
#define M VOCAB_MOVEMENT_KINDS
static const struct {
    enum vocab_list list;
    const char *name, *set, *entity;
} symbols[] = {
#define SYMBOL(list, name, set, entity) {list, #name, set, entity},
#include "vocabulary.def"
};
#undef C
#undef M
#define M VOCAB_MOVEMENTS

int vocab_symbol(enum vocab_list l, const char *name, const char **set, const char **entity)
{
    for (size_t i = 0; name && i < sizeof symbols / sizeof *symbols; i++)
        if (symbols[i].list == l && !strcmp(symbols[i].name, name)) {
            *set = symbols[i].set, *entity = symbols[i].entity;
            return 1;
        }
    return 0;
}

static const struct vocab_step steps[] = {
#define STEP(coll, from, to, by, note) {coll, #from, #to, by, note},
#include "vocabulary.def"
};
static const struct start_row {
    unsigned coll;
    const char *status;
} starts[] = {
#define START(coll, status) {coll, #status},
#include "vocabulary.def"
};

static const struct {
    const struct vocab_term *terms;
    size_t n;
    const char *name;
} lists[VOCAB_LIST_COUNT] = {
    [VOCAB_STATUSES] = {statuses, sizeof statuses / sizeof *statuses, "statuses"},
    [VOCAB_ZONE_TYPES] = {zone_types, sizeof zone_types / sizeof *zone_types, "zone_types"},
    [VOCAB_CATEGORIES] = {categories, sizeof categories / sizeof *categories, "categories"},
    [VOCAB_SEVERITIES] = {severities, sizeof severities / sizeof *severities, "severities"},
    [VOCAB_MOVEMENT_KINDS] = {movement_kinds, sizeof movement_kinds / sizeof *movement_kinds,
                              "movement_kinds"},
};

const struct vocab_term *vocab_terms(enum vocab_list l, size_t *n)
{
    if ((unsigned)l >= VOCAB_LIST_COUNT) {
        *n = 0;
        return NULL;
    }
    *n = lists[l].n;
    return lists[l].terms;
}

const char *vocab_list_name(enum vocab_list l)
{
    return (unsigned)l < VOCAB_LIST_COUNT ? lists[l].name : "?";
}

const struct vocab_term *vocab_find(enum vocab_list l, const char *name)
{
    size_t n;
    const struct vocab_term *t = vocab_terms(l, &n);
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(t[i].name, name) == 0) return &t[i];
    return NULL;
}

/* Rows of a table split by collection: out[c] (rows of width w) gets the
 * names of the rows whose collection bits hold c's, in the table's order,
 * NULL-terminated. rows: n structs of `size` bytes, each with a name and
 * a collection mask at those offsets. */
static void split_by_coll(const void *rows, size_t n, size_t size, size_t name_off,
                          size_t colls_off, const char **out, size_t w)
{
    for (unsigned c = 0; c < 3; c++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            const char *row = (const char *)rows + i * size;
            unsigned colls;
            memcpy(&colls, row + colls_off, sizeof colls);
            if (colls & (1u << c)) memcpy(&out[c * w + k++], row + name_off, sizeof *out);
        }
        out[c * w + k] = NULL;
    }
}

/* The statuses and the start statuses of each collection, NULL-terminated,
 * in the .def's order (filled once, under pthread_once). */
#define NSTATUS (sizeof statuses / sizeof *statuses)
#define NSTART (sizeof starts / sizeof *starts)
static const char *coll_statuses[3][NSTATUS + 1];
static const char *coll_starts[3][NSTART + 1];
static pthread_once_t coll_once = PTHREAD_ONCE_INIT;

static void fill_colls(void)
{
    split_by_coll(statuses, NSTATUS, sizeof *statuses, offsetof(struct vocab_term, name),
                  offsetof(struct vocab_term, colls), &coll_statuses[0][0], NSTATUS + 1);
    split_by_coll(starts, NSTART, sizeof *starts, offsetof(struct start_row, status),
                  offsetof(struct start_row, coll), &coll_starts[0][0], NSTART + 1);
}

static unsigned coll_index(unsigned coll_bit)
{
    pthread_once(&coll_once, fill_colls);
    return coll_bit == VOCAB_ZONES ? 0 : coll_bit == VOCAB_INCIDENTS ? 1 : 2;
}

const char *const *vocab_statuses(unsigned coll_bit)
{
    return coll_statuses[coll_index(coll_bit)];
}

const char *const *vocab_starts(unsigned coll_bit)
{
    return coll_starts[coll_index(coll_bit)];
}

void vocab_join(enum vocab_list l, unsigned coll_bit, char *out, size_t n)
{
    size_t used = 0, count;
    out[0] = '\0';
    if (l == VOCAB_STATUSES) {
        for (const char *const *s = vocab_statuses(coll_bit); *s && used < n; s++)
            used += (size_t)snprintf(out + used, n - used, "%s%s", used ? ", " : "", *s);
        return;
    }
    const struct vocab_term *t = vocab_terms(l, &count);
    for (size_t i = 0; i < count && used < n; i++)
        used += (size_t)snprintf(out + used, n - used, "%s%s", used ? ", " : "", t[i].name);
}

const struct vocab_step *vocab_steps(size_t *n)
{
    *n = sizeof steps / sizeof *steps;
    return steps;
}

const struct vocab_step *vocab_step_find(unsigned coll_bit, const char *from, const char *to)
{
    for (size_t i = 0; from && to && i < sizeof steps / sizeof *steps; i++)
        if (steps[i].coll == coll_bit && !strcmp(steps[i].from, from) && !strcmp(steps[i].to, to))
            return &steps[i];
    return NULL;
}

