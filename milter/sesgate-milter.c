/*
 * sesgate-milter.c - the milter daemon: options, socket, privileges,
 *                    signals, smfi_main
 *
 * sesgate-milter [-c CONF] [-f] [-p SOCKET]
 * sesgate-milter [-c CONF] -n
 * sesgate-milter --help | --version
 *
 * Start-up order (libmilter's rules, peers-and-protocols.md 5.4): load
 * and check the configuration and open the state store (errors on
 * stderr, exit 78), refuse to go on as root (started as root with
 * milter_user empty or naming a uid-0 user: exit 78), register the
 * filter, open the socket with smfi_opensocket while still root, set
 * its mode and group, write the pid file, drop to milter_user (and
 * check that root cannot be regained), go to the background unless -f, raise
 * RLIMIT_NOFILE, set the stack size of the threads libmilter will
 * create, start the reload thread, then smfi_main.
 *
 * Signals: SIGHUP and SIGUSR1 reload the configuration (connections
 * already open finish on the old one); SIGTERM stops the filter after
 * in-flight callbacks (at most 5 s), SIGINT aborts it.
 *
 * libmilter's signal thread (mi_control_startup, started by smfi_main;
 * Debian's libmilter 8.17) blocks SIGHUP, SIGTERM and SIGINT in the
 * thread calling smfi_main and sigwaits on the three, stopping the
 * filter on SIGHUP. A second thread sigwaiting on SIGHUP does not win
 * deterministically: the kernel gives a process signal to any thread
 * waiting for it (Linux: the first eligible one from a rotating start).
 * So this program defines sigwait() itself (below): libmilter calls it
 * through the PLT, and it never waits for SIGHUP. libmilter's thread
 * then waits on TERM and INT only; the reload thread waits with
 * sigwaitinfo() on HUP and USR1, blocked in every thread before any
 * thread exists, and is the only taker of both. A SIGHUP sent during
 * a reload stays pending until the reload thread waits again.
 */

/* System headers. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

/* Third-party headers. */
#include <libmilter/mfapi.h>

/* Local headers. */
#include "config.h"
#include "sesgate.h"
#include "conf.h"
#include "log.h"
#include "state.h"
#include "mlfi.h"

/* Stack of each libmilter thread: explicit, not RLIMIT_STACK's 8 MB. */
#define MLFI_THREAD_STACK   (512 * 1024)

/* Options. */
/* The shared counters (mlfi.h); opened once root is dropped. */
SG_METRICS *mlfi_metrics;
static SG_METRICS_SERVER *metrics_srv;

static const char *conf_path = SG_DEFAULT_CONF;
static int conf_given;
static int foreground;
static int log_stderr;

/* usage - the help text */
static void
usage(FILE *fp)
{
    fprintf(fp,
            "Usage: %s [-c CONF] [-f] [-p SOCKET]\n"
            "       %s [-c CONF] -n\n"
            "       %s --help | --version\n"
            "\n"
            "Options:\n"
            "  -c CONF     configuration file (default %s)\n"
            "  -f          stay in the foreground, log to stderr too\n"
            "  -p SOCKET   socket in libmilter form: unix:PATH,\n"
            "              inet:PORT@HOST, inet6:PORT@HOST (default:\n"
            "              milter_socket of the configuration)\n"
            "  -n          check the configuration and the state store,\n"
            "              then exit\n"
            "  -h, --help  show this help\n"
            "  -V, --version  show the version\n"
            "\n"
            "Signals: SIGHUP and SIGUSR1 reload the configuration;\n"
            "SIGTERM stops, SIGINT aborts.\n",
            MLFI_PROG, MLFI_PROG, MLFI_PROG, SG_DEFAULT_CONF);
}

/* die - "sesgate-milter: MESSAGE" on stderr, exit */
static void die(int status, const char *fmt, ...) SG_PRINTFLIKE(2, 3);

static void
die(int status, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", MLFI_PROG);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(status);
}

/* drop_fail - drop_root's error: logged (stderr is gone after the
 *   fork), the unix socket removed, exit 78 before serving anything */
static const char *drop_sock_path;

static void drop_fail(const char *fmt, ...) SG_PRINTFLIKE(1, 2);

static void
drop_fail(const char *fmt, ...)
{
    va_list ap;
    char msg[512];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sg_log(SG_LOG_ERR, "%s", msg);
    if (drop_sock_path != NULL)
        (void)unlink(drop_sock_path);
    exit(SG_EXIT_CONFIG);
}

