/*
 * check_metrics.c - unit tests of metrics.c: the shared counters file
 * (many processes and threads counting at once, reopening, a damaged
 * file, read-only opens), the Prometheus text, the HTTP answers and the
 * metrics_listen syntax
 */

/* Configuration (feature macros first). */
#include "config.h"

/* System headers. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Third-party headers. */
#include <check.h>

/* Local headers. */
#include "sesgate.h"
#include "metrics.h"
#include "check_suites.h"

static char *tmpdir;

/* setup - a fresh state directory per test */
static void
setup(void)
{
    tmpdir = sg_test_tmpdir();
}

/* teardown - remove it */
static void
teardown(void)
{
    sg_test_rmtree(tmpdir);
    free(tmpdir);
    tmpdir = NULL;
}

/* row_of - the counters of (region, rule), or NULL */
static const struct sg_metrics_row *
row_of(const struct sg_metrics_row *rows, size_t n, const char *region,
       const char *rule)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(rows[i].region, region) == 0
            && strcmp(rows[i].rule, rule) == 0)
            return &rows[i];
    return NULL;
}

START_TEST(test_count_and_reopen)
{
    struct sg_metrics_row rows[16];
    const struct sg_metrics_row *r;
    char err[256];
    SG_METRICS *m;
    size_t n;

    m = sg_metrics_open(tmpdir, 0, err, sizeof(err));
    ck_assert_msg(m != NULL, "%s", err);
    sg_metrics_count(m, "us-east-1", NULL, SG_ACCEPT, 1);
    sg_metrics_count(m, "us-east-1", "R2", SG_ACCEPT, 2);  /* rule ignored */
    sg_metrics_count(m, "us-east-1", "R5", SG_REJECT, 1);
    sg_metrics_count(m, "us-east-1", "R4", SG_DEFER, 4);
    sg_metrics_count(m, NULL, "R1", SG_DEFER, 1);
    sg_metrics_count(m, "eu-west-1", "R4", SG_DEFER, 0);   /* nothing */
    sg_metrics_sync_error(m, "eu-west-1");
    sg_metrics_count(NULL, "x", "y", SG_ACCEPT, 1);        /* no-op */
    m = sg_metrics_close(m);
    ck_assert_ptr_null(m);

    /* A second open (a restart) sees the same numbers. */
    m = sg_metrics_open(tmpdir, 0, err, sizeof(err));
    ck_assert_msg(m != NULL, "%s", err);
    sg_metrics_count(m, "us-east-1", "R5", SG_REJECT, 1);
    n = sg_metrics_rows(m, rows, 16);
    ck_assert_uint_eq(n, 5);
    r = row_of(rows, n, "us-east-1", "");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->n[SG_METRICS_ACCEPTED], 3);
    r = row_of(rows, n, "us-east-1", "R5");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->n[SG_METRICS_REFUSED], 2);
    r = row_of(rows, n, "us-east-1", "R4");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->n[SG_METRICS_DEFERRED], 4);
    r = row_of(rows, n, "", "R1");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->n[SG_METRICS_DEFERRED], 1);
    r = row_of(rows, n, "eu-west-1", "sync");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->n[SG_METRICS_SYNC_ERRORS], 1);
    ck_assert_ptr_null(row_of(rows, n, "eu-west-1", "R4"));
    sg_metrics_close(m);
}
END_TEST

START_TEST(test_rdonly)
{
    struct sg_metrics_row rows[4];
    char err[256];
    SG_METRICS *m, *w;

    /* Read-only never creates. */
    m = sg_metrics_open(tmpdir, SG_METRICS_RDONLY, err, sizeof(err));
    ck_assert_ptr_null(m);
    w = sg_metrics_open(tmpdir, 0, err, sizeof(err));
    ck_assert_msg(w != NULL, "%s", err);
    sg_metrics_count(w, "us-east-1", "R3", SG_REJECT, 7);
    m = sg_metrics_open(tmpdir, SG_METRICS_RDONLY, err, sizeof(err));
    ck_assert_msg(m != NULL, "%s", err);
    sg_metrics_count(m, "us-east-1", "R3", SG_REJECT, 1);  /* no-op */
    ck_assert_uint_eq(sg_metrics_rows(m, rows, 4), 1);
    ck_assert_uint_eq(rows[0].n[SG_METRICS_REFUSED], 7);
    sg_metrics_close(m);
    sg_metrics_close(w);
}
END_TEST

START_TEST(test_damaged_file)
{
    char path[4200];
    char bad[4200];
    char err[256];
    struct stat sb;
    SG_METRICS *m;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, SG_METRICS_FILE);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("not a counters file\n", fp);
    fclose(fp);
    m = sg_metrics_open(tmpdir, SG_METRICS_RDONLY, err, sizeof(err));
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err, "not a counters file"));
    /* A writer moves it aside and starts from zero. */
    m = sg_metrics_open(tmpdir, 0, err, sizeof(err));
    ck_assert_msg(m != NULL, "%s", err);
    snprintf(bad, sizeof(bad), "%s.bad", path);
    ck_assert_int_eq(stat(bad, &sb), 0);
    ck_assert_uint_eq(sg_metrics_rows(m, NULL, 0), 0);
    sg_metrics_close(m);
}
END_TEST

