/* quota.c - placeholder */
typedef int sg_placeholder_quota;
