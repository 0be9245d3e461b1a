/* check_identity.c - placeholder until the module's suite lands */
#include <check.h>
#include "check_suites.h"

Suite *
sg_identity_suite(void)
{
    return suite_create("identity");
}
