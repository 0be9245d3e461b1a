/*
 * check_main.c - the unit test runner: every module's suite, one binary
 */

/* System headers. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Third-party headers. */
#include <check.h>

/* Local headers. */
#include "check_suites.h"

/* sg_test_tmpdir - a fresh private directory under $TMPDIR */
char *
sg_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path;

    if (base == NULL || *base == '\0')
        base = "/tmp";
    if ((path = malloc(strlen(base) + 32)) == NULL)
        return NULL;
    sprintf(path, "%s/sesgate-test.XXXXXX", base);
    if (mkdtemp(path) == NULL) {
        free(path);
        return NULL;
    }
    return path;
}

/* sg_test_rmtree - remove a directory and everything below it */
void
sg_test_rmtree(const char *dir)
{
    DIR *d;
    struct dirent *e;
    char path[4096];
    struct stat sb;

    if (dir == NULL || (d = opendir(dir)) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
            sg_test_rmtree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

int
main(void)
{
    SRunner *sr;
    int failed;

    sr = srunner_create(sg_addr_suite());
    srunner_add_suite(sr, sg_metrics_suite());
    srunner_add_suite(sr, sg_conf_suite());
    srunner_add_suite(sr, sg_region_suite());
    srunner_add_suite(sr, sg_state_suite());
    srunner_add_suite(sr, sg_identity_suite());
    srunner_add_suite(sr, sg_decide_suite());
    srunner_add_suite(sr, sg_quota_suite());
    srunner_add_suite(sr, sg_policy_suite());
    srunner_add_suite(sr, sg_milter_suite());
    srunner_add_suite(sr, sg_authz_suite());
    srunner_add_suite(sr, sg_sigv4_suite());
    srunner_add_suite(sr, sg_smtpcred_suite());
    srunner_add_suite(sr, sg_sesapi_suite());
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
