/* region.c - placeholder */
typedef int sg_placeholder_region;
