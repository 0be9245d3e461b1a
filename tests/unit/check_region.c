/*
 * check_region.c - unit suite of region.c: table, relay hosts, map
 */

/* System headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Third-party headers. */
#include <check.h>

/* Local headers. */
#include "sesgate.h"
#include "region.h"
#include "check_suites.h"

#define NS(s) ((s) != NULL ? (s) : "(null)")

/* The R1 list (ses-rules.md), independent of the table in region.c. */
static const char *const r1_regions[] = {
    "af-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2",
    "ap-southeast-3", "ap-southeast-5", "ca-central-1", "ca-west-1",
    "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1",
    "me-central-1", "me-south-1", "sa-east-1", "us-east-1",
    "us-east-2", "us-west-1", "us-west-2", "us-gov-east-1",
    "us-gov-west-1",
};
#define R1_COUNT ((int)(sizeof(r1_regions) / sizeof(r1_regions[0])))

/* Regions with a FIPS API endpoint (ses-facts.md 1.2). */
static const char *const fips_regions[] = {
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
    "us-gov-east-1", "us-gov-west-1", NULL
};

/* in_list - whether name is in a NULL-terminated list */
static int
in_list(const char *const *list, const char *name)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

/* test_lookup_r1 - every R1 name is found, in any case, with its hosts */
START_TEST(test_lookup_r1)
{
    const char *name = r1_regions[_i];
    const struct sg_region *r;
    char want[128], upper[SG_REGION_MAX + 1];

    r = sg_region_lookup(name);
    ck_assert_msg(r != NULL, "%s: got NULL, want a row", name);
    ck_assert_msg(strcmp(r->name, name) == 0, "got %s, want %s", r->name,
                  name);
    ck_assert_msg(r->description != NULL && *r->description != '\0',
                  "%s: no description", name);

    snprintf(want, sizeof(want), "email.%s.amazonaws.com", name);
    ck_assert_msg(strcmp(r->api_host, want) == 0, "got %s, want %s",
                  r->api_host, want);
    snprintf(want, sizeof(want), "email-smtp.%s.amazonaws.com", name);
    ck_assert_msg(strcmp(r->smtp_host, want) == 0, "got %s, want %s",
                  r->smtp_host, want);
    snprintf(want, sizeof(want), "feedback-smtp.%s.amazonses.com", name);
    ck_assert_msg(strcmp(r->feedback_host, want) == 0, "got %s, want %s",
                  r->feedback_host, want);
    if (in_list(fips_regions, name)) {
        snprintf(want, sizeof(want), "email-fips.%s.amazonaws.com", name);
        ck_assert_msg(r->fips_host != NULL
                      && strcmp(r->fips_host, want) == 0,
                      "got %s, want %s", NS(r->fips_host), want);
    } else {
        ck_assert_msg(r->fips_host == NULL, "%s: got %s, want NULL", name,
                      r->fips_host);
    }
    ck_assert_msg(r->govcloud == (strncmp(name, "us-gov-", 7) == 0),
                  "%s: got govcloud %d", name, r->govcloud);

    ck_assert_ptr_nonnull(sg_region_upper_buf(name, upper, sizeof(upper)));
    ck_assert_msg(sg_region_lookup(upper) == r, "%s: upper case not found",
                  upper);
}
END_TEST

