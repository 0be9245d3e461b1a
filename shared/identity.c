/* identity.c - placeholder */
typedef int sg_placeholder_identity;
