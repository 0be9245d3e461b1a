/* ctl_suppress.c - placeholder */
typedef int sg_placeholder_ctl_suppress;
