/*
 * check_smtpcred.c - unit suite of smtpcred.c (R9) and awscred.c
 *
 * Vectors: ses-rules.md R9 / ses-facts.md 8 (published in
 * terraform-provider-aws), and more computed independently with
 * Python's hmac/hashlib/base64 from the algorithm in R9.
 */

/* System headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Third-party headers. */
#include <check.h>

/* Local headers. */
#include "sesgate.h"
#include "smtpcred.h"
#include "awscred.h"
#include "check_suites.h"

static const char example_secret[] =
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/* One derivation. region NULL: legacy. */
struct pw_case {
    const char *secret;
    const char *region;
    const char *want;
};

static const struct pw_case pw_cases[] = {
    /* ses-rules.md R9 */
    { "some+secret+key", "eu-central-1",
      "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2" },
    { "some+secret+key", "us-west-1",
      "BH+jbMzper5WwlwUar9E1ySBqHa9whi0GPo+sJ0mVYJj" },
    { "some+secret+key", NULL,
      "AnkqhOiWEcszZZzTMCQbOY1sPGoLFgMH9zhp4eNgSjo4" },
    /* ses-facts.md 8 */
    { "another+secret+key", "eu-central-1",
      "BBbphbrQmrKMx42d1N6+C7VINYEBGI5v9VsZeTxwskfh" },
    { "another+secret+key", "us-west-1",
      "BKVmjjMDFk/qqw8EROW99bjCS65PF8WKvK5bSr4Y6EqF" },
    { "another+secret+key", NULL,
      "Akwqr0Giwi8FsQFgW3DXWCC2DiiQ/jZjqLDWK8TeTBgL" },
    { example_secret, "us-east-1",
      "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9" },
    /* computed independently (Python) */
    { example_secret, "eu-west-1",
      "BMW5RDrXmmVs0lV7GpI4oLkHXpZ4stDsk6q91z1g38Pk" },
    { example_secret, "us-gov-west-1",
      "BHW/eHvx1MM9YwW4wrJG6MGVQmLDCAM99G9YiSdGEIAw" },
    { "x", "ap-southeast-5",
      "BFVmZ2l+noH96+d4HK9UQ7HshC0VdvFzHBDSPELedgCb" },
    { example_secret, NULL,
      "An60U4ZD3sd4fg+FvXUjayOipTt8LO4rUUmhpdX6ctDy" },
};
#define PW_CASES ((int)(sizeof(pw_cases) / sizeof(pw_cases[0])))

/* test_derive - each vector, kind and match */
START_TEST(test_derive)
{
    const struct pw_case *c = &pw_cases[_i];
    char buf[SG_SMTPCRED_BUFSIZE];
    const char *got;

    if (c->region != NULL)
        got = sg_smtpcred_password_buf(c->secret, c->region, buf,
                                       sizeof(buf));
    else
        got = sg_smtpcred_legacy_buf(c->secret, buf, sizeof(buf));
    ck_assert_msg(got != NULL && strcmp(got, c->want) == 0,
                  "%s/%s: got %s, want %s", c->secret,
                  c->region ? c->region : "legacy", got ? got : "(null)",
                  c->want);
    ck_assert_int_eq(sg_smtpcred_kind(c->want), c->region != NULL
                     ? SG_SMTPCRED_CURRENT : SG_SMTPCRED_LEGACY);
    ck_assert_int_eq(sg_smtpcred_matches(c->want, c->secret,
                                         c->region ? c->region
                                         : "us-east-1"), 1);
    ck_assert_int_eq(sg_smtpcred_matches(c->want, "other+secret",
                                         c->region ? c->region
                                         : "us-east-1"), 0);
}
END_TEST

/* Password forms. */
struct kind_case {
    const char *pw;
    enum sg_smtpcred_kind want;
};

static const struct kind_case kind_cases[] = {
    { " BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2\n",
      SG_SMTPCRED_CURRENT },
    { "AnkqhOiWEcszZZzTMCQbOY1sPGoLFgMH9zhp4eNgSjo4", SG_SMTPCRED_LEGACY },
    { "", SG_SMTPCRED_UNKNOWN },
    { "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ", SG_SMTPCRED_UNKNOWN },
    { "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2A",
      SG_SMTPCRED_UNKNOWN },
    { "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdW==", SG_SMTPCRED_UNKNOWN },
    { "CMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2", SG_SMTPCRED_UNKNOWN },
    { "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZd*Z2", SG_SMTPCRED_UNKNOWN },
};

/* test_kind - legacy, current or neither */
START_TEST(test_kind)
{
    const struct kind_case *c = &kind_cases[_i];

    ck_assert_msg(sg_smtpcred_kind(c->pw) == c->want, "%s: got %d, want %d",
                  c->pw, sg_smtpcred_kind(c->pw), c->want);
}
END_TEST

