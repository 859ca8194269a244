/* pg.h - the PostgreSQL/PostGIS backend of data/ (store.h), by libpq.
 *
 * It implements the slices of the store interface that have moved out of
 * SQL files (the accounts, the event log, items and their versions, imports,
 * answers, users' signing keys, messages and rulings, the picture, the
 * queries, the conflicts), one file of this folder per slice (pgint.h:
 * what they share). data_open reaches it for a postgresql:// URL. Not yet
 * on it: CQL2 filters and sorts (SQLite's dialect), and verify's replay of
 * the tables against the log (replay.c), which it skips with a warning. */
#ifndef DATA_PG_H
#define DATA_PG_H

#include "store.h"

/* Connects to url (libpq's postgresql://...), creates the schema when it
 * is missing (PostGIS included), and returns a connection whose store_of
 * is the PostgreSQL store. data_close closes it. */
fm_rc pg_store_open(const char *url, struct data_db **out, struct fm_err *err);

#endif
