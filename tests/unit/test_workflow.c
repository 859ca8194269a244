/* test_workflow.c - every status step of every collection, legal and
 * illegal, through the real write path: for each pair (from, to) an item
 * is brought to `from` by legal steps, then whoever may take that step
 * (the owner; the supervisor to dispute or to make a zone active) asks for
 * `to`. The answer must be 200 exactly for the steps of the table below,
 * written from DESIGN.md's workflow, and 409 for every other; withdrawal
 * works from every live status. Then the supervisor's powers over another
 * party's item: for every pair, 200 exactly for the rows of the table of
 * those powers, 409 for every other, and after every allowed step the
 * item is still seen by the other side and by a viewer. */
#include "check.h"
#include "data.h"
#include "internal.h" /* the list of ended statuses */
#include "vocabulary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* DESIGN.md: zone draft -> proposed -> active -> expired | withdrawn, or
 * disputed; incident reported -> acknowledged -> under_review -> resolved
 * | disputed; movement notified -> acknowledged -> in_progress ->
 * completed | cancelled, or disputed. Plus the ways back that a real
 * cell needs (a proposal back to draft, a dispute settled, a changed zone
 * proposed again). */
static const char *const legal[][3] = {
    {"zones", "draft", "proposed"},          {"zones", "proposed", "draft"},
    {"zones", "proposed", "active"},         {"zones", "proposed", "disputed"},
    {"zones", "active", "expired"},          {"zones", "active", "disputed"},
    {"zones", "active", "proposed"},         {"zones", "disputed", "proposed"},
    {"zones", "disputed", "active"},
    {"incidents", "draft", "reported"},      {"incidents", "reported", "acknowledged"},
    {"incidents", "reported", "disputed"},   {"incidents", "acknowledged", "under_review"},
    {"incidents", "acknowledged", "resolved"}, {"incidents", "acknowledged", "disputed"},
    {"incidents", "under_review", "resolved"}, {"incidents", "under_review", "disputed"},
    {"incidents", "disputed", "under_review"}, {"incidents", "disputed", "resolved"},
    {"movements", "draft", "notified"},      {"movements", "notified", "acknowledged"},
    {"movements", "notified", "disputed"},   {"movements", "notified", "cancelled"},
    {"movements", "acknowledged", "in_progress"}, {"movements", "acknowledged", "cancelled"},
    {"movements", "acknowledged", "disputed"}, {"movements", "in_progress", "completed"},
    {"movements", "in_progress", "disputed"}, {"movements", "in_progress", "cancelled"},
    {"movements", "disputed", "notified"},   {"movements", "disputed", "cancelled"},
};
#define NLEGAL (sizeof legal / sizeof *legal)

static int is_legal(const char *coll, const char *from, const char *to)
{
    for (size_t i = 0; i < NLEGAL; i++)
        if (!strcmp(legal[i][0], coll) && !strcmp(legal[i][1], from) && !strcmp(legal[i][2], to))
            return 1;
    return 0;
}

static struct data_db *db;
static struct data_viewer owner, sup, other, viewer;

/* The supervisor's steps on another party's item (issue 17): dispute, and
 * settle a dispute or a proposal to a status everyone sees; never a draft,
 * a withdrawal or a cancellation. */
static const char *const sup_legal[][3] = {
    {"zones", "proposed", "disputed"},        {"zones", "active", "disputed"},
    {"zones", "proposed", "active"},          {"zones", "disputed", "active"},
    {"zones", "disputed", "proposed"},        {"incidents", "reported", "disputed"},
    {"incidents", "acknowledged", "disputed"}, {"incidents", "under_review", "disputed"},
    {"incidents", "disputed", "under_review"}, {"incidents", "disputed", "resolved"},
    {"movements", "notified", "disputed"},    {"movements", "acknowledged", "disputed"},
    {"movements", "in_progress", "disputed"}, {"movements", "disputed", "notified"},
};
#define NSUP (sizeof sup_legal / sizeof *sup_legal)

static int sup_may(const char *coll, const char *from, const char *to)
{
    for (size_t i = 0; i < NSUP; i++)
        if (!strcmp(sup_legal[i][0], coll) && !strcmp(sup_legal[i][1], from) &&
            !strcmp(sup_legal[i][2], to))
            return 1;
    return 0;
}
static struct data_limits lim;

