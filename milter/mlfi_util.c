/* mlfi_util.c - placeholder */
typedef int sg_placeholder_mlfi_util;
