/* check_quota.c - placeholder until the module's suite lands */
#include <check.h>
#include "check_suites.h"

Suite *
sg_quota_suite(void)
{
    return suite_create("quota");
}
