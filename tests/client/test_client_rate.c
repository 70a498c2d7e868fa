/* The process-wide rate limit against a fake server that throttles above 8 requests a second. */
#include "common.h"

#include "harness.h"

#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define LIMIT 8

static void test_rate_limit_respected(void **state)
{
    (void)state;
    /* 20 pages plus 4 retries: about three seconds at 8 a second. */
    struct fb_opts fo = {.token = TEST_TOKEN, .n_items = 1000, .delay_ms = 5, .limit_per_s = LIMIT};
    struct fake_bsale *f = fb_start(&fo);
    assert_non_null(f);
    const long retried[] = {50, 300, 600, 900};
    for (size_t i = 0; i < ARRAY_LEN(retried); i++)
        fb_add_rule(f, (struct fb_rule){.offset = retried[i], .action = FB_STATUS, .status = 500});
    char *base = fb_base_url(f);
    struct bsale_client_opts o = test_opts(base);
    o.rate_limit = LIMIT;
    o.concurrency = 4;
    struct bsale_client *c = NULL;
    struct err e = ERR_INIT;
    assert_int_equal(bsale_client_new(&o, &c, &e), ERR_OK);
    struct collector col = {0};
    bsale_queue_list(c, "/variants.json", NULL, collect_page, &col);
    enum err_code rc = bsale_run(c, &e);
    if (rc)
        fail_msg("bsale_run: %s: %s", err_str(rc), e.msg);
    assert_each_once(&col, 1000);

    struct bsale_stats st = {0};
    bsale_client_stats(c, &st);
    struct fb_counters k = {0};
    fb_counters(f, &k);
    print_message("requests=%lld retries=%lld server_peak_per_s=%ld\n", st.requests, st.retries,
                  k.peak_per_s);
    assert_int_equal(st.requests, 24); /* 20 pages and 4 retries: none past the count */
    assert_int_equal(st.retries, 4);
    assert_int_equal(k.requests, 24);
    assert_int_equal(st.throttled, 0);
    assert_int_equal(k.throttled, 0);
    assert_true(k.peak_per_s <= LIMIT);
    assert_true(k.peak_per_s >= 2);
    bsale_client_free(c);
    fb_stop(f);
    free(base);
}

/* Index of the first hit at or after from whose path is path, or n. */
static size_t hit_at(const struct fb_hit *h, size_t n, size_t from, const char *path)
{
    while (from < n && strcmp(h[from].path, path) != 0)
        from++;
    return from;
}

/* Once a list's pages are known to be slow, they go ahead of a fast list's queued earlier. */
static void test_slow_list_pages_first(void **state)
{
    (void)state;
    struct fb_opts fo = {.token = TEST_TOKEN, .n_items = 200};
    struct fake_bsale *f = fb_start(&fo);
    assert_non_null(f);
    fb_add_rule(f, (struct fb_rule){
                       .path = "/v1/slow.json", .offset = 0, .action = FB_SLOW, .param = 1100});
    char *base = fb_base_url(f);
    struct bsale_client_opts o = test_opts(base);
    o.concurrency = 1;
    struct bsale_client *c = NULL;
    struct err e = ERR_INIT;
    assert_int_equal(bsale_client_new(&o, &c, &e), ERR_OK);
    struct collector fast = {0}, slow = {0};
    bsale_queue_list(c, "/fast.json", NULL, collect_page, &fast);
    bsale_queue_list(c, "/slow.json", NULL, collect_page, &slow);
    assert_int_equal(bsale_run(c, &e), ERR_OK);
    assert_each_once(&fast, 200);
    assert_each_once(&slow, 200);
    size_t n = 0;
    struct fb_hit *h = fb_hits(f, &n);
    /* fast 0, slow 0 (1.1 s), then slow 50, 100, 150 before fast 50, though queued later */
    assert_true(n >= 8);
    assert_int_equal(hit_at(h, n, 0, "/v1/fast.json"), 0);
    assert_int_equal(hit_at(h, n, 0, "/v1/slow.json"), 1);
    for (size_t i = 2; i < 5; i++) {
        assert_string_equal(h[i].path, "/v1/slow.json");
        assert_int_equal(h[i].offset, 50 * (long)(i - 1));
    }
    /* ... and the rest of slow too: fast's pages come last. */
    assert_true(hit_at(h, n, hit_at(h, n, 2, "/v1/fast.json"), "/v1/slow.json") == n);
    free(h);
    bsale_client_free(c);
    fb_stop(f);
    free(base);
}

static char state_dir[] = "/tmp/petl-rate-state-XXXXXX";

/* The pacing state handed to the next process: one file per token, named and filled without it. */
static void test_state_file_holds_no_token(void **state)
{
    (void)state;
    DIR *d = opendir(state_dir);
    assert_non_null(d);
    int files = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        files++;
        assert_non_null(strstr(de->d_name, "patitas-etl-rate-"));
        assert_null(strstr(de->d_name, TEST_TOKEN));
        char path[600], body[4096] = {0};
        snprintf(path, sizeof(path), "%s/%s", state_dir, de->d_name);
        struct stat st = {0};
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        int fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        ssize_t len = read(fd, body, sizeof(body) - 1);
        close(fd);
        assert_true(len > 0);
        assert_null(memmem(body, (size_t)len, TEST_TOKEN, strlen(TEST_TOKEN)));
        unlink(path);
    }
    closedir(d);
    assert_int_equal(files, 1); /* every test here used the same token */
    rmdir(state_dir);
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    /* The process-wide limiter keeps its state here, not in the user's runtime directory. */
    if (!mkdtemp(state_dir) || setenv("XDG_RUNTIME_DIR", state_dir, 1) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_limit_respected),
        cmocka_unit_test(test_slow_list_pages_first),
        cmocka_unit_test(test_state_file_holds_no_token),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
