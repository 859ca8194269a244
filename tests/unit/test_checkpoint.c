/* test_checkpoint.c - WAL checkpoints off the write path (data/sqlite/checkpoint.c):
 * while a checkpointer runs, writers that take the log past its mark leave
 * the copy to it and the database file still receives their pages; once
 * it stops, writers checkpoint inline again, as SQLite does by default;
 * the store reads back whole either way. */
#include "check.h"
#include "sqlite/sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* n zones, each with a 12 KB description: some 10 pages a write. */
static int write_zones(struct data_db *db, const struct data_viewer *v, int n)
{
    static char desc[12 * 1024];
    memset(desc, 'x', sizeof desc - 1);
    struct data_limits lim;
    data_limits_default(&lim);
    int done = 0;
    for (int i = 0; i < n; i++) {
        json_t *f = json_pack(
            "{s:s,s:{s:s,s:[[[f,f],[f,f],[f,f],[f,f]]]},s:{s:s,s:s,s:s}}", "type", "Feature",
            "geometry", "type", "Polygon", "coordinates", 35.0 + i * 0.001, 32.0, 35.0005 + i * 0.001,
            32.0, 35.0005 + i * 0.001, 32.0005, 35.0 + i * 0.001, 32.0, "properties", "title", "z",
            "type", "buffer", "description", desc);
        json_t *out = NULL;
        struct fm_err err;
        if (data_item_create(db, v, DATA_ZONES, f, &lim, &out, &err) == FM_OK)
            done++;
        else
            printf("# create: %s\n", err.msg);
        json_decref(f);
        json_decref(out);
    }
    return done;
}

int main(void)
{
    char dir[] = "/tmp/fm-test-checkpoint-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char path[96], cmd[160];
    snprintf(path, sizeof path, "%s/c.db", dir);
    struct fm_err err;
    struct data_db *db;
    struct data_viewer a;
    int created;
    CHECK(data_open(path, &db, &err) == FM_OK, "open: %s", err.msg);
    CHECK(data_demo_seed(db, &created, &err) == FM_OK, "seed: %s", err.msg);
    CHECK(data_user_check(db, "liaison-a", "liaison-a", &a, &err) == FM_OK, "login");

    struct data_checkpointer *c;
    CHECK(data_checkpointer_start(path, &c, &err) == FM_OK, "start: %s", err.msg);
    long before = file_size(path), inline_before = db_inline_checkpoints;
    CHECK(write_zones(db, &a, 150) == 150, "150 writes with the checkpointer");
    long grown = before;
    for (int i = 0; i < 100 && grown <= before; i++) {
        usleep(50 * 1000);
        grown = file_size(path);
    }
    CHECK(grown > before, "the database file received the log's pages (%ld -> %ld bytes)", before,
          grown);
    CHECK(db_inline_checkpoints == inline_before,
          "no writer checkpointed in its commit (%ld did)", db_inline_checkpoints - inline_before);
    data_checkpointer_free(c);
    data_checkpointer_free(NULL);

    CHECK(write_zones(db, &a, 150) == 150, "150 writes without");
    CHECK(db_inline_checkpoints > inline_before, "without it, writers checkpoint inline again");

    int64_t bad = -1, count = 0;
    CHECK(data_events_verify(db, &bad, &count, &err) == FM_OK && bad == 0 && count > 300,
          "the log holds and verifies (%lld records)", (long long)count);
    data_close(db);
    CHECK(data_open(path, &db, &err) == FM_OK, "reopen: %s", err.msg);
    CHECK(data_events_verify(db, &bad, &count, &err) == FM_OK && bad == 0 && count > 300,
          "and after reopening");
    data_close(db);
    CHECK(data_checkpointer_start("/nonexistent/dir/x.db", &c, &err) != FM_OK && !c,
          "a checkpointer for a file that cannot be opened is refused");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
    return SUMMARY();
}
