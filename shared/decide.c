/* decide.c - placeholder */
typedef int sg_placeholder_decide;
