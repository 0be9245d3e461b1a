/* check_state.c - placeholder until the module's suite lands */
#include <check.h>
#include "check_suites.h"

Suite *
sg_state_suite(void)
{
    return suite_create("state");
}