/* test_table - 29 rows, each an R1 region, no duplicates */
START_TEST(test_table)
{
    const struct sg_region *t;
    size_t n, i, j;

    t = sg_region_table(&n);
    ck_assert_msg(n == (size_t)R1_COUNT, "got %zu rows, want %d", n,
                  R1_COUNT);
    for (i = 0; i < n; i++) {
        int found = 0;

        for (j = 0; j < (size_t)R1_COUNT; j++)
            found |= strcmp(t[i].name, r1_regions[j]) == 0;
        ck_assert_msg(found, "got %s, want an R1 region", t[i].name);
        for (j = i + 1; j < n; j++)
            ck_assert_msg(strcmp(t[i].name, t[j].name) != 0,
                          "duplicate row %s", t[i].name);
    }
    /* Spot checks of the documented, not derived, columns. */
    ck_assert_str_eq(sg_region_lookup("eu-west-1")->description,
                     "Europe (Ireland)");
    ck_assert_str_eq(sg_region_lookup("us-gov-west-1")->description,
                     "AWS GovCloud (US-West)");
    ck_assert_int_eq(sg_region_lookup("us-east-1")->smtp_known, 1);
    ck_assert_int_eq(sg_region_lookup("af-south-1")->smtp_known, 0);
    ck_assert_str_eq(sg_region_lookup("us-west-2")->inbound_host,
                     "inbound-smtp.us-west-2.amazonaws.com");
    ck_assert_ptr_null(sg_region_lookup("eu-central-1")->inbound_host);
    ck_assert_ptr_null(sg_region_lookup("us-gov-west-1")->inbound_host);
}
END_TEST

/* Names that are not SES regions. */
static const char *const unknown_regions[] = {
    "", "eu-west-9", "us-east-1 ", " us-east-1", "us-east", "cn-north-1",
    "eusc-de-east-1", "fips-us-east-1", "email.us-east-1.amazonaws.com",
    "us-east-1x",
};

/* test_lookup_unknown - unknown names give NULL */
START_TEST(test_lookup_unknown)
{
    const struct sg_region *r = sg_region_lookup(unknown_regions[_i]);

    ck_assert_msg(r == NULL, "'%s': got %s, want NULL", unknown_regions[_i],
                  r != NULL ? r->name : "");
}
END_TEST

/* Relay host forms and the region they name (NULL: not an SES host). */
static const struct relay_case {
    const char *in;
    const char *want;
} relay_cases[] = {
    { "[email-smtp.eu-west-1.amazonaws.com]:587", "eu-west-1" },
    { "email-smtp.eu-west-1.amazonaws.com", "eu-west-1" },
    { "email-smtp.eu-west-1.amazonaws.com:465", "eu-west-1" },
    { "[email-smtp.eu-west-1.amazonaws.com]", "eu-west-1" },
    { "smtp:[email-smtp.us-east-1.amazonaws.com]:587", "us-east-1" },
    { "smtp:email-smtp.us-east-1.amazonaws.com", "us-east-1" },
    { "relay:[email-smtp.ap-southeast-5.amazonaws.com]", "ap-southeast-5" },
    { "email-smtp-fips.us-east-1.amazonaws.com", "us-east-1" },
    { "email-smtp-fips.us-gov-west-1.amazonaws.com:465", "us-gov-west-1" },
    { "[EMAIL-SMTP.EU-WEST-2.AMAZONAWS.COM]:2587", "eu-west-2" },
    { "SMTP:[Email-Smtp.Us-West-2.AmazonAWS.com]:25", "us-west-2" },
    { "email-smtp-fips.eu-west-1.amazonaws.com", NULL },
    { "email-smtp.eu-west-9.amazonaws.com", NULL },
    { "email.eu-west-1.amazonaws.com", NULL },
    { "email-smtp.eu-west-1.amazonses.com", NULL },
    { "email-smtp.eu-west-1.amazonaws.com.", NULL },
    { "[email-smtp.eu-west-1.amazonaws.com", NULL },
    { "[email-smtp.eu-west-1.amazonaws.com]587", NULL },
    { "[email-smtp.eu-west-1.amazonaws.com]:", NULL },
    { "[email-smtp.eu-west-1.amazonaws.com]:0", NULL },
    { "[email-smtp.eu-west-1.amazonaws.com]:65536", NULL },
    { "[email-smtp.eu-west-1.amazonaws.com]:587x", NULL },
    { "[email-smtp.eu-west-1.amazonaws.com]:000587", NULL },
    { "lmtp:[email-smtp.eu-west-1.amazonaws.com]:587", NULL },
    { "email-smtp..amazonaws.com", NULL },
    { "email-smtp.amazonaws.com", NULL },
    { "eu-west-1", NULL },
    { "", NULL },
    { "[]:587", NULL },
    { "smtp:", NULL },
};