/* counter_thread - count 10000 accepts and 10000 refusals */
static void *
counter_thread(void *arg)
{
    SG_METRICS *m = arg;
    int i;

    for (i = 0; i < 10000; i++) {
        sg_metrics_count(m, "us-east-1", NULL, SG_ACCEPT, 1);
        sg_metrics_count(m, "us-west-2", "R5", SG_REJECT, 1);
    }
    return NULL;
}

START_TEST(test_processes_and_threads)
{
    struct sg_metrics_row rows[8];
    const struct sg_metrics_row *r;
    pthread_t t[4];
    char err[256];
    SG_METRICS *m;
    pid_t pid[4];
    int i, status;
    size_t n;

    /* Four processes, each with four threads, from a missing file:
     * they race to create it and to claim the rows. */
    for (i = 0; i < 4; i++) {
        pid[i] = fork();
        ck_assert_int_ge(pid[i], 0);
        if (pid[i] == 0) {
            int j;

            m = sg_metrics_open(tmpdir, 0, err, sizeof(err));
            if (m == NULL)
                _exit(1);
            for (j = 0; j < 4; j++)
                pthread_create(&t[j], NULL, counter_thread, m);
            for (j = 0; j < 4; j++)
                pthread_join(t[j], NULL);
            sg_metrics_close(m);
            _exit(0);
        }
    }
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    m = sg_metrics_open(tmpdir, SG_METRICS_RDONLY, err, sizeof(err));
    ck_assert_msg(m != NULL, "%s", err);
    n = sg_metrics_rows(m, rows, 8);
    ck_assert_uint_eq(n, 2);
    r = row_of(rows, n, "us-east-1", "");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->n[SG_METRICS_ACCEPTED], 160000);
    r = row_of(rows, n, "us-west-2", "R5");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->n[SG_METRICS_REFUSED], 160000);
    sg_metrics_close(m);
}
END_TEST

