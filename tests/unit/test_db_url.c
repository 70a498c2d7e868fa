/* DATABASE_URL: SQLAlchemy forms, Cloud SQL sockets, SQLite paths, hostile input, redaction. */
#include "common.h"

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct db_url parse_ok(const char *s)
{
    struct db_url u = {0};
    struct err e = ERR_INIT;
    if (db_url_parse(s, &u, &e) != ERR_OK)
        fail_msg("'%s' rejected: %s", s, e.msg);
    return u;
}

/* Expects rejection with a message containing want and never the secret (if given). */
static void assert_rejected(const char *s, const char *want, const char *secret)
{
    struct db_url u = {0};
    struct err e = ERR_INIT;
    assert_int_equal(db_url_parse(s, &u, &e), ERR_CONFIG);
    if (!strstr(e.msg, want))
        fail_msg("'%s': message '%s' lacks '%s'", s, e.msg, want);
    if (secret && strstr(e.msg, secret))
        fail_msg("'%s': message '%s' reveals the password", s, e.msg);
    /* a failed parse leaves nothing allocated */
    assert_null(u.scheme);
    assert_null(u.password);
    assert_int_equal(u.kind, DB_KIND_NONE);
}

static void test_mysql_schemes(void **state)
{
    (void)state;
    const char *schemes[] = {"mysql",         "mysql+pymysql",
                             "mysql+mysqldb", "mysql+mysqlconnector",
                             "mariadb",       "mariadb+mariadbconnector"};
    for (size_t i = 0; i < ARRAY_LEN(schemes); i++) {
        char *url = xasprintf("%s://etl:pw@db.example.com:3307/patitas", schemes[i]);
        struct db_url u = parse_ok(url);
        assert_int_equal(u.kind, DB_KIND_MYSQL);
        assert_string_equal(u.scheme, schemes[i]);
        assert_string_equal(u.user, "etl");
        assert_string_equal(u.password, "pw");
        assert_string_equal(u.host, "db.example.com");
        assert_int_equal(u.port, 3307);
        assert_string_equal(u.database, "patitas");
        assert_string_equal(u.charset, "utf8mb4");
        assert_null(u.unix_socket);
        assert_false(u.ssl);
        db_url_release(&u);
        free(url);
    }
}

static void test_percent_encoded_password(void **state)
{
    (void)state;
    struct db_url u = parse_ok("mysql+pymysql://etl:p%40ss%3Aw0rd@10.0.0.5/patitas");
    assert_string_equal(u.password, "p@ss:w0rd");
    assert_string_equal(u.host, "10.0.0.5");
    assert_int_equal(u.port, 0);
    db_url_release(&u);
    u = parse_ok("mysql://us%65r:%2F%3F%23%25@h/db");
    assert_string_equal(u.user, "user");
    assert_string_equal(u.password, "/?#%");
    db_url_release(&u);
    /* no password at all, and an empty one */
    u = parse_ok("mysql://root@localhost/db");
    assert_string_equal(u.user, "root");
    assert_null(u.password);
    db_url_release(&u);
    u = parse_ok("mysql://root:@localhost/db");
    assert_string_equal(u.password, "");
    db_url_release(&u);
    u = parse_ok("mysql://localhost/db");
    assert_null(u.user);
    db_url_release(&u);
}

static void test_raw_special_chars_in_password(void **state)
{
    (void)state;
    /* as SQLAlchemy allows: '@', '/', '?' and ':' unencoded in the password */
    struct db_url u = parse_ok("mysql://etl:p@ss/w?rd:x@db.local:3306/patitas?charset=latin1");
    assert_string_equal(u.user, "etl");
    assert_string_equal(u.password, "p@ss/w?rd:x");
    assert_string_equal(u.host, "db.local");
    assert_int_equal(u.port, 3306);
    assert_string_equal(u.database, "patitas");
    assert_string_equal(u.charset, "latin1");
    db_url_release(&u);
    /* an '@' in an option value is not user info */
    u = parse_ok("mysql://db.local/patitas?ssl_ca=/certs/ca@1.pem");
    assert_null(u.user);
    assert_string_equal(u.host, "db.local");
    assert_string_equal(u.ssl_ca, "/certs/ca@1.pem");
    db_url_release(&u);
}

static void test_cloud_sql_socket(void **state)
{
    (void)state;
    struct db_url u = parse_ok("mysql+pymysql://etl:pw@/patitas?unix_socket=/cloudsql/"
                               "my-proj:southamerica-west1:patitas-db");
    assert_null(u.host);
    assert_int_equal(u.port, 0);
    assert_string_equal(u.unix_socket, "/cloudsql/my-proj:southamerica-west1:patitas-db");
    assert_string_equal(u.database, "patitas");
    db_url_release(&u);
    u = parse_ok("mysql://etl:pw@/patitas?unix_socket=%2Fcloudsql%2Fp%3Ar%3Ai");
    assert_string_equal(u.unix_socket, "/cloudsql/p:r:i");
    db_url_release(&u);
    assert_rejected("mysql://etl:pw@/patitas", "missing host", "pw");
}

