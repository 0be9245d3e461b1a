/*
 * check_conf.c - unit suite of conf.c: syntax, values, errors, defaults
 */

/* System headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Third-party headers. */
#include <check.h>

/* Local headers. */
#include "sesgate.h"
#include "log.h"
#include "region.h"
#include "conf.h"
#include "check_suites.h"

#define NS(s) ((s) != NULL ? (s) : "(null)")

/* Warnings the library sent through the log sink, for the checks. */
static char logged[4096];
static int nlogged;

/* capture - log sink appending each message and a newline to logged */
static void
capture(int level, const char *msg, void *arg)
{
    size_t n = strlen(logged);

    (void)arg;
    if (level <= SG_LOG_WARNING)
        nlogged++;
    snprintf(logged + n, sizeof(logged) - n, "%s\n", msg);
}

/* setup_log - install the capturing sink */
static void
setup_log(void)
{
    logged[0] = '\0';
    nlogged = 0;
    sg_log_set_sink(capture, NULL, SG_LOG_DEBUG);
}

/* teardown_log - drop messages again */
static void
teardown_log(void)
{
    sg_log_set_sink(NULL, NULL, SG_LOG_INFO);
}

/* Good input: text, parameter, wanted value as sg_conf_get gives it. */
static const struct ok_case {
    const char *text;
    const char *param;
    const char *want;
} ok_cases[] = {
    { "default_region = eu-west-1\n", "default_region", "eu-west-1" },
    { "default_region=eu-west-1", "default_region", "eu-west-1" },
    { "default_region\t=\t eu-west-1 \t\r\n", "default_region",
      "eu-west-1" },
    { "default_region =\n", "default_region", "" },
    { "default_region = US-EAST-1\n", "default_region", "US-EAST-1" },
    { "# comment\n\n   # indented comment\n\t\n"
      "state_dir = /srv/sesgate\n", "state_dir", "/srv/sesgate" },
    /* Continuation lines join the logical line, also across comments. */
    { "regions = eu-west-1,\n  us-east-1,\n\tus-west-2\n", "regions",
      "eu-west-1,  us-east-1,\tus-west-2" },
    { "regions = eu-west-1\n# note\n\n   us-east-1\nlog_level = debug\n",
      "regions", "eu-west-1   us-east-1" },
    { "regions = eu-west-1\n# note\n   us-east-1\nlog_level = debug\n",
      "log_level", "debug" },
    { "regions = eu-west-1, ,us-gov-west-1\n", "regions",
      "eu-west-1, ,us-gov-west-1" },
    { "regions =\n", "regions", "" },
    /* "=" in the value is part of the value. */
    { "redis_url = redis://h:6379/0?a=b\n", "redis_url",
      "redis://h:6379/0?a=b" },
    { "api_endpoint = http://127.0.0.1:8080/{region}\n", "api_endpoint",
      "http://127.0.0.1:8080/{region}" },
    { "api_endpoint = HTTPS://ses.example\n", "api_endpoint",
      "HTTPS://ses.example" },
    /* Duplicates: the last one wins. */
    { "max_recipients = 10\nmax_recipients = 20\n", "max_recipients",
      "20" },
    { "max_recipients = 1\n", "max_recipients", "1" },
    { "max_recipients = 50\n", "max_recipients", "50" },
    { "max_recipients = +7\n", "max_recipients", "7" },
    { "message_size_limit = 10m\n", "message_size_limit", "10485760" },
    { "message_size_limit = 512k\n", "message_size_limit", "524288" },
    { "message_size_limit = 512K\n", "message_size_limit", "524288" },
    { "message_size_limit = 1g\n", "message_size_limit", "1073741824" },
    { "message_size_limit = 1\n", "message_size_limit", "1" },
    { "state_max_size = 1024g\n", "state_max_size", "1099511627776" },
    { "state_max_size = 1m\n", "state_max_size", "1048576" },
    /* ENUMs: any case, stored in the canonical spelling. */
    { "quota_backend = redis\n", "quota_backend", "redis" },
    { "quota_backend = Redis\n", "quota_backend", "redis" },
    { "on_state_error = accept\n", "on_state_error", "accept" },
    { "syslog_facility = local7\n", "syslog_facility", "local7" },
    { "syslog_facility = daemon\n", "syslog_facility", "daemon" },
    { "log_level = warning\n", "log_level", "warning" },
    { "log_level = ERR\n", "log_level", "err" },
    /* Unknown names are a warning only. */
    { "no_such_parameter = 1\nlog_level = notice\n", "log_level",
      "notice" },
    /* A first line that starts with white space (warning, then used). */
    { "  log_level = debug\n", "log_level", "debug" },
    /* No newline at the end. */
    { "log_level = err", "log_level", "err" },
    { "", "log_level", "info" },
};

