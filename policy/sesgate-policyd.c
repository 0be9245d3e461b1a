/*
 * sesgate-policyd.c - the Postfix policy service: options, config,
 *                     logging, privileges, signals
 *
 * sesgate-policyd [-c CONF] [-f] [-v] [-l inet:HOST:PORT | unix:PATH]
 * sesgate-policyd [-c CONF] -n
 * sesgate-policyd --help | --version
 *
 * Without -l it serves one client on fds 0 and 1 (spawn(8) in
 * master.cf). With -l it binds, writes policyd_pid_file, drops root to
 * policyd_user, detaches unless -f, and serves every connection on one
 * epoll loop (policy_loop.c). SIGHUP re-reads the configuration
 * (keeping the old one if the new one is bad); SIGTERM stops accepting,
 * finishes requests in flight and exits. Diagnostics go to syslog with
 * syslog_facility (mail), and with -f in listener mode to stderr too.
 */

/* System headers. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

/* Local headers. */
#include "config.h"
#include "sesgate.h"
#include "log.h"
#include "conf.h"
#include "metrics.h"
#include "state.h"
#include "quota.h"
#include "authz.h"
#include "policy_txn.h"
#include "policy_loop.h"

#define PROG "sesgate-policyd"
#define EXIT_OSERR 71

/* Options and what main opened. */
static const char *conf_path = SG_DEFAULT_CONF;
static int conf_given;
static int to_stderr;           /* -f in listener mode */
static int verbose;             /* -v */
static int syslog_open;
static char *unix_path;         /* socket to remove at exit */

/* usage - the help text */
static void
usage(FILE *fp)
{
    fprintf(fp,
            "Usage: %s [-c CONF] [-f] [-v] [-l inet:HOST:PORT|unix:PATH]\n"
            "       %s [-c CONF] -n\n"
            "       %s --help | --version\n"
            "\n"
            "Postfix SMTP access policy service (check_policy_service)\n"
            "applying Amazon SES's rules before mail is relayed to SES.\n"
            "\n"
            "Options:\n"
            "  -c CONF     configuration file (default %s)\n"
            "  -l LISTEN   listen on inet:HOST:PORT or unix:PATH; without\n"
            "              it, serve one client on stdin/stdout (spawn(8))\n"
            "  -f          stay in the foreground, log to stderr too\n"
            "  -n          check the configuration and exit\n"
            "  -v          log debug messages\n"
            "  -h, --help  show this help\n"
            "  -V, --version  show the version\n",
            PROG, PROG, PROG, SG_DEFAULT_CONF);
}

/* log_sink - syslog, plus stderr with -f; stderr alone before openlog */
static void
log_sink(int level, const char *msg, void *arg)
{
    static const char *const tags[] = {
        "error", "error", "error", "error", "warning", "notice", "info",
        "debug"
    };

    (void)arg;
    if (syslog_open)
        syslog(level, "%s", msg);
    if (to_stderr || !syslog_open)
        fprintf(stderr, "%s: %s: %s\n", PROG,
                level >= 0 && level <= 7 ? tags[level] : "info", msg);
}

/* setup_log - open syslog with the configured facility and level */
static void
setup_log(const SG_CONF *conf)
{
    if (syslog_open)
        closelog();
    openlog(PROG, LOG_PID | LOG_NDELAY,
            sg_log_facility_of(conf->syslog_facility));
    syslog_open = 1;
    sg_log_set_sink(log_sink, NULL,
                    verbose ? SG_LOG_DEBUG : sg_log_level_of(conf->log_level));
}

/* load_conf - the configuration file, or defaults when there is none */
static SG_CONF *
load_conf(char *err, size_t errlen)
{
    struct stat sb;

    err[0] = '\0';
    if (!conf_given && stat(conf_path, &sb) != 0 && errno == ENOENT) {
        sg_log(SG_LOG_WARNING, "%s not found: using built-in defaults",
               conf_path);
        return sg_conf_defaults();
    }
    return sg_conf_load(conf_path, err, errlen);
}

/* check_policyd_params - what only the daemon interprets */
static int
check_policyd_params(const SG_CONF *conf, char *err, size_t errlen)
{
    char *end;
    long mode;

    mode = strtol(conf->policyd_socket_mode, &end, 8);
    if (conf->policyd_socket_mode[0] == '\0' || *end != '\0' || mode < 0
        || mode > 07777) {
        snprintf(err, errlen, "%s: policyd_socket_mode '%.32s' is not an "
                 "octal mode", conf->path, conf->policyd_socket_mode);
        return -1;
    }
    if (conf->metrics_listen[0] != '\0') {
        char host[64];
        int port;

        if (sg_metrics_listen_parse(conf->metrics_listen, host,
                                    sizeof(host), &port, err, errlen) != 0)
            return -1;
    }
    /* A delegations file that does not load stops the start and is
     * refused by a reload (the old one stays), as in the milter. */
    if (conf->delegations[0] != '\0') {
        SG_DELEG *dl = sg_deleg_load(conf->delegations, err, errlen);

        if (dl == NULL)
            return -1;
        sg_deleg_free(dl);
    }
    return 0;
}