/* test_relay - sg_region_from_relay on each form */
START_TEST(test_relay)
{
    const struct relay_case *c = &relay_cases[_i];
    const struct sg_region *r = sg_region_from_relay(c->in);
    const char *got = r != NULL ? r->name : NULL;

    ck_assert_msg(got == c->want || (got != NULL && c->want != NULL
                                     && strcmp(got, c->want) == 0),
                  "'%s': got %s, want %s", c->in, NS(got), NS(c->want));
}
END_TEST

/* test_value - a map value is a region name or a relay host */
START_TEST(test_value)
{
    ck_assert_ptr_eq(sg_region_from_value("eu-west-1"),
                     sg_region_lookup("eu-west-1"));
    ck_assert_ptr_eq(sg_region_from_value("EU-WEST-1"),
                     sg_region_lookup("eu-west-1"));
    ck_assert_ptr_eq(sg_region_from_value("[email-smtp.us-east-2."
                                          "amazonaws.com]:587"),
                     sg_region_lookup("us-east-2"));
    ck_assert_ptr_null(sg_region_from_value("[relay.example.com]:587"));
    ck_assert_ptr_null(sg_region_from_value(NULL));
    ck_assert_ptr_null(sg_region_from_relay(NULL));
}
END_TEST

/* The map used by the lookup cases. */
static const char lookup_map[] =
    "# sender_region_map: feeds Postfix and sesgate\n"
    "\n"
    "alice@example.com        eu-west-1\n"
    "@example.com             [email-smtp.us-east-1.amazonaws.com]:587\n"
    "@sub.example.com         us-west-2\n"
    "   # indented comment\n"
    "@Example.ORG             smtp:email-smtp.eu-central-1.amazonaws.com\n"
    "Bob@Example.NET          ap-south-1\r\n"
    "@com                     sa-east-1\n"
    "\"a@b\"@quoted.test      ca-central-1\n"
    "@[192.0.2.1]             eu-north-1\n"
    "last@example.io\teu-west-3";

/* Lookups: address, want region (NULL: none), want matched key. */
static const struct find_case {
    const char *addr;
    const char *want;
    const char *key;
} find_cases[] = {
    { "alice@example.com", "eu-west-1", "alice@example.com" },
    { "ALICE@EXAMPLE.COM", "eu-west-1", "alice@example.com" },
    { "carol@example.com", "us-east-1", "@example.com" },
    { "carol@mail.example.com", "us-east-1", "@example.com" },
    { "carol@sub.example.com", "us-west-2", "@sub.example.com" },
    { "carol@a.b.sub.example.com", "us-west-2", "@sub.example.com" },
    { "alice@sub.example.com", "us-west-2", "@sub.example.com" },
    { "x@example.org", "eu-central-1", "@example.org" },
    { "x@deep.EXAMPLE.org", "eu-central-1", "@example.org" },
    { "bob@example.net", "ap-south-1", "bob@example.net" },
    { "other@example.net", NULL, NULL },
    { "someone@other.com", "sa-east-1", "@com" },
    { "\"a@b\"@quoted.test", "ca-central-1", "\"a@b\"@quoted.test" },
    { "x@[192.0.2.1]", "eu-north-1", "@[192.0.2.1]" },
    { "last@example.io", "eu-west-3", "last@example.io" },
    { "", NULL, NULL },
    { "postmaster", NULL, NULL },
    { "user@", NULL, NULL },
    { "user@example.net", NULL, NULL },
    { "user@example.com.", NULL, NULL },
};

