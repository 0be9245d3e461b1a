/* suppress.c - placeholder */
typedef int sg_placeholder_suppress;
