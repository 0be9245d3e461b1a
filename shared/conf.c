/* conf.c - placeholder */
typedef int sg_placeholder_conf;
