/*
 * ctl.h - sesgatectl internals shared by its command modules
 *
 * sesgatectl is glue: it parses the command line, loads the
 * configuration, opens the state store and calls libsesgate. Every rule
 * lives in the library. Each command is a function
 *     int ctl_cmd_NAME(struct ctl_ctx *ctx, int argc, char **argv)
 * that gets the arguments after the command name (argv[0] is the
 * command name itself) and returns the program's exit status
 * (sysexits.h values, see sesgatectl(8) EXIT STATUS).
 */
#ifndef CTL_H
#define CTL_H

/* System headers. */
#include <stdio.h>

/* Local headers. */
#include "sesgate.h"
#include "conf.h"
#include "state.h"

/* Exit codes beyond the ones sesgate.h names (sysexits.h values). */
#define CTL_EXIT_DATAERR    65      /* bad input data (snapshot, file) */
#define CTL_EXIT_IOERR      74      /* I/O error on the store or a file */

/* The program name used as the prefix of every diagnostic. */
#define CTL_PROG            "sesgatectl"

/* Global options and the configuration, shared by the commands. */
struct ctl_ctx {
    const char *conf_path;      /* -c value, or SG_DEFAULT_CONF */
    int conf_given;             /* 1: -c was given */
    int verbose;                /* -v */
    SG_CONF *conf;              /* loaded by ctl_load_conf, or NULL */
};

/*
 * ctl_error - "sesgatectl: MESSAGE" on stderr
 */
extern void ctl_error(const char *fmt, ...) SG_PRINTFLIKE(1, 2);

/*
 * ctl_usage_error - "sesgatectl: CMD: MESSAGE" and a hint to use
 *   "sesgatectl CMD --help" on stderr
 *
 * Returns: SG_EXIT_USAGE, so that callers can "return ctl_usage_error()".
 */
extern int ctl_usage_error(const char *cmd, const char *fmt, ...)
    SG_PRINTFLIKE(2, 3);

/*
 * ctl_load_conf - load the configuration into ctx->conf
 *
 * Without -c a missing default file means the built-in defaults; with
 * -c, or when the default file exists, every problem is an error.
 * Parameters: quiet_missing, 1 to skip the default-file fallback note.
 * Returns: 0, or SG_EXIT_CONFIG after printing "sesgatectl: FILE:LINE:
 *   ..." (or SG_EXIT_SOFTWARE when out of memory).
 */
extern int ctl_load_conf(struct ctl_ctx *ctx);

/*
 * ctl_open_state - open the store of ctx->conf->state_dir
 *
 * Parameters: flags, SG_STATE_RDONLY, SG_STATE_CREATE or 0 (read-write
 *   on an existing store); out, set to the new handle.
 * Returns: 0, or an exit status after printing the reason
 *   (SG_EXIT_CONFIG for "no state in DIR: run sesgatectl import").
 */
extern int ctl_open_state(struct ctl_ctx *ctx, int flags, SG_STATE **out);

/*
 * ctl_open_snap - the configuration, the store read-only and a begun
 *   snapshot of it
 *
 * Parameters: st, snap: set to what was opened (NULL otherwise).
 * Returns: 0, or an exit status after printing the reason (that of
 *   ctl_load_conf or ctl_open_state; SG_EXIT_SOFTWARE when out of
 *   memory; SG_EXIT_CONFIG for "cannot read the state in DIR: ...").
 *   On failure too the caller frees *snap and closes *st.
 */
extern int ctl_open_snap(struct ctl_ctx *ctx, SG_STATE **st,
                         SG_SNAP **snap);

/*
 * ctl_status_exit - the exit status for a failed library call
 *
 * Input problems (SYNTAX, INVALID, TOOBIG, NOTFOUND) give 65, I/O and
 * disk-full problems 74, state-store problems and configuration 78,
 * usage 64, memory and internal errors 70.
 */
extern int ctl_status_exit(SG_STATUS status);

/*
 * ctl_iso8601_buf - epoch seconds as "2026-11-01T00:00:00Z"
 *
 * Returns: buf, or "-" (static) when t is 0 or out of range.
 */
extern const char *ctl_iso8601_buf(long long t, char *buf, size_t size);

/*
 * ctl_put_safe - write a string with control characters shown as '?'
 *
 * Addresses and verdict texts come from the command line or the
 * snapshot; a newline in one must not forge an output line of the
 * contract ("message: ACCEPT").
 */
extern void ctl_put_safe(const char *s, FILE *fp);

/* ctl_reset_getopt - prepare getopt_long for a fresh argument vector */
extern void ctl_reset_getopt(void);

/*
 * ctl_option_error - report what getopt_long refused
 *
 * Parameters: cmd, the command (NULL for global options); ch, what
 *   getopt_long returned (':' for a missing value, with optstrings
 *   that start with ':', or '?'); argv, the vector being scanned.
 * Returns: SG_EXIT_USAGE.
 */
extern int ctl_option_error(const char *cmd, int ch, char **argv);

/*
 * ctl_finish_stdout - flush stdout and report a write error
 *
 * Returns: status unchanged, or CTL_EXIT_IOERR when stdout failed.
 */
extern int ctl_finish_stdout(int status);

/* The commands. */
extern int ctl_cmd_import(struct ctl_ctx *ctx, int argc, char **argv);
extern int ctl_cmd_export(struct ctl_ctx *ctx, int argc, char **argv);
extern int ctl_cmd_status(struct ctl_ctx *ctx, int argc, char **argv);
extern int ctl_cmd_check(struct ctl_ctx *ctx, int argc, char **argv);
extern int ctl_cmd_suppress(struct ctl_ctx *ctx, int argc, char **argv);
extern int ctl_cmd_config(struct ctl_ctx *ctx, int argc, char **argv);
extern int ctl_cmd_quota(struct ctl_ctx *ctx, int argc, char **argv);
extern int ctl_cmd_lint(struct ctl_ctx *ctx, int argc, char **argv);
extern int ctl_cmd_dns(struct ctl_ctx *ctx, int argc, char **argv);
extern int ctl_cmd_policy_test(struct ctl_ctx *ctx, int argc, char **argv);
extern int ctl_cmd_sync(struct ctl_ctx *ctx, int argc, char **argv);
extern int ctl_cmd_smtp_password(struct ctl_ctx *ctx, int argc,
                                 char **argv);
extern int ctl_cmd_postfix_config(struct ctl_ctx *ctx, int argc,
                                  char **argv);

/*
 * ctl_sync_remote_remove - DeleteSuppressedDestination for addresses in
 *   one region, or in every region of "regions" when region is NULL
 *   (R5); a region that fails is reported and its addresses kept in
 *   STATE_DIR/sync-pending.json for the next sync
 *
 * Returns: 0 (also when no credentials or no regions are configured:
 *   the removal is then local only), or an exit status.
 */
extern int ctl_sync_remote_remove(struct ctl_ctx *ctx, const char *region,
                                  const char *const *addrs, size_t n);

/*
 * ctl_sync_remote_add - PutSuppressedDestination in one region
 *
 * Returns: 0 (also without credentials), or an exit status after
 *   reporting SES's refusal (the sandbox refuses it).
 */
extern int ctl_sync_remote_add(struct ctl_ctx *ctx, const char *region,
                               const char *const *addrs, size_t n,
                               const char *reason);

/*
 * ctl_config_check - "sesgatectl -n": check the configuration and that
 *   the state store opens read-only
 *
 * Returns: 0 and "FILE: configuration OK" on stdout, or 78.
 */
extern int ctl_config_check(struct ctl_ctx *ctx);

#endif /* CTL_H */
