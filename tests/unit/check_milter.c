/* check_milter.c - placeholder until the module's suite lands */
#include <check.h>
#include "check_suites.h"

Suite *
sg_milter_suite(void)
{
    return suite_create("milter");
}