/* log_sink - the library's and the milter's lines: syslog(LOG_MAIL) */
static void
log_sink(int level, const char *msg, void *arg)
{
    (void)arg;
    syslog(level, "%s", msg);
    if (log_stderr)
        fprintf(stderr, "%s: %s\n", MLFI_PROG, msg);
}

/* load - load the configuration (or the defaults without -c/file) */
static int
load(char *err, size_t errlen)
{
    struct stat sb;

    if (!conf_given && stat(conf_path, &sb) != 0 && errno == ENOENT)
        return mlfi_cfg_load(NULL, err, errlen);
    return mlfi_cfg_load(conf_path, err, errlen);
}

/* Set once libmilter's signal thread has called our sigwait. */
static atomic_int milter_sigwait_seen;

/*
 * sigwait - libc's sigwait, except that it never waits for SIGHUP
 *
 * The only caller is libmilter's signal thread (see "Signals" at the
 * top): without SIGHUP in its set, that thread cannot take SIGHUP away
 * from the reload thread and stop the filter.
 */
int
sigwait(const sigset_t *set, int *sig)
{
    sigset_t s = *set;
    int r;

    (void)sigdelset(&s, SIGHUP);
    if (sigismember(set, SIGTERM) == 1)
        atomic_store(&milter_sigwait_seen, 1);
    do
        r = sigwaitinfo(&s, NULL);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return errno;
    *sig = r;
    return 0;
}

/* reloader - the SIGHUP/SIGUSR1 thread: reload, keep the old
 *   configuration on failure */
static void *
reloader(void *arg)
{
    const sigset_t *set = arg;
    char err[1024];
    int sig;

    for (;;) {
        if ((sig = sigwaitinfo(set, NULL)) < 0)
            continue;
        if (sig != SIGHUP && sig != SIGUSR1)
            continue;
        if (!atomic_load(&milter_sigwait_seen))
            sg_log(SG_LOG_WARNING, "libmilter's signal thread does not use "
                   "this program's sigwait(): SIGHUP may stop the filter; "
                   "use SIGUSR1 to reload");
        if (load(err, sizeof(err)) == 0)
            sg_log(SG_LOG_INFO, "reloaded %s (%s)", conf_path,
                   sig == SIGHUP ? "SIGHUP" : "SIGUSR1");
        else
            sg_log(SG_LOG_ERR, "reload failed, keeping the previous "
                   "configuration: %s", err);
    }
    return NULL;
}

/*
 * start_metrics - the shared counters and the metrics_listen listener
 *   (as the final user, signals blocked); neither is fatal
 */
static void
start_metrics(const SG_CONF *conf)
{
    char err[1024];

    mlfi_metrics = sg_metrics_open(conf->state_dir, 0, err, sizeof(err));
    if (mlfi_metrics == NULL)
        sg_log(SG_LOG_WARNING, "%s: counting nothing", err);
    if (conf->metrics_listen[0] == '\0')
        return;
    metrics_srv = sg_metrics_serve_start(conf->metrics_listen, mlfi_metrics,
                                         mlfi_metrics_gauges, NULL, err,
                                         sizeof(err));
    if (metrics_srv == NULL)
        sg_log(SG_LOG_WARNING, "%s: no metrics listener", err);
    else
        sg_log(SG_LOG_INFO, "metrics on %s", conf->metrics_listen);
}

/* socket_path - the file of a unix:/local: socket spec, or NULL */
static const char *
socket_path(const char *spec)
{
    if (strncasecmp(spec, "unix:", 5) == 0)
        return spec + 5;
    if (strncasecmp(spec, "local:", 6) == 0)
        return spec + 6;
    if (strchr(spec, ':') == NULL)
        return spec;            /* libmilter takes a bare path too */
    return NULL;
}

/* remove_stale_socket - libmilter does not unlink as root: do it */
static void
remove_stale_socket(const char *path)
{
    struct stat sb;

    if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
        (void)unlink(path);
}

