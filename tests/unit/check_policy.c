/* check_policy.c - placeholder until the module's suite lands */
#include <check.h>
#include "check_suites.h"

Suite *
sg_policy_suite(void)
{
    return suite_create("policy");
}
