/*
 * mlfi.h - the libmilter callbacks of sesgate-milter and the loaded
 *          configuration they share
 *
 * A configuration (struct mlfi_cfg: the parsed sesgate.conf, the state
 * store handle, the quota handle) is loaded at start and on reload
 * (SIGUSR1) off to the side, then swapped in under a mutex. Every
 * milter connection takes a reference to the current one in its first
 * callback and keeps it until xxfi_close, so in-flight messages finish
 * on the configuration they started with; the last reference frees an
 * old one (OpenDKIM's conf_refcnt pattern, STYLE.md rule 8).
 */
#ifndef MLFI_H
#define MLFI_H

/* Third-party headers. */
#include <libmilter/mfapi.h>

/* Local headers. */
#include "sesgate.h"
#include "conf.h"
#include "metrics.h"

/* The program name used in diagnostics and the smfiDesc. */
#define MLFI_PROG   "sesgate-milter"

/* The filter description for smfi_register. */
extern struct smfiDesc mlfi_desc;

/*
 * mlfi_cfg_load - load a configuration and make it the current one
 *
 * Parameters: path, the configuration file, or NULL for the built-in
 *   defaults; socket, the -p override (or NULL); err/errlen: the reason
 *   of a failure ("FILE:LINE: ...", "no state in DIR ...").
 * Returns: 0, or -1 with err set (the previous configuration, if any,
 *   stays current). Thread-safety: safe; used by the reload thread.
 */
extern int mlfi_cfg_load(const char *path, char *err, size_t errlen);

/*
 * mlfi_cfg_conf - the current configuration's parameters
 *
 * Returns: borrowed; valid until the next mlfi_cfg_load or
 *   mlfi_cfg_shutdown (main thread use only, before smfi_main).
 */
extern const SG_CONF *mlfi_cfg_conf(void);

/*
 * mlfi_set_tcp_port - the TCP port the milter listens on (inet:PORT@..),
 *   so that the callbacks can find the MTA's socket and ACK at once
 *   (see quickack in mlfi.c); not called for unix sockets
 */
extern void mlfi_set_tcp_port(int port);

/* The shared counters (metrics.h), opened by main; NULL: none. */
extern SG_METRICS *mlfi_metrics;

/* mlfi_metrics_gauges - sg_metrics_gauges_fn of the metrics listener:
 *   quota usage and state age through the current configuration */
extern void mlfi_metrics_gauges(void *arg, struct sg_metrics_gauges *g);

/* mlfi_cfg_shutdown - drop the current configuration (at exit) */
extern void mlfi_cfg_shutdown(void);

#endif /* MLFI_H */