/* set_socket_perms - mode and group of a unix socket */
static void
set_socket_perms(const char *path, const SG_CONF *conf)
{
    struct group *gr;
    char *end;
    long mode;
    gid_t gid;

    mode = strtol(conf->milter_socket_mode, &end, 8);
    if (*conf->milter_socket_mode == '\0' || *end != '\0' || mode < 0
        || mode > 07777)
        die(SG_EXIT_CONFIG, "milter_socket_mode: '%s' is not an octal "
            "mode", conf->milter_socket_mode);
    if (chmod(path, (mode_t)mode) != 0)
        die(SG_EXIT_CONFIG, "chmod %s: %s", path, strerror(errno));
    if (conf->milter_socket_group[0] == '\0')
        return;
    if ((gr = getgrnam(conf->milter_socket_group)) != NULL)
        gid = gr->gr_gid;
    else {
        gid = (gid_t)strtoul(conf->milter_socket_group, &end, 10);
        if (*end != '\0')
            die(SG_EXIT_CONFIG, "milter_socket_group: no group '%s'",
                conf->milter_socket_group);
    }
    if (chown(path, (uid_t)-1, gid) != 0)
        die(SG_EXIT_CONFIG, "chown %s: %s", path, strerror(errno));
}

/*
 * check_user - started as root: milter_user must name a user other
 *   than root (issue 9: the milter refuses to keep running as root).
 *   Checked before the socket is opened and before the fork, so that
 *   the error reaches stderr and the exit status is 78.
 */
static void
check_user(const SG_CONF *conf)
{
    struct passwd *pw;

    if (geteuid() != 0)
        return;
    if (conf->milter_user[0] == '\0')
        die(SG_EXIT_CONFIG, "started as root and milter_user is empty: "
            "refusing to run as root (set milter_user)");
    if ((pw = getpwnam(conf->milter_user)) == NULL)
        die(SG_EXIT_CONFIG, "milter_user: no user '%s'", conf->milter_user);
    if (pw->pw_uid == 0)
        die(SG_EXIT_CONFIG, "milter_user '%s' is root (uid 0): refusing "
            "to run as root", conf->milter_user);
}

/* drop_root - become milter_user (only when started as root); exit 78
 *   when that fails or root could be regained */
static void
drop_root(const SG_CONF *conf)
{
    switch (sg_drop_root(conf->milter_user)) {
    case SG_DROP_OK:
        return;
    case SG_DROP_NOUSER:
        drop_fail("milter_user: no user '%s'", conf->milter_user);
        break;
    case SG_DROP_UID0:
        drop_fail("milter_user '%s' is root (uid 0): refusing to run as "
                  "root", conf->milter_user);
        break;
    case SG_DROP_FAILED:
        drop_fail("milter_user: cannot become %s: %s", conf->milter_user,
                  strerror(errno));
        break;
    case SG_DROP_REGAIN:
        drop_fail("milter_user: could regain root after becoming %s",
                  conf->milter_user);
        break;
    }
}

/* raise_nofile - one descriptor per connection: take the hard limit */
static void
raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            sg_log(SG_LOG_WARNING, "cannot raise RLIMIT_NOFILE: %s",
                   strerror(errno));
    }
}

/* set_thread_stack - explicit stack size for libmilter's threads */
static void
set_thread_stack(void)
{
    pthread_attr_t attr;

    if (pthread_attr_init(&attr) != 0)
        return;
    if (pthread_attr_setstacksize(&attr, MLFI_THREAD_STACK) != 0
        || pthread_setattr_default_np(&attr) != 0)
        sg_log(SG_LOG_WARNING, "cannot set the thread stack size");
    pthread_attr_destroy(&attr);
}