/* test_ok - good input loads and gives the value */
START_TEST(test_ok)
{
    const struct ok_case *c = &ok_cases[_i];
    char err[256];
    SG_CONF *conf;
    const char *got;

    conf = sg_conf_load_buf("t.conf", c->text, strlen(c->text), err,
                            sizeof(err));
    ck_assert_msg(conf != NULL, "case %d: got error %s, want success", _i,
                  err);
    got = sg_conf_get(conf, c->param);
    ck_assert_msg(got != NULL && strcmp(got, c->want) == 0,
                  "case %d: %s: got '%s', want '%s'", _i, c->param, NS(got),
                  c->want);
    ck_assert_str_eq(conf->path, "t.conf");
    ck_assert_ptr_null(conf->map);
    sg_conf_free(conf);
}
END_TEST

/* Bad input: text, exact "FILE:LINE: " prefix, wanted text after it. */
static const struct err_case {
    const char *text;
    const char *prefix;
    const char *what;
} err_cases[] = {
    { "default_region eu-west-1\n", "t.conf:1: ", "missing '='" },
    { "\n\n# c\nlog_level\n", "t.conf:4: ", "missing '='" },
    { "log level = debug\n", "t.conf:1: ", "missing '='" },
    { "= eu-west-1\n", "t.conf:1: ", "missing parameter name" },
    { "log_level = debug\n  =x\n", "t.conf:1: ",
      "log_level: bad value 'debug  =x'" },
    { "log_level = debug\n\n=y\n", "t.conf:3: ",
      "missing parameter name" },
    { "max_recipients = ten\n", "t.conf:1: ",
      "max_recipients: bad number 'ten'" },
    { "max_recipients =\n", "t.conf:1: ", "max_recipients: bad number ''" },
    { "max_recipients = 5k\n", "t.conf:1: ", "bad number '5k'" },
    { "max_recipients = 0x10\n", "t.conf:1: ", "bad number '0x10'" },
    { "max_recipients = 5 0\n", "t.conf:1: ", "bad number '5 0'" },
    { "max_recipients = 51\n", "t.conf:1: ",
      "max_recipients: 51 is above the maximum 50" },
    { "max_recipients = 0\n", "t.conf:1: ",
      "max_recipients: 0 is below the minimum 1" },
    { "max_recipients = -3\n", "t.conf:1: ",
      "max_recipients: -3 is below the minimum 1" },
    { "max_recipients = 99999999999999999999999\n", "t.conf:1: ",
      "out of range" },
    { "message_size_limit = 0\n", "t.conf:1: ",
      "message_size_limit: 0 is below the minimum 1" },
    { "message_size_limit = 2g\n", "t.conf:1: ",
      "message_size_limit: 2147483648 is above the maximum 1073741824" },
    { "message_size_limit = 10mb\n", "t.conf:1: ", "bad number '10mb'" },
    { "message_size_limit = k\n", "t.conf:1: ", "bad number 'k'" },
    { "state_max_size = 99999999999g\n", "t.conf:1: ", "out of range" },
    { "state_max_size = 1k\n", "t.conf:1: ",
      "state_max_size: 1024 is below the minimum 1048576" },
    { "quota_backend = memcached\n", "t.conf:1: ",
      "quota_backend: bad value 'memcached'" },
    { "on_state_error = reject\n", "t.conf:1: ", "on_state_error: bad" },
    { "syslog_facility = local8\n", "t.conf:1: ", "syslog_facility: bad" },
    { "log_level = warn\n", "t.conf:1: ", "log_level: bad value 'warn'" },
    { "log_level =\n", "t.conf:1: ", "log_level: bad value ''" },
    { "default_region = xx\n", "t.conf:1: ",
      "default_region: unknown SES region 'xx'" },
    { "# one\ndefault_region = eu-west-1\ndefault_region =\n eu-west-9\n",
      "t.conf:3: ", "default_region: unknown SES region 'eu-west-9'" },
    { "regions = eu-west-1, eu-wast-1\n", "t.conf:1: ",
      "regions: unknown SES region 'eu-wast-1'" },
    { "regions = us-east-1\n\tcn-north-1\n", "t.conf:1: ",
      "regions: unknown SES region 'cn-north-1'" },
    { "api_endpoint = email.{region}.amazonaws.com\n", "t.conf:1: ",
      "api_endpoint: 'email.{region}.amazonaws.com' does not start with" },
    { "api_endpoint =\n", "t.conf:1: ", "api_endpoint:" },
    { "sender_region_map = /nonexistent/sesgate/map\n",
      "/nonexistent/sesgate/map: ", "cannot open" },
};

