/* .env parser: python-dotenv syntax, malformed and hostile files. */
#include "common.h"

#include "buf.h"
#include "dotenv.h"
#include "utf8.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

struct parsed {
    struct dotenv d;
    struct err e;
    enum err_code rc;
};

static void parse_n(struct parsed *p, const char *text, size_t len)
{
    dotenv_init(&p->d);
    err_clear(&p->e);
    p->rc = dotenv_parse(text, len, "t.env", &p->d, &p->e);
}

static void parse(struct parsed *p, const char *text)
{
    parse_n(p, text, strlen(text));
}

/* Parses text, expects success and returns the value of key (copied), or NULL. */
static char *value_of(const char *text, const char *key)
{
    struct parsed p = {0};
    parse(&p, text);
    if (p.rc != ERR_OK)
        fail_msg("unexpected error: %s", p.e.msg);
    const char *v = dotenv_get(&p.d, key);
    char *copy = v ? xstrdup(v) : NULL;
    dotenv_release(&p.d);
    return copy;
}

static void assert_value(const char *text, const char *key, const char *want)
{
    char *got = value_of(text, key);
    if (!got)
        fail_msg("%s missing in <%s>", key, text);
    assert_string_equal(got, want);
    free(got);
}

/* Expects an error whose message contains want. */
static void assert_error(const char *text, size_t len, enum err_code code, const char *want)
{
    struct parsed p = {0};
    parse_n(&p, text, len);
    assert_int_equal(p.rc, code);
    if (!strstr(p.e.msg, want))
        fail_msg("message '%s' lacks '%s'", p.e.msg, want);
    assert_int_equal(p.d.n, 0);
    assert_null(p.d.v);
}

static void test_basic_forms(void **state)
{
    (void)state;
    assert_value("A=1\n", "A", "1");
    assert_value("A=1", "A", "1");
    assert_value("  A  =  spaced value  \n", "A", "spaced value");
    assert_value("export A=exported\n", "A", "exported");
    assert_value("export\tA=tab\n", "A", "tab");
    assert_value("A=\n", "A", "");
    assert_value("A=a=b=c\n", "A", "a=b=c");
    assert_value("A=mysql://u:p@h/db?x=1&y=2\n", "A", "mysql://u:p@h/db?x=1&y=2");
    assert_value("_A1=x\n", "_A1", "x");
    assert_value("lower_case=x\n", "lower_case", "x");
    /* "export" is only a prefix when followed by blanks */
    assert_value("export=yes\n", "export", "yes");
    assert_value("exportA=1\n", "exportA", "1");
}

static void test_comments_and_blanks(void **state)
{
    (void)state;
    const char *text = "# header\n\n   \n\t# indented comment\nA=1 # trailing\nB=2#not-comment\n"
                       "C= # only a comment\nD=x\t# tab comment\n";
    struct parsed p = {0};
    parse(&p, text);
    assert_int_equal(p.rc, ERR_OK);
    assert_int_equal(p.d.n, 4);
    assert_string_equal(dotenv_get(&p.d, "A"), "1");
    assert_string_equal(dotenv_get(&p.d, "B"), "2#not-comment");
    assert_string_equal(dotenv_get(&p.d, "C"), "");
    assert_string_equal(dotenv_get(&p.d, "D"), "x");
    assert_int_equal(p.d.v[0].line, 5);
    assert_int_equal(p.d.v[3].line, 8);
    dotenv_release(&p.d);
    assert_value("A=#hash-first\n", "A", "#hash-first");
    assert_value("A=x#y #z\n", "A", "x#y");
}