static const char *const geometry[DATA_COLL_COUNT] = {
    "{\"type\":\"Polygon\",\"coordinates\":[[[35.1,32.1],[35.2,32.1],[35.2,32.2],[35.1,32.1]]]}",
    "{\"type\":\"Point\",\"coordinates\":[35.15,32.15]}",
    "{\"type\":\"LineString\",\"coordinates\":[[35.1,32.1],[35.2,32.2]]}",
};

/* The shortest legal path from the first status to `to`, as statuses. */
static int path_to(const char *coll, const char *start, const char *to, const char **out, int max)
{
    const char *queue[32], *prev_of[32][2];
    int nq = 0, nprev = 0;
    queue[nq++] = start;
    for (int h = 0; h < nq; h++) {
        const char *s = queue[h];
        if (!strcmp(s, to)) {
            int n = 0;
            const char *cur = to;
            while (cur && strcmp(cur, start) != 0 && n < max) {
                out[n++] = cur;
                const char *p = NULL;
                for (int i = 0; i < nprev; i++)
                    if (!strcmp(prev_of[i][0], cur)) p = prev_of[i][1];
                cur = p;
            }
            for (int i = 0; i < n / 2; i++) {
                const char *t = out[i];
                out[i] = out[n - 1 - i];
                out[n - 1 - i] = t;
            }
            return n;
        }
        for (size_t i = 0; i < NLEGAL; i++) {
            if (strcmp(legal[i][0], coll) || strcmp(legal[i][1], s)) continue;
            int seen = 0;
            for (int j = 0; j < nq; j++) seen |= !strcmp(queue[j], legal[i][2]);
            if (seen || nq == 32) continue;
            queue[nq++] = legal[i][2];
            prev_of[nprev][0] = legal[i][2];
            prev_of[nprev][1] = s;
            nprev++;
        }
    }
    return -1;
}

static json_t *status_patch(const char *status)
{
    return json_pack("{s:{s:s}}", "properties", "status", status);
}

/* Creates a draft of c owned by `owner`; OUT *version. */
static int64_t new_draft(enum data_coll c, int64_t *version)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"type\":\"Feature\",\"geometry\":%s,\"properties\":{\"status\":\"draft\"}}",
             geometry[c]);
    json_t *f = json_loads(text, 0, NULL), *out = NULL;
    struct fm_err err;
    fm_rc rc = data_item_create(db, &owner, c, f, &lim, &out, &err);
    json_decref(f);
    int64_t id = rc ? 0 : json_integer_value(json_object_get(out, "id"));
    *version = 1;
    json_decref(out);
    return id;
}

/* One step by who; returns the rc. */
static fm_rc step_by(const struct data_viewer *who, enum data_coll c, int64_t id,
                     int64_t *version, const char *to, struct fm_err *err)
{
    json_t *patch = status_patch(to), *out = NULL;
    fm_rc rc = data_item_patch(db, who, c, id, *version, patch, &lim, &out, err);
    if (!rc) *version = json_integer_value(json_object_get(json_object_get(out, "properties"), "version"));
    json_decref(patch);
    json_decref(out);
    return rc;
}

/* One step by whoever may take it: the supervisor disputes and makes a
 * zone active (no acknowledgement needed); the owner takes every other. */
static fm_rc step(enum data_coll c, int64_t id, int64_t *version, const char *from,
                  const char *to, struct fm_err *err)
{
    int sup_step = (!strcmp(to, "disputed") || (c == DATA_ZONES && !strcmp(to, "active"))) &&
                   strcmp(from, "draft") != 0;
    return step_by(sup_step ? &sup : &owner, c, id, version, to, err);
}

/* A new draft of c brought to `from` by legal steps; 0 on failure. */
static int64_t item_at(enum data_coll c, const char *from, int64_t *version)
{
    const char *coll = data_coll_name(c), *path[16];
    int n = path_to(coll, "draft", from, path, 16);
    int64_t id = n < 0 ? 0 : new_draft(c, version);
    const char *cur = "draft";
    struct fm_err err;
    for (int k = 0; id && k < n; k++) {
        fm_err_clear(&err);
        if (step(c, id, version, cur, path[k], &err) != FM_OK) {
            CHECK(0, "%s: reaching %s by %s -> %s: %s", coll, from, cur, path[k], err.msg);
            return 0;
        }
        cur = path[k];
    }
    return id;
}