/* test_find - lookup order: address, @domain, each @parent */
START_TEST(test_find)
{
    const struct find_case *c = &find_cases[_i];
    char err[256];
    SG_REGION_MAP *map;
    const struct sg_region *r;
    const char *key = "unset";

    map = sg_region_map_load_buf("map", lookup_map, strlen(lookup_map), err,
                                 sizeof(err));
    ck_assert_msg(map != NULL, "load: %s", err);
    ck_assert_uint_eq(sg_region_map_count(map), 9);
    r = sg_region_map_find(map, c->addr, &key);
    if (c->want == NULL) {
        ck_assert_msg(r == NULL, "'%s': got %s, want NULL", c->addr,
                      r != NULL ? r->name : "");
        ck_assert_msg(key == NULL, "'%s': got key %s, want NULL", c->addr,
                      NS(key));
    } else {
        ck_assert_msg(r != NULL && strcmp(r->name, c->want) == 0,
                      "'%s': got %s, want %s", c->addr,
                      r != NULL ? r->name : "(null)", c->want);
        if (c->key != NULL)
            ck_assert_msg(key != NULL && strcmp(key, c->key) == 0,
                          "'%s': got key %s, want %s", c->addr, NS(key),
                          c->key);
    }
    sg_region_map_free(map);
}
END_TEST

/* test_find_edges - NULL map, NULL key pointer, overlong address */
START_TEST(test_find_edges)
{
    char err[128], big[SG_ADDR_MAX + 20];
    SG_REGION_MAP *map;
    const char *key = "unset";

    ck_assert_ptr_null(sg_region_map_find(NULL, "a@example.com", &key));
    ck_assert_ptr_null(key);
    ck_assert_uint_eq(sg_region_map_count(NULL), 0);
    ck_assert_ptr_null(sg_region_map_free(NULL));

    map = sg_region_map_load_buf("m", "@example.com eu-west-1\n", 23, err,
                                 sizeof(err));
    ck_assert_msg(map != NULL, "load: %s", err);
    ck_assert_ptr_nonnull(sg_region_map_find(map, "a@example.com", NULL));
    memset(big, 'a', sizeof(big));
    memcpy(big + sizeof(big) - 13, "@example.com", 13);
    ck_assert_ptr_null(sg_region_map_find(map, big, &key));
    ck_assert_ptr_null(sg_region_map_find(map, NULL, &key));
    sg_region_map_free(map);

    /* Empty input is an empty map, not an error. */
    map = sg_region_map_load_buf("m", "", 0, err, sizeof(err));
    ck_assert_msg(map != NULL, "load: %s", err);
    ck_assert_uint_eq(sg_region_map_count(map), 0);
    ck_assert_ptr_null(sg_region_map_find(map, "a@example.com", NULL));
    sg_region_map_free(map);
}
END_TEST

/* test_many - the hash table grows and keeps every key */
START_TEST(test_many)
{
    size_t size = 5000 * 48, len = 0, i;
    char *buf = malloc(size), addr[64], err[128];
    const char *key;
    SG_REGION_MAP *map;

    ck_assert_ptr_nonnull(buf);
    for (i = 0; i < 5000; i++)
        len += (size_t)snprintf(buf + len, size - len,
                                "user%zu@d%zu.example %s\n", i, i % 7,
                                i % 2 ? "eu-west-1" : "us-east-1");
    map = sg_region_map_load_buf("m", buf, len, err, sizeof(err));
    ck_assert_msg(map != NULL, "load: %s", err);
    ck_assert_uint_eq(sg_region_map_count(map), 5000);
    for (i = 0; i < 5000; i++) {
        snprintf(addr, sizeof(addr), "USER%zu@D%zu.example", i, i % 7);
        ck_assert_msg(sg_region_map_find(map, addr, &key)
                      == sg_region_lookup(i % 2 ? "eu-west-1" : "us-east-1"),
                      "%s: wrong region", addr);
    }
    ck_assert_ptr_null(sg_region_map_find(map, "user5000@d0.example", NULL));
    sg_region_map_free(map);
    free(buf);
}
END_TEST

