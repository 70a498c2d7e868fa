/*
 * DATABASE_URL: the SQLAlchemy-style URL parsed into what a backend needs to
 * connect. The store sees this, never struct config.
 */
#ifndef PETL_DB_URL_H
#define PETL_DB_URL_H

#include "common.h"
#include "err.h"

enum db_kind { DB_KIND_NONE = 0, DB_KIND_SQLITE = 1, DB_KIND_MYSQL = 2 };

/* A parsed SQLAlchemy-style DATABASE_URL. All strings owned; NULL when absent. */
struct db_url {
    enum db_kind kind;
    char *scheme; /* as written: "mysql+pymysql", "sqlite", ... */
    char *user;
    char *password; /* secret: never print */
    char *host;     /* NULL when only a unix socket is given */
    unsigned port;  /* 0 = driver default (3306) */
    char *database;
    char *unix_socket; /* ?unix_socket=/cloudsql/PROJECT:REGION:INSTANCE */
    char *charset;     /* ?charset=, default utf8mb4 */
    char *ssl_ca;      /* ?ssl_ca= */
    char *ssl_cert;    /* ?ssl_cert= */
    char *ssl_key;     /* ?ssl_key= */
    bool ssl;          /* TLS required (?ssl=true, ?ssl_mode=REQUIRED, or any ssl_* file) */
    bool ssl_verify;   /* verify server certificate (?ssl_verify_cert=true / ssl_mode=VERIFY_*) */
    unsigned connect_timeout_s; /* ?connect_timeout=, 0 = backend default */
    char *path;                 /* sqlite: file path, or ":memory:" for sqlite:// */
};

/* Parses s into u (zeroed first). Errors never quote the password. */
enum err_code db_url_parse(const char *s, struct db_url *u, struct err *e) MUST_CHECK;
void db_url_release(struct db_url *u);
/* The URL with the password replaced by "***". Owned, free(). */
char *db_url_redacted(const char *s);

#endif
