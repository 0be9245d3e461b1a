/* state_int.h - placeholder */