static void test_query_options(void **state)
{
    (void)state;
    struct db_url u = parse_ok("mysql://u:p@h/db?charset=utf8&ssl_ca=/ca.pem&ssl_cert=/c.pem&"
                               "ssl_key=/k.pem&ssl_verify_cert=true&connect_timeout=7&unknown=1");
    assert_string_equal(u.charset, "utf8");
    assert_string_equal(u.ssl_ca, "/ca.pem");
    assert_string_equal(u.ssl_cert, "/c.pem");
    assert_string_equal(u.ssl_key, "/k.pem");
    assert_true(u.ssl);
    assert_true(u.ssl_verify);
    assert_int_equal(u.connect_timeout_s, 7);
    db_url_release(&u);
    u = parse_ok("mysql://u:p@h/db?ssl_mode=VERIFY_IDENTITY");
    assert_true(u.ssl && u.ssl_verify);
    db_url_release(&u);
    u = parse_ok("mysql://u:p@h/db?ssl_mode=required&&charset=utf8mb4");
    assert_true(u.ssl);
    assert_false(u.ssl_verify);
    db_url_release(&u);
    u = parse_ok("mysql://u:p@h/db?ssl=false");
    assert_false(u.ssl);
    db_url_release(&u);
    assert_rejected("mysql://u:p@h/db?ssl_mode=sometimes", "unknown ssl_mode", "p@");
    assert_rejected("mysql://u:p@h/db?ssl=maybe", "must be true or false", NULL);
    assert_rejected("mysql://u:p@h/db?connect_timeout=0", "connect_timeout", NULL);
    assert_rejected("mysql://u:p@h/db?connect_timeout=5s", "connect_timeout", NULL);
    assert_rejected("mysql://u:p@h/db?charset", "without '='", NULL);
    assert_rejected("mysql://u:p@h/db?charset=", "option 'charset' is empty", NULL);
    assert_rejected("mysql://u:p@/db?unix_socket=", "option 'unix_socket' is empty", NULL);
    assert_rejected("mysql://u:p@h/db?charset=%zz", "percent-encoding", NULL);
}

static void test_ipv6(void **state)
{
    (void)state;
    struct db_url u = parse_ok("mariadb://u:pw@[::1]:3306/db");
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 3306);
    db_url_release(&u);
    u = parse_ok("mysql://[2001:db8::7]/db");
    assert_string_equal(u.host, "2001:db8::7");
    assert_int_equal(u.port, 0);
    db_url_release(&u);
    assert_rejected("mysql://[::1/db", "unterminated IPv6", NULL);
    assert_rejected("mysql://[::1]x/db", "junk after IPv6", NULL);
    assert_rejected("mysql://[]/db", "missing host", NULL);
}

static void test_sqlite(void **state)
{
    (void)state;
    struct db_url u = parse_ok("sqlite:///relative.db");
    assert_int_equal(u.kind, DB_KIND_SQLITE);
    assert_string_equal(u.path, "relative.db");
    db_url_release(&u);
    u = parse_ok("sqlite:////absolute/path.db");
    assert_string_equal(u.path, "/absolute/path.db");
    db_url_release(&u);
    u = parse_ok("sqlite://");
    assert_string_equal(u.path, ":memory:");
    db_url_release(&u);
    u = parse_ok("sqlite:///:memory:");
    assert_string_equal(u.path, ":memory:");
    db_url_release(&u);
    u = parse_ok("sqlite:///data/with%20space.db?mode=ro");
    assert_string_equal(u.path, "data/with space.db");
    db_url_release(&u);
    u = parse_ok("sqlite+pysqlite:///x.db");
    assert_string_equal(u.path, "x.db");
    db_url_release(&u);
    assert_rejected("sqlite://host/x.db", "sqlite URLs look like", NULL);
    assert_rejected("sqlite:////", "invalid sqlite path", NULL);
    assert_rejected("sqlite:///dir/", "invalid sqlite path", NULL);
    assert_rejected("sqlite:///a%00b.db", "invalid sqlite path", NULL);
}