/* open_metrics - the shared counters and, when listening on a socket
 *   (not in spawn mode), the metrics_listen listener; neither is fatal */
static void
open_metrics(struct sg_pd *pd, const SG_CONF *conf, int listening)
{
    char err[1024];

    pd->metrics = sg_metrics_open(conf->state_dir, 0, err, sizeof(err));
    if (pd->metrics == NULL)
        sg_log(SG_LOG_WARNING, "%s: counting nothing", err);
    if (!listening || conf->metrics_listen[0] == '\0')
        return;
    pd->metrics_srv = sg_metrics_serve_start(conf->metrics_listen,
                                             pd->metrics, NULL, NULL, err,
                                             sizeof(err));
    if (pd->metrics_srv == NULL)
        sg_log(SG_LOG_WARNING, "%s: no metrics listener", err);
    else
        sg_log(SG_LOG_INFO, "metrics on %s", conf->metrics_listen);
}

/* reload - SIGHUP: a new configuration, or keep the old one */
static void
reload(struct sg_pd *pd, void *arg)
{
    SG_CONF **confp = arg;
    SG_CONF *conf;
    char err[1024];

    conf = load_conf(err, sizeof(err));
    if (conf == NULL || check_policyd_params(conf, err, sizeof(err)) != 0) {
        sg_log(SG_LOG_ERR, "reload refused, keeping the old "
               "configuration: %s", err[0] != '\0' ? err : "out of memory");
        sg_conf_free(conf);
        return;
    }
    /* Holds live in the quota backend, keyed by transaction id: they
     * survive reopening the engine. */
    sg_pd_close(pd);
    sg_conf_free(*confp);
    *confp = conf;
    setup_log(conf);
    sg_pd_open(pd, conf);
    sg_log(SG_LOG_INFO, "configuration %s reloaded", conf_path);
}

/* on_signal - set the flag the loop reads */
static void
on_signal(int sig)
{
    if (sig == SIGHUP)
        sg_pl_reload = 1;
    else
        sg_pl_stop = 1;
}

/* drop_root - become policyd_user after binding */
static int
drop_root(const SG_CONF *conf)
{
    switch (sg_drop_root(conf->policyd_user)) {
    case SG_DROP_OK:
        return 0;
    case SG_DROP_NOUSER:
        sg_log(SG_LOG_ERR, "policyd_user '%s': no such user",
               conf->policyd_user);
        break;
    case SG_DROP_UID0:
        sg_log(SG_LOG_ERR, "policyd_user '%s' is root: refusing",
               conf->policyd_user);
        break;
    case SG_DROP_FAILED:
        sg_log(SG_LOG_ERR, "cannot become %s: %s", conf->policyd_user,
               strerror(errno));
        break;
    case SG_DROP_REGAIN:
        sg_log(SG_LOG_ERR, "could regain root after dropping it");
        break;
    }
    return -1;
}

