/* ctl_config.c - placeholder */
typedef int sg_placeholder_ctl_config;