/* test_region_matters - a password is one region's */
START_TEST(test_region_matters)
{
    ck_assert_int_eq(sg_smtpcred_matches(
        "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2", "some+secret+key",
        "us-west-1"), 0);
    ck_assert_ptr_null(sg_smtpcred_password_buf("s", "us-east-1",
                       (char[8]){ 0 }, 8));
    ck_assert_ptr_null(sg_smtpcred_password_buf("s", "", (char[64]){ 0 },
                       64));
}
END_TEST

/* Fixture: a temp dir for credentials files. */
static char *tmp;

static void
setup(void)
{
    tmp = sg_test_tmpdir();
    ck_assert_ptr_nonnull(tmp);
}

static void
teardown(void)
{
    sg_test_rmtree(tmp);
    free(tmp);
    tmp = NULL;
}

/* write_file - a file with a mode */
static void
write_file(const char *path, const char *text, mode_t mode)
{
    FILE *fp = fopen(path, "w");

    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
    chmod(path, mode);
}

static const char cred_text[] =
    "# comment\n"
    "[default]\n"
    "aws_access_key_id = AKIDDEFAULT\n"
    "aws_secret_access_key = secretdefault\n"
    "\n"
    "[profile ops]\n"
    "aws_access_key_id=AKIDOPS\n"
    "aws_secret_access_key=secret/ops+key\n"
    "aws_session_token = tok\n"
    "[half]\n"
    "aws_access_key_id = AKIDHALF\n";

/* test_cred_file - profiles, modes, missing keys */
START_TEST(test_cred_file)
{
    struct sg_awscred c;
    char path[4096], err[512];

    snprintf(path, sizeof(path), "%s/credentials", tmp);
    write_file(path, cred_text, 0600);
    ck_assert_int_eq(sg_awscred_load_file(path, "default", &c, err,
                                          sizeof(err)), SG_OK);
    ck_assert_str_eq(c.access_key, "AKIDDEFAULT");
    ck_assert_str_eq(c.secret_key, "secretdefault");
    ck_assert_str_eq(c.session_token, "");
    ck_assert_int_eq(sg_awscred_load_file(path, "ops", &c, err,
                                          sizeof(err)), SG_OK);
    ck_assert_str_eq(c.access_key, "AKIDOPS");
    ck_assert_str_eq(c.secret_key, "secret/ops+key");
    ck_assert_str_eq(c.session_token, "tok");
    ck_assert_int_eq(sg_awscred_load_file(path, "nope", &c, err,
                                          sizeof(err)), SG_ERR_NOTFOUND);
    ck_assert_int_eq(sg_awscred_load_file(path, "half", &c, err,
                                          sizeof(err)), SG_ERR_CONFIG);
    ck_assert_msg(strstr(err, "lacks") != NULL, "got %s", err);
    chmod(path, 0644);
    ck_assert_int_eq(sg_awscred_load_file(path, "default", &c, err,
                                          sizeof(err)), SG_ERR_CONFIG);
    ck_assert_msg(strstr(err, "chmod 600") != NULL, "got %s", err);
    ck_assert_msg(strstr(err, "secretdefault") == NULL, "secret in %s",
                  err);
    sg_awscred_clear(&c);
    ck_assert_str_eq(c.secret_key, "");
}
END_TEST

/* test_cred_order - conf file, then environment, then shared file */
START_TEST(test_cred_order)
{
    struct sg_awscred c;
    char path[4096], err[512];

    snprintf(path, sizeof(path), "%s/credentials", tmp);
    write_file(path, cred_text, 0600);
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_PROFILE");
    ck_assert_int_eq(sg_awscred_load(path, "", &c, err, sizeof(err)),
                     SG_OK);
    ck_assert_str_eq(c.access_key, "AKIDDEFAULT");
    ck_assert_int_eq(sg_awscred_load("", "", &c, err, sizeof(err)), SG_OK);
    ck_assert_str_eq(c.access_key, "AKIDENV");
    ck_assert_str_eq(c.source, "environment");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    setenv("AWS_PROFILE", "ops", 1);
    ck_assert_int_eq(sg_awscred_load(NULL, NULL, &c, err, sizeof(err)),
                     SG_OK);
    ck_assert_str_eq(c.access_key, "AKIDOPS");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unsetenv("AWS_PROFILE");
    sg_awscred_clear(&c);
}
END_TEST

Suite *
sg_smtpcred_suite(void)
{
    Suite *s = suite_create("smtpcred");
    TCase *tc = tcase_create("smtpcred");
    TCase *tf = tcase_create("awscred");

    tcase_add_loop_test(tc, test_derive, 0, PW_CASES);
    tcase_add_loop_test(tc, test_kind, 0,
                        (int)(sizeof(kind_cases) / sizeof(kind_cases[0])));
    tcase_add_test(tc, test_region_matters);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(tf, setup, teardown);
    tcase_add_test(tf, test_cred_file);
    tcase_add_test(tf, test_cred_order);
    suite_add_tcase(s, tf);
    return s;
}
