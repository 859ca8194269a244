/* pg.h - the PostgreSQL/PostGIS backend of data/ (store.h), by libpq.
 *
 * It implements the slices of the store interface that have moved out of
 * SQL files (the accounts, the event log, items and their versions, imports,
 * answers, users' signing keys, messages and rulings), one file of this
 * folder per slice (pgint.h: what they share). It is reached only through
 * pg_store_open until every file of data/ has moved: data_open still refuses a postgresql:// URL, since the files
 * whose SQL is SQLite's would be handed this connection. */
#ifndef DATA_PG_H
#define DATA_PG_H

#include "store.h"

/* Connects to url (libpq's postgresql://...), creates the schema when it
 * is missing (PostGIS included), and returns a connection whose store_of
 * is the PostgreSQL store. data_close closes it. */
fm_rc pg_store_open(const char *url, struct data_db **out, struct fm_err *err);

#endif
