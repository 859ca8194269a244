/* store.c - the store's entry (store.h): the backend by the --db
 * argument, the connection's table, and what every backend shares. */
#include "internal.h"
#include "pg/pg.h"
#include "store.h"

#include <string.h>

fm_rc data_open(const char *path, struct data_db **out, struct fm_err *err)
{
    *out = NULL;
    /* the backend by the --db argument's scheme: a URL of libpq's is
     * PostgreSQL; another URL is a mistake, not a file called "http:" */
    if (!strncmp(path, "postgresql://", 13) || !strncmp(path, "postgres://", 11))
        return pg_store_open(path, out, err);
    if (strstr(path, "://"))
        return fm_fail(err, FM_EINVAL, "db",
                       "a URL of an unknown kind: give a SQLite file path or a"
                       " postgresql:// URL");
    return sqlite_store_open(path, out, err);
}

void data_close(struct data_db *db)
{
    if (db) store_of(db)->close(db);
}

const struct store_ops *store_of(const struct data_db *db)
{
    /* every backend's connection starts with its table (C11 6.7.2.1p15:
     * a struct's address is its first member's) */
    return *(const struct store_ops *const *)(const void *)db;
}

/* Bumped after every commit in this process, by any backend. */
static _Atomic uint64_t write_generation;

void store_committed(void)
{
    write_generation++;
}

uint64_t data_write_generation(void)
{
    return write_generation;
}

void data_limits_default(struct data_limits *l)
{
    l->max_vertices = 20000;
    l->max_string_bytes = 16384;
}