static void test_quotes(void **state)
{
    (void)state;
    assert_value("A='single # not comment'\n", "A", "single # not comment");
    assert_value("A='literal \\n $HOME'\n", "A", "literal \\n $HOME");
    assert_value("A='it\\'s'\n", "A", "it's");
    assert_value("A=\"dq # kept\"  # comment\n", "A", "dq # kept");
    assert_value("A=\"line1\\nline2\\tend\"\n", "A", "line1\nline2\tend");
    assert_value("A=\"say \\\"hi\\\" \\\\ ok\"\n", "A", "say \"hi\" \\ ok");
    assert_value("A=\"unknown \\x escape\"\n", "A", "unknown \\x escape");
    assert_value("A=\"$NO_EXPANSION ${X}\"\n", "A", "$NO_EXPANSION ${X}");
    assert_value("A=\"\"\n", "A", "");
    assert_value("A=''\n", "A", "");
    assert_value("A=\"a=b\"\n", "A", "a=b");
    assert_value("A=  \"padded\"  \n", "A", "padded");
    /* a quote inside an unquoted value is just a character */
    assert_value("A=it's\n", "A", "it's");
    /* quoted values may span lines, as in python-dotenv */
    struct parsed p = {0};
    parse(&p, "A=\"first\nsecond\"\nB=after\n");
    assert_int_equal(p.rc, ERR_OK);
    assert_string_equal(dotenv_get(&p.d, "A"), "first\nsecond");
    assert_int_equal(p.d.v[1].line, 3);
    dotenv_release(&p.d);
}

static void test_crlf_and_bom(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBF"
                       "A=1\r\nB=\"two\"\r\n# c\r\nC='3' # x\r\n";
    struct parsed p = {0};
    parse(&p, text);
    assert_int_equal(p.rc, ERR_OK);
    assert_int_equal(p.d.n, 3);
    assert_string_equal(dotenv_get(&p.d, "A"), "1");
    assert_string_equal(dotenv_get(&p.d, "B"), "two");
    assert_string_equal(dotenv_get(&p.d, "C"), "3");
    assert_int_equal(p.d.v[2].line, 4);
    dotenv_release(&p.d);
    /* lone CR ends a line too; the BOM is only skipped at the very start */
    assert_value("A=1\rB=2\r", "B", "2");
    assert_error("A=1\n\xEF\xBB\xBF"
                 "B=2\n",
                 strlen("A=1\n\xEF\xBB\xBF"
                        "B=2\n"),
                 ERR_CONFIG, "t.env:2:");
}

static void test_duplicates_last_wins(void **state)
{
    (void)state;
    struct parsed p = {0};
    parse(&p, "A=first\nB=x\nA=second\nexport A='third'\n");
    assert_int_equal(p.rc, ERR_OK);
    assert_int_equal(p.d.n, 2);
    assert_string_equal(dotenv_get(&p.d, "A"), "third");
    assert_int_equal(p.d.v[0].line, 4);
    assert_null(dotenv_get(&p.d, "C"));
    dotenv_release(&p.d);
}

static void test_empty_inputs(void **state)
{
    (void)state;
    struct parsed p = {0};
    parse(&p, "");
    assert_int_equal(p.rc, ERR_OK);
    assert_int_equal(p.d.n, 0);
    parse(&p, "\xEF\xBB\xBF");
    assert_int_equal(p.rc, ERR_OK);
    assert_int_equal(p.d.n, 0);
    parse(&p, "\n\n# only comments\r\n   \t\n");
    assert_int_equal(p.rc, ERR_OK);
    assert_int_equal(p.d.n, 0);
}

static void test_malformed_lines(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"A=1\nNOEQUALS\n", "t.env:2: expected KEY=VALUE"},
        {"export A\n", "t.env:1: expected KEY=VALUE"},
        {"=value\n", "t.env:1: expected a variable name"},
        {"1A=x\n", "t.env:1: expected a variable name"},
        {"A-B=x\n", "t.env:1: invalid character in variable name"},
        {"A.B=x\n", "t.env:1: invalid character in variable name"},
        {"A B=x\n", "t.env:1: expected KEY=VALUE"},
        {"\n\nA=\"open\n", "t.env:3: unterminated double quote"},
        {"A='open\nB=2\n", "t.env:1: unterminated single quote"},
        {"A=\"closed\" junk\n", "t.env:1: unexpected text after the closing quote"},
        {"A='x'y\n", "t.env:1: unexpected text after the closing quote"},
        {"A=\"escaped end\\\"\n", "t.env:1: unterminated double quote"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        assert_error(cases[i][0], strlen(cases[i][0]), ERR_CONFIG, cases[i][1]);
}

static void test_error_never_quotes_value(void **state)
{
    (void)state;
    struct parsed p = {0};
    parse(&p, "TOKEN=\"s3cr3t-value junk\" trailing\n");
    assert_int_equal(p.rc, ERR_CONFIG);
    assert_null(strstr(p.e.msg, "s3cr3t"));
    parse(&p, "TOKEN=s3cr3t\xff\n");
    assert_int_equal(p.rc, ERR_CONFIG);
    assert_non_null(strstr(p.e.msg, "TOKEN is not valid UTF-8"));
    assert_null(strstr(p.e.msg, "s3cr3t"));
}

