/* quota_redis.c - placeholder */
typedef int sg_placeholder_quota_redis;
