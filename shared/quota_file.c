/* quota_file.c - placeholder */
typedef int sg_placeholder_quota_file;
