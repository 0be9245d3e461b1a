/*
 * check_suites.h - one Check suite per library module
 *
 * Each tests/unit/check_<module>.c exports sg_<module>_suite(); the
 * runner in check_main.c adds them all. Run one suite with
 * CK_RUN_SUITE=addr, one case with CK_RUN_CASE=NAME.
 */
#ifndef CHECK_SUITES_H
#define CHECK_SUITES_H

#include <check.h>

extern Suite *sg_addr_suite(void);
extern Suite *sg_metrics_suite(void);
extern Suite *sg_conf_suite(void);
extern Suite *sg_region_suite(void);
extern Suite *sg_state_suite(void);
extern Suite *sg_identity_suite(void);
extern Suite *sg_decide_suite(void);
extern Suite *sg_quota_suite(void);
extern Suite *sg_policy_suite(void);
extern Suite *sg_milter_suite(void);
extern Suite *sg_authz_suite(void);
extern Suite *sg_sigv4_suite(void);
extern Suite *sg_smtpcred_suite(void);
extern Suite *sg_sesapi_suite(void);

/* Test helpers shared by the suites (check_main.c). */

/* sg_test_tmpdir - a fresh mkdtemp() directory; returns new string */
extern char *sg_test_tmpdir(void);

/* sg_test_rmtree - remove a directory tree made by sg_test_tmpdir */
extern void sg_test_rmtree(const char *dir);

#endif