/* test_err - each error names the file and the logical line */
START_TEST(test_err)
{
    const struct err_case *c = &err_cases[_i];
    char err[256];
    SG_CONF *conf;
    size_t n = strlen(c->prefix);

    conf = sg_conf_load_buf("t.conf", c->text, strlen(c->text), err,
                            sizeof(err));
    ck_assert_msg(conf == NULL, "case %d: got success, want %s%s", _i,
                  c->prefix, c->what);
    ck_assert_msg(strncmp(err, c->prefix, n) == 0,
                  "case %d: got %s, want prefix %s", _i, err, c->prefix);
    ck_assert_msg(strstr(err + n, c->what) != NULL,
                  "case %d: got %s, want %s%s", _i, err, c->prefix, c->what);
}
END_TEST

/* Warnings: text, the warning wanted (with file:line), how many. */
static const struct warn_case {
    const char *text;
    const char *want;
    int count;
} warn_cases[] = {
    { "log_level = debug\n\nfoo_bar = 1\n",
      "t.conf:3: unknown parameter foo_bar ignored", 1 },
    { "# x\nmax_recipients = 10\nlog_level = info\nmax_recipients = 20\n",
      "t.conf:4: max_recipients is also set on line 2", 1 },
    { "  log_level = info\n",
      "t.conf:1: logical line must not start with white space", 1 },
    { "log_level = info\n", "", 0 },
};

/* test_warn - unknown names and duplicates warn through sg_log */
START_TEST(test_warn)
{
    const struct warn_case *c = &warn_cases[_i];
    char err[256];
    SG_CONF *conf;

    conf = sg_conf_load_buf("t.conf", c->text, strlen(c->text), err,
                            sizeof(err));
    ck_assert_msg(conf != NULL, "case %d: got %s, want success", _i, err);
    ck_assert_msg(nlogged == c->count, "case %d: got %d warnings (%s), "
                  "want %d", _i, nlogged, logged, c->count);
    ck_assert_msg(strstr(logged, c->want) != NULL, "case %d: got %s, want %s",
                  _i, logged, c->want);
    sg_conf_free(conf);
}
END_TEST

/* test_defaults - the defaults equal the table, in every accessor */
START_TEST(test_defaults)
{
    const struct sg_conf_param *p;
    SG_CONF *conf;
    size_t n, i;
    const char *got;

    p = sg_conf_params(&n);
    ck_assert_msg(n >= 13, "got %zu parameters, want at least 13", n);
    conf = sg_conf_defaults();
    ck_assert_ptr_nonnull(conf);
    for (i = 0; i < n; i++) {
        got = sg_conf_get(conf, p[i].name);
        ck_assert_msg(got != NULL && strcmp(got, p[i].def) == 0,
                      "%s: got %s, want %s", p[i].name, NS(got), p[i].def);
        got = sg_conf_get(NULL, p[i].name);
        ck_assert_msg(got != NULL && strcmp(got, p[i].def) == 0,
                      "%s: got %s, want %s", p[i].name, NS(got), p[i].def);
        ck_assert_msg(p[i].doc != NULL && *p[i].doc != '\0',
                      "%s: no doc line", p[i].name);
        if (p[i].type == SG_CONF_INT || p[i].type == SG_CONF_SIZE)
            ck_assert_msg(p[i].min <= p[i].max, "%s: min > max", p[i].name);
    }
    /* The members themselves. */
    ck_assert_str_eq(conf->state_dir, "/var/lib/sesgate");
    ck_assert_str_eq(conf->quota_backend, "embedded");
    ck_assert_str_eq(conf->on_state_error, "tempfail");
    ck_assert_str_eq(conf->default_region, "");
    ck_assert(conf->max_recipients == 50);
    ck_assert(conf->message_size_limit == 40000000LL);
    ck_assert(conf->state_max_size == 17179869184LL);
    ck_assert_str_eq(conf->path, "");
    ck_assert_ptr_null(conf->map);
    ck_assert_ptr_null(sg_conf_get(conf, "no_such_parameter"));
    ck_assert_ptr_null(sg_conf_get(conf, NULL));
    sg_conf_free(conf);
    ck_assert_ptr_null(sg_conf_free(NULL));
}
END_TEST

