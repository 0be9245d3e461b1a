/* addr.c - placeholder */
typedef int sg_placeholder_addr;
