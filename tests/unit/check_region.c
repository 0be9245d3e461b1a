/* check_region.c - placeholder until the module's suite lands */
#include <check.h>
#include "check_suites.h"

Suite *
sg_region_suite(void)
{
    return suite_create("region");
}