/* Map errors: input, want exact "name:LINE:" prefix, want substring. */
static const struct map_err_case {
    const char *in;
    const char *prefix;
    const char *what;
} map_err_cases[] = {
    { "a@example.com eu-west-9\n", "m:1: ", "unknown SES region or relay" },
    { "# c\n\na@example.com\n", "m:3: ", "missing value" },
    { "a@example.com   \n", "m:1: ", "missing value" },
    { "ok@example.com eu-west-1\n"
      "@example.com [relay.example.com]:587\n", "m:2: ",
      "unknown SES region or relay host '[relay.example.com]:587'" },
    { "example.com eu-west-1\n", "m:1: ", "bad key" },
    { "@ eu-west-1\n", "m:1: ", "bad key" },
    { "user@ eu-west-1\n", "m:1: ", "bad key" },
    { "a@b@example.com eu-west-1\n", "m:1: ", "bad key" },
    { "@.example.com eu-west-1\n", "m:1: ", "bad key" },
    { "@example..com eu-west-1\n", "m:1: ", "bad key" },
    { "@example.com. eu-west-1\n", "m:1: ", "bad key" },
    { "\n\n@Example.com eu-west-1\n#\n@example.COM us-east-1\n", "m:5: ",
      "duplicate key '@example.COM' (first on line 3)" },
    { "a@example.com eu-west-1 extra\n", "m:1: ", "unexpected text" },
    { "a@example.com eu-west-1\nb@example.com\0 eu-west-1\n", "m:2: ",
      "NUL" },
};

/* test_map_errors - each error names the map and the line */
START_TEST(test_map_errors)
{
    const struct map_err_case *c = &map_err_cases[_i];
    size_t len = strlen(c->in);
    char err[256];
    SG_REGION_MAP *map;

    /* The NUL case: the text goes on after the embedded NUL. */
    if (strstr(c->what, "NUL") != NULL)
        len = strlen(c->in) + 1 + strlen(c->in + strlen(c->in) + 1);
    map = sg_region_map_load_buf("m", c->in, len, err, sizeof(err));
    ck_assert_msg(map == NULL, "'%s': got a map, want an error", c->in);
    ck_assert_msg(strncmp(err, c->prefix, strlen(c->prefix)) == 0,
                  "got %s, want prefix %s", err, c->prefix);
    ck_assert_msg(strstr(err, c->what) != NULL, "got %s, want %s", err,
                  c->what);
}
END_TEST