/* write_pid_file - the pid file, before root is dropped */
static void
write_pid_file(const char *path)
{
    if (sg_write_pid_file(path) != 0)
        die(SG_EXIT_CONFIG, "%s: %s", path, strerror(errno));
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    static sigset_t reload_sigs;
    sigset_t blocked;
    const SG_CONF *conf;
    const char *sock = NULL, *path;
    char err[1024];
    char *pid_file = NULL;
    int ch, check_only = 0, rc;
    pthread_t tid;

    while ((ch = getopt_long(argc, argv, "c:fnp:hV", longopts, NULL))
           != -1) {
        switch (ch) {
        case 'c':
            conf_path = optarg;
            conf_given = 1;
            break;
        case 'f':
            foreground = 1;
            break;
        case 'n':
            check_only = 1;
            break;
        case 'p':
            sock = optarg;
            break;
        case 'h':
            usage(stdout);
            return SG_EXIT_OK;
        case 'V':
            printf("%s %s\n", MLFI_PROG, sg_version());
            return SG_EXIT_OK;
        default:
            usage(stderr);
            return SG_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", MLFI_PROG,
                argv[optind]);
        usage(stderr);
        return SG_EXIT_USAGE;
    }

    log_stderr = 1;             /* until the daemon is set up */
    sg_log_set_sink(log_sink, NULL, SG_LOG_INFO);
    if (load(err, sizeof(err)) != 0)
        die(SG_EXIT_CONFIG, "%s", err);
    conf = mlfi_cfg_conf();
    openlog(MLFI_PROG, LOG_PID | LOG_NDELAY,
            sg_log_facility_of(conf->syslog_facility));
    sg_log_set_sink(log_sink, NULL, sg_log_level_of(conf->log_level));
    if (sock == NULL)
        sock = conf->milter_socket;
    if (conf->metrics_listen[0] != '\0') {
        char host[64];
        int port;

        if (sg_metrics_listen_parse(conf->metrics_listen, host,
                                    sizeof(host), &port, err,
                                    sizeof(err)) != 0)
            die(SG_EXIT_CONFIG, "%s", err);
    }
    check_user(conf);
    if (check_only) {
        printf("%s: configuration %s and state in %s: ok\n", MLFI_PROG,
               conf->path != NULL && conf->path[0] ? conf->path
               : "(defaults)", conf->state_dir);
        mlfi_cfg_shutdown();
        return SG_EXIT_OK;
    }

    if (smfi_register(mlfi_desc) != MI_SUCCESS)
        die(SG_EXIT_SOFTWARE, "smfi_register failed");
    if (smfi_setconn((char *)sock) != MI_SUCCESS)
        die(SG_EXIT_CONFIG, "bad socket '%s'", sock);
    if (smfi_setbacklog(256) != MI_SUCCESS)
        sg_log(SG_LOG_WARNING, "smfi_setbacklog failed");
    path = socket_path(sock);
    if (strncasecmp(sock, "inet:", 5) == 0
        || strncasecmp(sock, "inet6:", 6) == 0)
        mlfi_set_tcp_port(atoi(strchr(sock, ':') + 1));
    if (path != NULL)
        remove_stale_socket(path);
    if (smfi_opensocket(true) != MI_SUCCESS)
        die(SG_EXIT_CONFIG, "cannot open socket '%s'", sock);
    if (path != NULL)
        set_socket_perms(path, conf);
    drop_sock_path = path;
    if ((pid_file = strdup(conf->milter_pid_file)) == NULL)
        die(SG_EXIT_SOFTWARE, "out of memory");
    if (!foreground) {
        if (daemon(0, 0) != 0)
            die(SG_EXIT_SOFTWARE, "daemon: %s", strerror(errno));
        log_stderr = 0;
    }
    /* After the fork, so that the file names the daemon; before root
     * is dropped, so that it may live in a root-owned directory. */
    write_pid_file(pid_file);
    drop_root(conf);
    raise_nofile();
    set_thread_stack();

    /*
     * Block HUP, USR1 and libmilter's TERM and INT in every thread
     * before any thread exists: the reloader sigwaits on HUP and USR1,
     * libmilter's signal thread (started by smfi_main) on TERM and INT
     * (see sigwait above). A thread that left TERM unblocked would take
     * it and die by it.
     */
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGHUP);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGUSR1);
    sigemptyset(&reload_sigs);
    sigaddset(&reload_sigs, SIGHUP);
    sigaddset(&reload_sigs, SIGUSR1);
    if (pthread_sigmask(SIG_BLOCK, &blocked, NULL) != 0
        || pthread_create(&tid, NULL, reloader, &reload_sigs) != 0)
        die(SG_EXIT_SOFTWARE, "cannot start the reload thread");
    (void)pthread_detach(tid);
    start_metrics(conf);

    sg_log(SG_LOG_INFO, "%s %s listening on %s", MLFI_PROG, sg_version(),
           sock);
    rc = smfi_main();
    sg_log(SG_LOG_INFO, "stopping");
    if (pid_file[0] != '\0')
        (void)unlink(pid_file);
    free(pid_file);
    metrics_srv = sg_metrics_serve_stop(metrics_srv);
    mlfi_cfg_shutdown();
    mlfi_metrics = sg_metrics_close(mlfi_metrics);
    return rc == MI_SUCCESS ? SG_EXIT_OK : SG_EXIT_SOFTWARE;
}
