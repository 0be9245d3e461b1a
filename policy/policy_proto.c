/* policy_proto.c - placeholder */
typedef int sg_placeholder_policy_proto;
