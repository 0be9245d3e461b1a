/* quota_int.h - placeholder */