/* test_enum_words - every ENUM default is one of its words (loads) */
START_TEST(test_enum_words)
{
    const struct sg_conf_param *p;
    char text[256], err[256];
    SG_CONF *conf;
    size_t n, i;

    p = sg_conf_params(&n);
    for (i = 0; i < n; i++) {
        if (p[i].type != SG_CONF_ENUM)
            continue;
        snprintf(text, sizeof(text), "%s = no-such-word\n", p[i].name);
        conf = sg_conf_load_buf("t.conf", text, strlen(text), err,
                                sizeof(err));
        ck_assert_msg(conf == NULL, "%s: got success, want bad value",
                      p[i].name);
    }
}
END_TEST

/* print_text - sg_conf_print into a new string */
static char *
print_text(const SG_CONF *conf)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *fp = open_memstream(&buf, &size);

    ck_assert_ptr_nonnull(fp);
    sg_conf_print(conf, fp);
    fclose(fp);
    return buf;
}

/* test_print - "name = value" lines in table order, as postconf -d */
START_TEST(test_print)
{
    const struct sg_conf_param *p;
    SG_CONF *conf;
    char want[4096], err[256], *got;
    size_t n, i, len = 0;
    static const char text[] =
        "max_recipients = 20\nmessage_size_limit = 1m\n"
        "default_region = eu-west-1\nquota_backend = REDIS\n";

    p = sg_conf_params(&n);
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(want + len, sizeof(want) - len,
                                *p[i].def ? "%s = %s\n" : "%s =%s\n",
                                p[i].name, p[i].def);
    got = print_text(NULL);
    ck_assert_msg(strcmp(got, want) == 0, "got %s, want %s", got, want);
    free(got);

    conf = sg_conf_defaults();
    got = print_text(conf);
    ck_assert_msg(strcmp(got, want) == 0, "got %s, want %s", got, want);
    ck_assert_msg(strncmp(got, "default_region =\n", 17) == 0,
                  "got %.40s, want default_region =", got);
    free(got);
    sg_conf_free(conf);

    conf = sg_conf_load_buf("t.conf", text, strlen(text), err, sizeof(err));
    ck_assert_msg(conf != NULL, "load: %s", err);
    got = print_text(conf);
    ck_assert_msg(strstr(got, "\nmax_recipients = 20\n") != NULL,
                  "got %s, want max_recipients = 20", got);
    ck_assert_msg(strstr(got, "\nmessage_size_limit = 1048576\n") != NULL,
                  "got %s, want message_size_limit = 1048576", got);
    ck_assert_msg(strstr(got, "default_region = eu-west-1\n") == got,
                  "got %s, want default_region = eu-west-1 first", got);
    ck_assert_msg(strstr(got, "\nquota_backend = redis\n") != NULL,
                  "got %s, want quota_backend = redis", got);
    free(got);
    sg_conf_free(conf);
}
END_TEST

/* test_bounds - overlong logical line and file are errors */
START_TEST(test_bounds)
{
    size_t len = SG_CONF_LINE_MAX * 2;
    char *buf = malloc(SG_CONF_FILE_MAX + 2), err[256];
    SG_CONF *conf;
    static const char nul_text[] = "log_level = info\nstate_dir = a\0b\n";

    ck_assert_ptr_nonnull(buf);
    /* A logical line of many short continuation lines. */
    memcpy(buf, "log_level = info\nregions = eu-west-1", 36);
    for (size_t i = 36; i < len; i++)
        buf[i] = i % 40 == 0 ? '\n' : i % 40 == 1 ? ' ' : 'a';
    conf = sg_conf_load_buf("t.conf", buf, len, err, sizeof(err));
    ck_assert_ptr_null(conf);
    ck_assert_msg(strncmp(err, "t.conf:2: logical line longer", 29) == 0,
                  "got %s, want t.conf:2: logical line longer...", err);

    memset(buf, '\n', SG_CONF_FILE_MAX + 1);
    conf = sg_conf_load_buf("t.conf", buf, SG_CONF_FILE_MAX + 1, err,
                            sizeof(err));
    ck_assert_ptr_null(conf);
    ck_assert_msg(strncmp(err, "t.conf: file larger", 19) == 0,
                  "got %s, want t.conf: file larger...", err);

    /* Exactly at the limit is fine. */
    conf = sg_conf_load_buf("t.conf", buf, SG_CONF_FILE_MAX, err,
                            sizeof(err));
    ck_assert_msg(conf != NULL, "got %s, want success", err);
    sg_conf_free(conf);

    conf = sg_conf_load_buf("t.conf", nul_text, sizeof(nul_text) - 1, err,
                            sizeof(err));
    ck_assert_ptr_null(conf);
    ck_assert_msg(strncmp(err, "t.conf:2: NUL", 13) == 0,
                  "got %s, want t.conf:2: NUL...", err);
    free(buf);
}
END_TEST