/* test_map_bounds - overlong line, error text always terminated */
START_TEST(test_map_bounds)
{
    char *buf = malloc(5000), err[256], tiny[8];
    SG_REGION_MAP *map;

    ck_assert_ptr_nonnull(buf);
    memcpy(buf, "ok@example.com eu-west-1\n", 25);
    memset(buf + 25, 'x', 4975);
    map = sg_region_map_load_buf("m", buf, 5000, err, sizeof(err));
    ck_assert_ptr_null(map);
    ck_assert_msg(strncmp(err, "m:2: line longer", 16) == 0,
                  "got %s, want m:2: line longer...", err);
    map = sg_region_map_load_buf("longname", "x y\n", 4, tiny,
                                 sizeof(tiny));
    ck_assert_ptr_null(map);
    ck_assert_str_eq(tiny, "longnam");
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

/* test_map_file - sg_region_map_load: errors name the path */
START_TEST(test_map_file)
{
    char path[4096], err[4200], want[4200];
    SG_REGION_MAP *map;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/sender_region_map", tmpdir);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("@example.com eu-west-1\nbad-key eu-west-1\n", fp);
    fclose(fp);
    map = sg_region_map_load(path, err, sizeof(err));
    ck_assert_ptr_null(map);
    snprintf(want, sizeof(want), "%s:2: bad key", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got %s, want %s",
                  err, want);

    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("@example.com eu-west-1\n", fp);
    fclose(fp);
    map = sg_region_map_load(path, err, sizeof(err));
    ck_assert_msg(map != NULL, "load: %s", err);
    ck_assert_ptr_eq(sg_region_map_find(map, "a@example.com", NULL),
                     sg_region_lookup("eu-west-1"));
    sg_region_map_free(map);

    snprintf(path, sizeof(path), "%s/missing", tmpdir);
    ck_assert_ptr_null(sg_region_map_load(path, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s: cannot open", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got %s, want %s",
                  err, want);
    ck_assert_ptr_null(sg_region_map_load(tmpdir, err, sizeof(err)));
    ck_assert_msg(strstr(err, "not a regular file") != NULL,
                  "got %s, want not a regular file", err);
}
END_TEST

/* Resolve: explicit, map, default, in that order. */
static const struct resolve_case {
    const char *explicit_region;
    const char *sender;
    const char *def;
    const char *want;
    const char *how;
} resolve_cases[] = {
    { "us-west-1", "a@example.com", "eu-west-2", "us-west-1", "explicit" },
    { "nowhere-1", "a@example.com", "eu-west-2", NULL, "explicit" },
    { "", "a@example.com", "eu-west-2", "eu-west-1", "map" },
    { NULL, "a@other.test", "eu-west-2", "eu-west-2", "default" },
    { NULL, "", "eu-west-2", "eu-west-2", "default" },
    { NULL, "a@other.test", "bad", NULL, "default" },
    { NULL, "a@other.test", "", NULL, "none" },
    { NULL, NULL, NULL, NULL, "none" },
};

/* test_resolve - sg_region_resolve with a small map */
START_TEST(test_resolve)
{
    const struct resolve_case *c = &resolve_cases[_i];
    char err[128];
    SG_REGION_MAP *map;
    const struct sg_region *r;
    const char *how = NULL;

    map = sg_region_map_load_buf("m", "@example.com eu-west-1\n", 23, err,
                                 sizeof(err));
    ck_assert_msg(map != NULL, "load: %s", err);
    r = sg_region_resolve(c->explicit_region, map, c->sender, c->def, &how);
    ck_assert_msg((r == NULL && c->want == NULL)
                  || (r != NULL && c->want != NULL
                      && strcmp(r->name, c->want) == 0),
                  "case %d: got %s, want %s", _i, r ? r->name : "(null)",
                  NS(c->want));
    ck_assert_msg(how != NULL && strcmp(how, c->how) == 0,
                  "case %d: got how %s, want %s", _i, NS(how), c->how);
    sg_region_map_free(map);
}
END_TEST

/* test_upper - upper case into a caller buffer, NULL if too small */
START_TEST(test_upper)
{
    char buf[16];

    ck_assert_str_eq(sg_region_upper_buf("us-east-1", buf, sizeof(buf)),
                     "US-EAST-1");
    ck_assert_ptr_nonnull(sg_region_upper_buf("us-east-1", buf, 10));
    ck_assert_ptr_null(sg_region_upper_buf("us-east-1", buf, 9));
    ck_assert_ptr_null(sg_region_upper_buf(NULL, buf, sizeof(buf)));
}
END_TEST

/* sg_region_suite - the region suite */
Suite *
sg_region_suite(void)
{
    Suite *s = suite_create("region");
    TCase *tc;

    tc = tcase_create("table");
    tcase_add_loop_test(tc, test_lookup_r1, 0, R1_COUNT);
    tcase_add_test(tc, test_table);
    tcase_add_loop_test(tc, test_lookup_unknown, 0,
                        (int)(sizeof(unknown_regions)
                              / sizeof(unknown_regions[0])));
    tcase_add_test(tc, test_upper);
    suite_add_tcase(s, tc);

    tc = tcase_create("relay");
    tcase_add_loop_test(tc, test_relay, 0,
                        (int)(sizeof(relay_cases) / sizeof(relay_cases[0])));
    tcase_add_test(tc, test_value);
    suite_add_tcase(s, tc);

    tc = tcase_create("map");
    tcase_add_loop_test(tc, test_find, 0,
                        (int)(sizeof(find_cases) / sizeof(find_cases[0])));
    tcase_add_test(tc, test_find_edges);
    tcase_add_test(tc, test_many);
    tcase_add_loop_test(tc, test_map_errors, 0,
                        (int)(sizeof(map_err_cases)
                              / sizeof(map_err_cases[0])));
    tcase_add_test(tc, test_map_bounds);
    tcase_add_loop_test(tc, test_resolve, 0,
                        (int)(sizeof(resolve_cases)
                              / sizeof(resolve_cases[0])));
    suite_add_tcase(s, tc);

    tc = tcase_create("map_file");
    tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
    tcase_add_test(tc, test_map_file);
    suite_add_tcase(s, tc);
    return s;
}
