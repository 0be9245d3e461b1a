/*
 * check_identity.c - identity keys and the mailbox simulator (R2, R3)
 *
 * Coverage against a real store (subdomains, parents, case, +label,
 * statuses) is exercised rule by rule in check_decide.c.
 */

/* System headers. */
#include <string.h>

/* Third-party headers. */
#include <check.h>

/* Local headers. */
#include "identity.h"
#include "check_suites.h"

static const struct {
    const char *name;
    const char *want;           /* NULL: refused */
} key_cases[] = {
    {"example.com", "example.com"},
    {"Example.COM", "example.com"},
    {"example.com.", "example.com"},
    {"Alice@Example.NET", "Alice@example.net"},
    {"a.b@SUB.Example.Org", "a.b@sub.example.org"},
    {"", NULL},
};

START_TEST(identity_key)
{
    char buf[SG_ADDR_MAX + 2];
    const char *got = sg_identity_key_buf(key_cases[_i].name, buf,
                                          sizeof(buf));

    if (key_cases[_i].want == NULL)
        ck_assert_msg(got == NULL, "%s: got %s, want NULL",
                      key_cases[_i].name, got);
    else
        ck_assert_msg(got != NULL && strcmp(got, key_cases[_i].want) == 0,
                      "%s: got %s, want %s", key_cases[_i].name,
                      got ? got : "NULL", key_cases[_i].want);
}
END_TEST

START_TEST(identity_key_too_long)
{
    char buf[8];

    ck_assert_ptr_null(sg_identity_key_buf("example.com", buf,
                                           sizeof(buf)));
}
END_TEST

static const struct {
    const char *addr;
    int want;
} sim_cases[] = {
    {"success@simulator.amazonses.com", 1},
    {"bounce@simulator.amazonses.com", 1},
    {"ooto@simulator.amazonses.com", 1},
    {"complaint@simulator.amazonses.com", 1},
    {"suppressionlist@simulator.amazonses.com", 1},
    {"bounce+label1@simulator.amazonses.com", 1},
    {"Success@SIMULATOR.amazonses.com", 1},
    {"other@simulator.amazonses.com", 0},
    {"success@amazonses.com", 0},
    {"success@sub.simulator.amazonses.com", 0},
    {"successful@simulator.amazonses.com", 0},
    {"success@example.com", 0},
};

START_TEST(simulator)
{
    struct sg_addr a;

    ck_assert_int_eq(sg_addr_parse_path(sim_cases[_i].addr, &a, NULL),
                     SG_ADDR_OK);
    ck_assert_msg(sg_identity_is_simulator(&a) == sim_cases[_i].want,
                  "%s: got %d, want %d", sim_cases[_i].addr,
                  !sim_cases[_i].want, sim_cases[_i].want);
}
END_TEST

Suite *
sg_identity_suite(void)
{
    Suite *s = suite_create("identity");
    TCase *tc = tcase_create("identity");

    tcase_add_loop_test(tc, identity_key, 0,
                        (int)(sizeof(key_cases) / sizeof(key_cases[0])));
    tcase_add_test(tc, identity_key_too_long);
    tcase_add_loop_test(tc, simulator, 0,
                        (int)(sizeof(sim_cases) / sizeof(sim_cases[0])));
    suite_add_tcase(s, tc);
    return s;
}
