/* mlfi_util.h - placeholder */