START_TEST(test_render)
{
    struct sg_metrics_gauges *g;
    char err[256];
    SG_METRICS *m;
    size_t len;
    char *text;

    m = sg_metrics_open(tmpdir, 0, err, sizeof(err));
    ck_assert_msg(m != NULL, "%s", err);
    sg_metrics_count(m, "us-east-1", NULL, SG_ACCEPT, 3);
    sg_metrics_count(m, "us-east-1", "R2", SG_REJECT, 2);
    sg_metrics_count(m, NULL, "R1", SG_DEFER, 1);
    sg_metrics_count(m, "we\"ird\\", "R5", SG_REJECT, 1);
    sg_metrics_sync_error(m, "eu-west-1");

    g = calloc(1, sizeof(*g));
    ck_assert_ptr_nonnull(g);
    g->state_ok = 1;
    g->now = 1000;
    g->imported_at = 940;
    g->nregion = 1;
    snprintf(g->region[0].region, sizeof(g->region[0].region), "us-east-1");
    g->region[0].max_24h = 200;
    g->region[0].max_rate = 1;
    g->region[0].sent_24h = 12;
    g->region[0].reserved = 2;
    g->region[0].rate_now = 0.5;
    g->region[0].have_usage = 1;

    text = sg_metrics_render(m, g, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(len, strlen(text));
#define HAS(s) ck_assert_msg(strstr(text, s) != NULL, "missing: %s\n%s", \
                             s, text)
    HAS("# TYPE sesgate_recipients_total counter\n");
    HAS("\nsesgate_recipients_total{region=\"us-east-1\",rule=\"none\","
        "verdict=\"accepted\"} 3\n");
    HAS("\nsesgate_recipients_total{region=\"us-east-1\",rule=\"R2\","
        "verdict=\"refused\"} 2\n");
    HAS("\nsesgate_recipients_total{region=\"none\",rule=\"R1\","
        "verdict=\"deferred\"} 1\n");
    HAS("{region=\"we\\\"ird\\\\\",rule=\"R5\",verdict=\"refused\"} 1\n");
    HAS("\nsesgate_sync_errors_total{region=\"eu-west-1\"} 1\n");
    HAS("\nsesgate_state_up 1\n");
    HAS("\nsesgate_state_age_seconds 60\n");
    HAS("\nsesgate_quota_max_24h{region=\"us-east-1\"} 200\n");
    HAS("\nsesgate_quota_sent_24h{region=\"us-east-1\"} 12\n");
    HAS("\nsesgate_quota_reserved{region=\"us-east-1\"} 2\n");
    HAS("\nsesgate_quota_rate_now{region=\"us-east-1\"} 0.5\n");
    HAS("\nsesgate_quota_max_rate{region=\"us-east-1\"} 1\n");
    /* No zero rows of other verdicts; the sync row is not a rule. */
    ck_assert_ptr_null(strstr(text, "verdict=\"deferred\"} 0"));
    ck_assert_ptr_null(strstr(text, "rule=\"sync\""));
    ck_assert(text[len - 1] == '\n');
    free(text);

    /* No state: up 0, no age line; no gauges at all: no gauge lines. */
    g->state_ok = 0;
    g->nregion = 0;
    text = sg_metrics_render(m, g, &len);
    ck_assert_ptr_nonnull(text);
    HAS("\nsesgate_state_up 0\n");
    ck_assert_ptr_null(strstr(text, "\nsesgate_state_age_seconds "));
    free(text);
    text = sg_metrics_render(NULL, NULL, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_null(strstr(text, "sesgate_state_up"));
    HAS("# TYPE sesgate_recipients_total counter\n");
#undef HAS
    free(text);
    free(g);
    sg_metrics_close(m);
}
END_TEST

/* reply_is - the answer to req starts with want */
static void
reply_is(const char *req, const char *want, const char *body_want)
{
    size_t len;
    char *r = sg_metrics_http_reply(req, strlen(req), "a 1\n", 4, &len);

    ck_assert_ptr_nonnull(r);
    ck_assert_msg(strncmp(r, want, strlen(want)) == 0, "%s -> %s", req, r);
    if (body_want != NULL)
        ck_assert_msg(strstr(r, body_want) != NULL, "%s -> %s", req, r);
    free(r);
}

START_TEST(test_http)
{
    reply_is("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.0 200 OK\r\n",
             "\r\nContent-Length: 4\r\n");
    reply_is("GET /metrics HTTP/1.1\r\n\r\n", "HTTP/1.0 200 OK\r\n",
             "\r\n\r\na 1\n");
    reply_is("GET /metrics?x=1 HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK", NULL);
    reply_is("HEAD /metrics HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK",
             "Content-Length: 0\r\n");
    reply_is("GET / HTTP/1.0\r\n\r\n", "HTTP/1.0 404 ", NULL);
    reply_is("GET /metricsX HTTP/1.0\r\n\r\n", "HTTP/1.0 404 ", NULL);
    reply_is("POST /metrics HTTP/1.0\r\n\r\n", "HTTP/1.0 405 ", NULL);
    reply_is("garbage\r\n\r\n", "HTTP/1.0 400 ", NULL);
    reply_is("GET /metrics", "HTTP/1.0 400 ", NULL);    /* no line end */
    reply_is("", "HTTP/1.0 400 ", NULL);
}
END_TEST

START_TEST(test_listen_parse)
{
    char host[64];
    char err[256];
    int port = 0;

    ck_assert_int_eq(sg_metrics_listen_parse("inet:127.0.0.1:9465", host,
                                             sizeof(host), &port, err,
                                             sizeof(err)), 0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(port, 9465);
    ck_assert_int_eq(sg_metrics_listen_parse("inet:127.1.2.3:1", host,
                                             sizeof(host), &port, err,
                                             sizeof(err)), 0);
    ck_assert_int_eq(sg_metrics_listen_parse("inet:[::1]:9465", host,
                                             sizeof(host), &port, err,
                                             sizeof(err)), 0);
    ck_assert_str_eq(host, "::1");
    ck_assert_int_eq(sg_metrics_listen_parse("inet:0.0.0.0:9465", host,
                                             sizeof(host), &port, err,
                                             sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "not a loopback address"));
    ck_assert_int_eq(sg_metrics_listen_parse("inet:[::]:9465", host,
                                             sizeof(host), &port, err,
                                             sizeof(err)), -1);
    ck_assert_int_eq(sg_metrics_listen_parse("inet:localhost:9465", host,
                                             sizeof(host), &port, err,
                                             sizeof(err)), -1);
    ck_assert_int_eq(sg_metrics_listen_parse("127.0.0.1:9465", host,
                                             sizeof(host), &port, err,
                                             sizeof(err)), -1);
    ck_assert_int_eq(sg_metrics_listen_parse("inet:127.0.0.1:0", host,
                                             sizeof(host), &port, err,
                                             sizeof(err)), -1);
    ck_assert_int_eq(sg_metrics_listen_parse("inet:127.0.0.1:65536", host,
                                             sizeof(host), &port, err,
                                             sizeof(err)), -1);
    ck_assert_int_eq(sg_metrics_listen_parse("inet:127.0.0.1:", host,
                                             sizeof(host), &port, err,
                                             sizeof(err)), -1);
    ck_assert_int_eq(sg_metrics_listen_parse("unix:/run/x", host,
                                             sizeof(host), &port, err,
                                             sizeof(err)), -1);
}
END_TEST

/* sg_metrics_suite - the metrics module */
Suite *
sg_metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_count_and_reopen);
    tcase_add_test(tc, test_rdonly);
    tcase_add_test(tc, test_damaged_file);
    tcase_add_test(tc, test_processes_and_threads);
    tcase_add_test(tc, test_render);
    tcase_add_test(tc, test_http);
    tcase_add_test(tc, test_listen_parse);
    suite_add_tcase(s, tc);
    return s;
}