static void test_nul_and_utf8(void **state)
{
    (void)state;
    assert_error("A=x\nB=a\0b\n", 10, ERR_CONFIG, "t.env:2: NUL byte");
    assert_error("A=\"a\0\"\n", 7, ERR_CONFIG, "t.env:1: NUL byte");
    assert_error("A=\xc3\x28\n", 5, ERR_CONFIG, "t.env:1: value of A is not valid UTF-8");
    assert_error("A=\"\xed\xa0\x80\"\n", 8, ERR_CONFIG, "not valid UTF-8"); /* surrogate */
    assert_error("A='\xc0\xaf'\n", 7, ERR_CONFIG, "not valid UTF-8");       /* overlong */
    assert_value("A=\"ñandú 🐾\"\n", "A", "ñandú 🐾");
    /* invalid bytes in a comment are not values */
    assert_value("# \xff\xfe\nA=ok\n", "A", "ok");
}

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_true(utf8_valid("", 0));
    assert_true(utf8_valid("abc", 3));
    assert_true(utf8_valid("\xc3\xb1", 2));
    assert_true(utf8_valid("\xf0\x9f\x90\xbe", 4));
    assert_true(utf8_valid("\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
    assert_false(utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    assert_false(utf8_valid("\xc3", 1));             /* truncated */
    assert_false(utf8_valid("\x80", 1));
    assert_false(utf8_valid("\xf0\x9f\x90", 3));
}

static void test_caps(void **state)
{
    (void)state;
    size_t n = DOTENV_LINE_MAX + 16;
    char *text = xmalloc(n + 1);
    memset(text, 'x', n);
    memcpy(text, "A=", 2);
    text[n] = '\0';
    assert_error(text, n, ERR_LIMIT, "t.env:1: line longer than");
    /* a line exactly at the cap is fine */
    text[DOTENV_LINE_MAX] = '\0';
    char *v = value_of(text, "A");
    assert_int_equal(strlen(v), DOTENV_LINE_MAX - 2);
    free(v);
    free(text);
    /* a quoted value spanning lines is capped as a value */
    size_t m = (size_t)DOTENV_LINE_MAX * 3;
    text = xmalloc(m + 1);
    memset(text, '\n', m);
    memcpy(text, "A=\"", 3);
    text[m] = '\0';
    assert_error(text, m, ERR_LIMIT, "t.env:1: value longer than");
    free(text);
    /* file size */
    assert_error("A=1\n", (size_t)DOTENV_FILE_MAX + 1, ERR_LIMIT, "larger than");
}

static void test_too_many_entries(void **state)
{
    (void)state;
    struct buf b;
    struct err e = ERR_INIT;
    buf_init(&b, 0);
    for (int i = 0; i <= DOTENV_ENTRIES_MAX; i++)
        assert_int_equal(buf_appendf(&b, &e, "K%d=v\n", i), ERR_OK);
    assert_error(b.data, b.len, ERR_LIMIT, "more than 1024 variables");
    buf_release(&b);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/petl-dotenv-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "A=from-file\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct dotenv d = {0};
    struct err e = ERR_INIT;
    dotenv_init(&d);
    assert_int_equal(dotenv_load_file(path, &d, &e), ERR_OK);
    assert_string_equal(dotenv_get(&d, "A"), "from-file");
    dotenv_release(&d);
    unlink(path);
    assert_int_equal(dotenv_load_file(path, &d, &e), ERR_NOT_FOUND);
    assert_non_null(strstr(e.msg, path));
    assert_int_equal(dotenv_load_file("/tmp", &d, &e), ERR_IO);
    assert_non_null(strstr(e.msg, "is a directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_forms),
        cmocka_unit_test(test_comments_and_blanks),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_crlf_and_bom),
        cmocka_unit_test(test_duplicates_last_wins),
        cmocka_unit_test(test_empty_inputs),
        cmocka_unit_test(test_malformed_lines),
        cmocka_unit_test(test_error_never_quotes_value),
        cmocka_unit_test(test_nul_and_utf8),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_too_many_entries),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