/* Every pair (from, to) asked by the supervisor of another party's item:
 * 200 exactly for the table's rows, 409 naming the allowed steps for
 * every other, and nothing it does hides the item from anyone. */
static int supervisor_table(void)
{
    int rows = 0;
    for (int c = 0; c < DATA_COLL_COUNT; c++) {
        const char *coll = data_coll_name((enum data_coll)c);
        const char *const *st = data_coll_statuses((enum data_coll)c);
        for (int i = 0; st[i]; i++) {
            if (!strcmp(st[i], "withdrawn") || !strcmp(st[i], "draft")) continue;
            for (int j = 0; st[j]; j++) {
                const char *from = st[i], *to = st[j];
                int64_t version, id = item_at((enum data_coll)c, from, &version);
                if (!id) continue;
                struct fm_err err;
                fm_err_clear(&err);
                fm_rc rc = step_by(&sup, (enum data_coll)c, id, &version, to, &err);
                if (sup_may(coll, from, to)) {
                    rows++;
                    CHECK(rc == FM_OK, "the supervisor may take %s from %s to %s: got %s (%s)",
                          coll, from, to, fm_rc_str(rc), err.msg);
                } else {
                    CHECK(rc == FM_ECONFLICT && (strstr(err.msg, "supervisor may take") ||
                                                  strstr(err.msg, "allowed")),
                          "the supervisor may not take %s from %s to %s: got %s (%s)", coll,
                          from, to, fm_rc_str(rc), err.msg);
                }
                const struct data_viewer *all[] = {&owner, &other, &sup, &viewer};
                for (size_t k = 0; k < sizeof all / sizeof *all; k++) {
                    json_t *f = NULL;
                    rc = data_item_get(db, all[k], (enum data_coll)c, id, &f, &err);
                    CHECK(rc == FM_OK, "%s %s -> %s by the supervisor: %s still sees it (%s)",
                          coll, from, to, all[k]->user, err.msg);
                    json_decref(f);
                }
            }
        }
    }
    return rows;
}

/* The table served (GET /vocabulary, and taken by the write path) is
 * vocabulary.def's STEP rows: it must be exactly this file's tables,
 * which the loops below hold the write path to: every legal step a row,
 * the supervisor's rows exactly sup_legal, the owner's every legal step
 * but the dispute, the answers' the three acknowledgements. */
static void served_table(void)
{
    static const char *const acked[][3] = {{"zones", "proposed", "active"},
                                           {"incidents", "reported", "acknowledged"},
                                           {"movements", "notified", "acknowledged"}};
    size_t n;
    const struct vocab_step *s = vocab_steps(&n);
    CHECK(n == NLEGAL, "vocabulary.def has %zu steps, DESIGN.md's table %zu", n, NLEGAL);
    for (size_t i = 0; i < n; i++) {
        const char *coll = s[i].coll == VOCAB_ZONES       ? "zones"
                           : s[i].coll == VOCAB_INCIDENTS ? "incidents"
                                                          : "movements";
        int to_disputed = !strcmp(s[i].to, "disputed"), ack = 0;
        for (size_t k = 0; k < 3; k++)
            ack |= !strcmp(acked[k][0], coll) && !strcmp(acked[k][1], s[i].from) &&
                   !strcmp(acked[k][2], s[i].to);
        CHECK(is_legal(coll, s[i].from, s[i].to), "the served step %s %s -> %s is legal", coll,
              s[i].from, s[i].to);
        CHECK(!!(s[i].by & VOCAB_BY_SUPERVISOR) == sup_may(coll, s[i].from, s[i].to),
              "the served step %s %s -> %s is the supervisor's exactly when the table says",
              coll, s[i].from, s[i].to);
        CHECK(!!(s[i].by & VOCAB_BY_OWNER) == !to_disputed,
              "the served step %s %s -> %s is the owner's exactly when it is no dispute", coll,
              s[i].from, s[i].to);
        CHECK(!!(s[i].by & VOCAB_BY_DISPUTE) == to_disputed,
              "the served step %s %s -> %s is a dispute's exactly when it goes to disputed",
              coll, s[i].from, s[i].to);
        CHECK(!!(s[i].by & VOCAB_BY_ANSWER) == ack,
              "the served step %s %s -> %s is an acknowledgement's exactly when it is one", coll,
              s[i].from, s[i].to);
    }
}

