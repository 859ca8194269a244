/* visibility.c - who sees what (DESIGN.md, "Visibility rule"), the one
 * place of that rule, and which items are live, above the store: no SQL. internal.h says the rule in
 * words; SQL reads the answers kept with each version and record. */
#include "internal.h"

#include <string.h>

const char *viewer_draft_party(const struct data_viewer *v)
{
    return v->role == DATA_ROLE_VIEWER || v->role == DATA_ROLE_NONE ? NULL : v->party;
}

int vis_owner_only(const char *status, int prev_owner_only)
{
    if (!strcmp(status, "draft")) return 1;
    return !strcmp(status, "withdrawn") && prev_owner_only;
}

int vis_may_see(const struct data_viewer *v, const char *party, int owner_only)
{
    if (!owner_only) return 1;
    const char *vp = viewer_draft_party(v);
    return vp && strcmp(vp, party) == 0;
}

int vis_owner_has(const char *owner, const char *party)
{
    if (!owner || !party || !*party) return 0;
    if (!strchr(owner, ',')) return strcmp(owner, party) == 0;
    /* a list: a party whose code holds a comma is never one of its names */
    if (strchr(party, ',')) return 0;
    size_t n = strlen(party);
    for (const char *p = owner;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !strncmp(p, party, n)) return 1;
        if (!end) return 0;
        p = end + 1;
    }
}

int vis_may_read(const struct data_viewer *v, const char *readers)
{
    return !readers || vis_owner_has(readers, viewer_draft_party(v));
}

#define ENDED_C_STR_(s) s
#define ENDED_C_COMMA_ ,

int item_status_live(const char *status)
{
    static const char *const ended[] = {ITEM_ENDED_STATUSES(ENDED_C_STR_, ENDED_C_COMMA_), NULL};
    for (const char *const *e = ended; *e; e++)
        if (!strcmp(status, *e)) return 0;
    return 1;
}
