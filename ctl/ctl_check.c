/* ctl_check.c - placeholder */
typedef int sg_placeholder_ctl_check;