static void test_rejections(void **state)
{
    (void)state;
    assert_rejected("", "empty", NULL);
    assert_rejected("mysql://u:p@h/db ", "space or control character", NULL);
    assert_rejected(" mysql://u:p@h/db", "space or control character", NULL);
    assert_rejected("mysql://u:p@h/d\tb", "space or control character", NULL);
    assert_rejected("sqlite:///my file.db", "space or control character", NULL);
    assert_rejected("postgresql://u:s3cret@h/db", "unsupported database scheme 'postgresql'",
                    "s3cret");
    assert_rejected("postgresql+psycopg2://u:s3cret@h/db", "unsupported database scheme", "s3cret");
    assert_rejected("MYSQL://u:p@h/db", "invalid scheme", NULL);
    assert_rejected("no-scheme-here", "must look like scheme://", NULL);
    assert_rejected("://h/db", "must look like scheme://", NULL);
    assert_rejected("mysql://u:p@h:0/db", "port is not a number", NULL);
    assert_rejected("mysql://u:p@h:65536/db", "port is not a number", NULL);
    assert_rejected("mysql://u:p@h:33o6/db", "port is not a number", NULL);
    assert_rejected("mysql://u:p@h:/db", "port is not a number", NULL);
    assert_rejected("mysql://u:p@h:-1/db", "port is not a number", NULL);
    assert_rejected("mysql://u:p@h:+3306/db", "port is not a number", NULL);
    assert_rejected("mysql://u:p@h:99999999999999999999/db", "port is not a number", NULL);
    assert_rejected("mysql://u:p@h", "missing database name", NULL);
    assert_rejected("mysql://u:p@h/", "missing database name", NULL);
    assert_rejected("mysql://u:p@h/?charset=utf8", "missing database name", NULL);
    assert_rejected("mysql://u:p@h/a/b", "must not contain", NULL);
    assert_rejected("mysql://u:p@h/a.b", "must not contain", NULL);
    assert_rejected("mysql://u:p%zz@h/db", "percent-encoding", "p%zz");
    assert_rejected("mysql://u:p%00x@h/db", "percent-encoding", NULL);
    assert_rejected("mysql://u:p%4@h/db", "percent-encoding", NULL);
    /* without '@' the password would be read as a port: never quote it */
    assert_rejected("mysql://etl:hunter22/db", "port is not a number", "hunter22");
}

static void test_hostile_lengths(void **state)
{
    (void)state;
    char *big = xmalloc(5000);
    memset(big, 'a', 4999);
    big[4999] = '\0';
    memcpy(big, "mysql://", 8);
    assert_rejected(big, "longer than 4096", NULL);
    /* just under the cap parses fine */
    big[4090] = '\0';
    memcpy(big + 4080, "@h/db", 5);
    struct db_url u = parse_ok(big);
    assert_int_equal(strlen(u.user), 4080 - 8);
    db_url_release(&u);
    free(big);
    /* many options, each one valid */
    struct buf b;
    struct err e = ERR_INIT;
    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "mysql://h/db?", &e), ERR_OK);
    for (int i = 0; i < 200; i++)
        assert_int_equal(buf_append_str(&b, "charset=utf8&", &e), ERR_OK);
    u = parse_ok(b.data);
    assert_string_equal(u.charset, "utf8");
    db_url_release(&u);
    buf_release(&b);
}

static void assert_redacted(const char *url, const char *want)
{
    char *r = db_url_redacted(url);
    assert_string_equal(r, want);
    free(r);
}

static void test_redacted(void **state)
{
    (void)state;
    assert_redacted("mysql+pymysql://etl:p%40ss%3Aw0rd@db:3306/patitas?charset=utf8mb4",
                    "mysql+pymysql://etl:***@db:3306/patitas?charset=utf8mb4");
    assert_redacted("mysql://etl:p@ss/w?rd@db/patitas", "mysql://etl:***@db/patitas");
    assert_redacted("mysql://etl@db/patitas", "mysql://etl@db/patitas");
    assert_redacted("mysql://etl:pw@/patitas?unix_socket=/cloudsql/p:r:i",
                    "mysql://etl:***@/patitas?unix_socket=/cloudsql/p:r:i");
    assert_redacted("sqlite:///x.db", "sqlite:///x.db");
    /* what does not parse is hidden entirely: its password span is unknown */
    assert_redacted("mysql://etl:hunter22/db", "mysql://***");
    assert_redacted("postgresql://u:s3cret@h/db", "postgresql://***");
    assert_redacted("u:s3cret://h", "***");
    assert_redacted("garbage", "***");
    assert_redacted(NULL, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mysql_schemes),
        cmocka_unit_test(test_percent_encoded_password),
        cmocka_unit_test(test_raw_special_chars_in_password),
        cmocka_unit_test(test_cloud_sql_socket),
        cmocka_unit_test(test_query_options),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_sqlite),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_hostile_lengths),
        cmocka_unit_test(test_redacted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
