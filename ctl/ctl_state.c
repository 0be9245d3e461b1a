/* ctl_state.c - placeholder */
typedef int sg_placeholder_ctl_state;