/* Temporary directory of the file cases. */
static char *tmpdir;

/* setup_tmp - a fresh directory for the file cases */
static void
setup_tmp(void)
{
    tmpdir = sg_test_tmpdir();
    ck_assert_ptr_nonnull(tmpdir);
}

/* teardown_tmp - remove it */
static void
teardown_tmp(void)
{
    sg_test_rmtree(tmpdir);
    free(tmpdir);
    tmpdir = NULL;
}

/* write_file - create dir/name with text */
static void
write_file(const char *name, const char *text)
{
    char path[4096];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    fp = fopen(path, "w");
    ck_assert_msg(fp != NULL, "cannot create %s", path);
    fputs(text, fp);
    fclose(fp);
}

/* test_file_map - a relative map is found beside the config file */
START_TEST(test_file_map)
{
    char path[4096], err[4200], want[4200];
    const char *key = NULL;
    SG_CONF *conf;

    write_file("sesgate.conf", "# test\ndefault_region = us-east-1\n"
               "sender_region_map = sender_region_map\n");
    write_file("sender_region_map", "# both Postfix and sesgate\n"
               "@example.com [email-smtp.eu-west-1.amazonaws.com]:587\n"
               "boss@example.com eu-central-1\n");
    snprintf(path, sizeof(path), "%s/sesgate.conf", tmpdir);
    conf = sg_conf_load(path, err, sizeof(err));
    ck_assert_msg(conf != NULL, "got %s, want success", err);
    ck_assert_str_eq(conf->path, path);
    ck_assert_str_eq(conf->sender_region_map, "sender_region_map");
    ck_assert_uint_eq(sg_region_map_count(conf->map), 2);
    ck_assert_ptr_eq(sg_region_map_find(conf->map, "a@example.com", &key),
                     sg_region_lookup("eu-west-1"));
    ck_assert_str_eq(key, "@example.com");
    ck_assert_ptr_eq(sg_region_resolve(NULL, conf->map, "x@other.test",
                                       conf->default_region, NULL),
                     sg_region_lookup("us-east-1"));
    sg_conf_free(conf);

    /* A map error is a config error carrying the map's file:line. */
    write_file("sender_region_map", "@example.com eu-west-1\n\n"
               "@example.org [smtp.example.org]:587\n");
    conf = sg_conf_load(path, err, sizeof(err));
    ck_assert_ptr_null(conf);
    snprintf(want, sizeof(want), "%s/sender_region_map:3: ", tmpdir);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
                  "got %s, want prefix %s", err, want);

    /* Errors in the file itself name the file. */
    write_file("sesgate.conf", "\n\nmax_recipients = 500\n");
    conf = sg_conf_load(path, err, sizeof(err));
    ck_assert_ptr_null(conf);
    snprintf(want, sizeof(want), "%s:3: max_recipients: 500 is above", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got %s, want %s",
                  err, want);

    /* Missing file, directory. */
    snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
    ck_assert_ptr_null(sg_conf_load(path, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s: cannot open", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got %s, want %s",
                  err, want);
    ck_assert_ptr_null(sg_conf_load(tmpdir, err, sizeof(err)));
    ck_assert_msg(strstr(err, "not a regular file") != NULL,
                  "got %s, want not a regular file", err);
    ck_assert_ptr_null(sg_conf_load(NULL, err, sizeof(err)));
}
END_TEST

/* sg_conf_suite - the conf suite */
Suite *
sg_conf_suite(void)
{
    Suite *s = suite_create("conf");
    TCase *tc;

    tc = tcase_create("syntax");
    tcase_add_checked_fixture(tc, setup_log, teardown_log);
    tcase_add_loop_test(tc, test_ok, 0,
                        (int)(sizeof(ok_cases) / sizeof(ok_cases[0])));
    tcase_add_loop_test(tc, test_err, 0,
                        (int)(sizeof(err_cases) / sizeof(err_cases[0])));
    tcase_add_loop_test(tc, test_warn, 0,
                        (int)(sizeof(warn_cases) / sizeof(warn_cases[0])));
    tcase_add_test(tc, test_bounds);
    suite_add_tcase(s, tc);

    tc = tcase_create("table");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_enum_words);
    tcase_add_test(tc, test_print);
    suite_add_tcase(s, tc);

    tc = tcase_create("file");
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_add_test(tc, test_file_map);
    suite_add_tcase(s, tc);
    return s;
}
