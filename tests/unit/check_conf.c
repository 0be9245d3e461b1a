/* check_conf.c - placeholder until the module's suite lands */
#include <check.h>
#include "check_suites.h"

Suite *
sg_conf_suite(void)
{
    return suite_create("conf");
}