/* write_pid - policyd_pid_file, if set */
static int
write_pid(const char *path)
{
    if (sg_write_pid_file(path) != 0) {
        sg_log(SG_LOG_ERR, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* daemonize - detach from the terminal (listener mode without -f) */
static int
daemonize(void)
{
    pid_t pid;
    int fd;

    if ((pid = fork()) < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -1;
    if ((pid = fork()) < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (chdir("/") != 0)
        return -1;
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    return 0;
}

/* main - options, configuration, then serve */
int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    struct sg_pd pd;
    struct sigaction sa;
    const char *listen_spec = NULL;
    const char *env;
    SG_CONF *conf;
    char err[1024];
    int foreground = 0;
    int check_only = 0;
    int lfd = -1;
    int ch;
    int rc;

    sg_log_set_sink(log_sink, NULL, SG_LOG_INFO);
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":c:l:fnvhV", longopts, NULL))
           != -1) {
        switch (ch) {
        case 'c':
            conf_path = optarg;
            conf_given = 1;
            break;
        case 'l':
            listen_spec = optarg;
            break;
        case 'f':
            foreground = 1;
            break;
        case 'n':
            check_only = 1;
            break;
        case 'v':
            verbose = 1;
            break;
        case 'h':
            usage(stdout);
            return SG_EXIT_OK;
        case 'V':
            printf("%s (sesgate) %s\n", PROG, sg_version());
            return SG_EXIT_OK;
        case ':':
            fprintf(stderr, "%s: option '%s' needs a value\n"
                    "Try '%s --help'.\n", PROG, argv[optind - 1], PROG);
            return SG_EXIT_USAGE;
        default:
            fprintf(stderr, "%s: unknown option '%s'\nTry '%s --help'.\n",
                    PROG, argv[optind - 1], PROG);
            return SG_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\nTry '%s --help'.\n",
                PROG, argv[optind], PROG);
        return SG_EXIT_USAGE;
    }
    if (check_only)
        to_stderr = 1;
    conf = load_conf(err, sizeof(err));
    if (conf == NULL || check_policyd_params(conf, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", PROG,
                err[0] != '\0' ? err : "out of memory");
        sg_conf_free(conf);
        return SG_EXIT_CONFIG;
    }
    if (check_only) {
        SG_STATE *st;

        st = sg_state_open(conf->state_dir, SG_STATE_RDONLY,
                           conf->state_max_size, err, sizeof(err));
        if (st == NULL)
            fprintf(stderr, "%s: warning: %s\n", PROG, err);
        sg_state_close(st);
        if (getpwnam(conf->policyd_user) == NULL)
            fprintf(stderr, "%s: warning: policyd_user '%s': no such "
                    "user\n", PROG, conf->policyd_user);
        printf("%s: configuration %s is valid\n", PROG,
               conf->path[0] != '\0' ? conf->path : "(built-in defaults)");
        sg_conf_free(conf);
        return SG_EXIT_OK;
    }

    /* Spawn mode: stderr may be the client's socket; syslog only. */
    to_stderr = foreground && listen_spec != NULL;
    setup_log(conf);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    memset(&pd, 0, sizeof(pd));
    /* Tests move the clock (a day forward: the 24-hour window). */
    if ((env = getenv("SESGATE_CLOCK_OFFSET")) != NULL)
        pd.clock_offset_ms = strtoll(env, NULL, 10) * 1000;
    if ((env = getenv("SESGATE_QUOTA_DEFER")) != NULL)
        pd.force_defer = strcmp(env, "1") == 0;

    if (listen_spec != NULL) {
        if ((lfd = sg_pl_listen(listen_spec, conf, err, sizeof(err))) < 0) {
            sg_log(SG_LOG_ERR, "%s", err);
            sg_conf_free(conf);
            return EXIT_OSERR;
        }
        if (strncmp(listen_spec, "unix:", 5) == 0)
            unix_path = strdup(listen_spec + 5);
        if (!foreground && daemonize() != 0) {
            sg_log(SG_LOG_ERR, "cannot detach: %s", strerror(errno));
            return EXIT_OSERR;
        }
        if (write_pid(conf->policyd_pid_file) != 0
            || drop_root(conf) != 0) {
            close(lfd);
            if (unix_path != NULL)
                unlink(unix_path);
            sg_conf_free(conf);
            return SG_EXIT_CONFIG;
        }
    } else if (drop_root(conf) != 0) {
        sg_conf_free(conf);
        return SG_EXIT_CONFIG;
    }

    /* Opened as the final user, so that the quota files it creates
     * belong to it. */
    sg_pd_open(&pd, conf);
    open_metrics(&pd, conf, lfd >= 0);
    if (pd.force_defer)
        sg_log(SG_LOG_INFO, "SESGATE_QUOTA_DEFER=1: every quota call is "
               "deferred and answered on the replay (tests)");
    if (lfd >= 0) {
        sg_log(SG_LOG_INFO, "%s %s listening on %s", PROG, sg_version(),
               listen_spec);
        rc = sg_pl_run(&pd, lfd, reload, &conf);
    } else {
        sg_log(SG_LOG_DEBUG, "%s %s serving stdin/stdout", PROG,
               sg_version());
        rc = sg_pl_run_stdio(&pd, 0, 1, reload, &conf);
    }
    if (lfd >= 0)
        sg_log(SG_LOG_INFO, "stopped");
    sg_pd_close(&pd);
    pd.metrics_srv = sg_metrics_serve_stop(pd.metrics_srv);
    pd.metrics = sg_metrics_close(pd.metrics);
    if (unix_path != NULL) {
        unlink(unix_path);
        free(unix_path);
    }
    if (lfd >= 0 && conf->policyd_pid_file[0] != '\0')
        unlink(conf->policyd_pid_file);
    sg_conf_free(conf);
    return rc == 0 ? SG_EXIT_OK : EXIT_OSERR;
}
