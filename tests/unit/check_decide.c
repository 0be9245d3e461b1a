/* check_decide.c - placeholder until the module's suite lands */
#include <check.h>
#include "check_suites.h"

Suite *
sg_decide_suite(void)
{
    return suite_create("decide");
}