int main(void)
{
    served_table();
    char dir[] = "/tmp/fm-test-workflow-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char file[64];
    snprintf(file, sizeof file, "%s/t.db", dir);
    struct fm_err err;
    int created;
    if (data_open(file, &db, &err) || data_demo_seed(db, &created, &err)) return 1;
    data_user_check(db, "liaison-a", "liaison-a", &owner, &err);
    data_user_check(db, "supervisor", "supervisor", &sup, &err);
    data_user_check(db, "liaison-b", "liaison-b", &other, &err);
    data_user_check(db, "viewer", "viewer", &viewer, &err);
    data_limits_default(&lim);
    int pairs = 0, legal_seen = 0;
    for (int c = 0; c < DATA_COLL_COUNT; c++) {
        const char *coll = data_coll_name((enum data_coll)c);
        const char *const *st = data_coll_statuses((enum data_coll)c);
        for (int i = 0; st[i]; i++) {
            if (!strcmp(st[i], "withdrawn")) continue;
            for (int j = 0; st[j]; j++) {
                if (i == j) continue;
                const char *from = st[i], *to = st[j];
                const char *path[16];
                int n = path_to(coll, "draft", from, path, 16);
                if (n < 0) continue; /* not reachable: nothing to ask */
                int64_t version, id = new_draft((enum data_coll)c, &version);
                const char *cur = "draft";
                int ok = id > 0;
                for (int k = 0; ok && k < n; k++) {
                    ok = step((enum data_coll)c, id, &version, cur, path[k], &err) == FM_OK;
                    CHECK(ok, "%s: reaching %s by %s -> %s: %s", coll, from, cur, path[k], err.msg);
                    cur = path[k];
                }
                if (!ok) continue;
                pairs++;
                fm_err_clear(&err);
                fm_rc rc = step((enum data_coll)c, id, &version, from, to, &err);
                if (!strcmp(to, "withdrawn")) {
                    /* withdrawal is the owner's DELETE, from any live status */
                    rc = data_item_withdraw(db, &owner, (enum data_coll)c, id, version, &err);
                    CHECK(rc == FM_OK, "%s: withdraw from %s: %s", coll, from, err.msg);
                } else if (is_legal(coll, from, to)) {
                    legal_seen++;
                    CHECK(rc == FM_OK, "%s: %s -> %s is legal but got %s (%s)", coll, from, to,
                          fm_rc_str(rc), err.msg);
                } else {
                    CHECK(rc == FM_ECONFLICT,
                          "%s: %s -> %s is illegal but got %s (%s)", coll, from, to,
                          fm_rc_str(rc), err.msg);
                    CHECK(rc != FM_ECONFLICT || strstr(err.msg, "allowed") ||
                              strstr(err.msg, "dispute") || strstr(err.msg, "acknowledged"),
                          "%s: %s -> %s refused without saying why: %s", coll, from, to, err.msg);
                }
            }
        }
    }
    CHECK(legal_seen == (int)NLEGAL, "every legal step was tried: %d of %zu", legal_seen, NLEGAL);
    printf("workflow: %d (from, to) pairs tried, %d legal\n", pairs, legal_seen);
    /* the ended statuses are one list, for C and for SQL alike */
    CHECK(!strcmp(ENDED_STATUSES_SQL, "('withdrawn','expired','resolved','completed','cancelled')"),
          "ENDED_STATUSES_SQL is the list: %s", ENDED_STATUSES_SQL);
    static const char *const ended[] = {"withdrawn", "expired", "resolved", "completed",
                                        "cancelled"};
    for (size_t i = 0; i < sizeof ended / sizeof *ended; i++)
        CHECK(!item_status_live(ended[i]), "%s is an ended status", ended[i]);
    static const char *const live[] = {"draft", "proposed", "active", "disputed", "reported",
                                       "acknowledged", "under_review", "notified", "in_progress"};
    for (size_t i = 0; i < sizeof live / sizeof *live; i++)
        CHECK(item_status_live(live[i]), "%s is a live status", live[i]);
    int sup_rows = supervisor_table();
    CHECK(sup_rows == (int)NSUP, "every row of the supervisor's table was tried: %d of %zu",
          sup_rows, NSUP);
    printf("supervisor: %d of %zu rows allowed as the table says\n", sup_rows, NSUP);
    data_close(db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
    return SUMMARY();
}
