/* state.c - placeholder */
typedef int sg_placeholder_state;
