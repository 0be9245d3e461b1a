/* policy_proto.h - placeholder */
