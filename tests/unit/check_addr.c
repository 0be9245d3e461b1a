/* check_addr.c - placeholder until the module's suite lands */
#include <check.h>
#include "check_suites.h"

Suite *
sg_addr_suite(void)
{
    return suite_create("addr");
}
