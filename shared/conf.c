/*
 * conf.c - sesgate.conf reader: Postfix main.cf syntax, one table
 *
 * Everything here is expanded from conf_params.h: the public table, the
 * member offsets, the defaults (parsed from the table's default strings
 * by the same code that parses the file, so they cannot disagree) and
 * the printer. What the table cannot say (ENUM words, region names, URL
 * schemes) is in the small validator tables below.
 *
 * Syntax, as Postfix's readlline() and split_nameval(): a logical line
 * starts at a line whose first byte is not white space; lines that start
 * with white space continue it; empty, all-white-space and comment lines
 * ("#" as the first non-blank byte) are skipped anywhere, also between a
 * line and its continuation. No $name expansion.
 */

/* System headers. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Local headers. */
#include "config.h"
#include "sesgate.h"
#include "log.h"
#include "region.h"
#include "conf.h"

/* Longest path we build for a relative sender_region_map. */
#define CONF_PATH_MAX 4096

/* The public table, in file order. */
static const struct sg_conf_param conf_params[] = {
#define SG_CONF_PARAM(n, type, def, min, max, doc) \
    { #n, SG_CONF_##type, def, min, max, doc },
#include "conf_params.h"
#undef SG_CONF_PARAM
};

#define NPARAMS (sizeof(conf_params) / sizeof(conf_params[0]))

/* Where each parameter lives in struct sg_conf, same order. */
static const size_t conf_offsets[] = {
#define SG_CONF_PARAM(n, type, def, min, max, doc) offsetof(struct sg_conf, n),
#include "conf_params.h"
#undef SG_CONF_PARAM
};

/*
 * The handle behind SG_CONF: the public struct first, so that a pointer
 * to it is a pointer to the whole; then the buffer sg_conf_get formats
 * numbers into (conf.h: valid until the next sg_conf_get).
 */
struct conf_impl {
    struct sg_conf pub;
    char numbuf[32];
};

/* The words an ENUM parameter accepts; the first word is canonical. */
struct conf_enum {
    const char *param;
    const char *const words[11];
};

static const struct conf_enum conf_enums[] = {
    { "quota_backend", { "embedded", "redis", NULL } },
    { "on_state_error", { "tempfail", "accept", NULL } },
    { "on_quota_error", { "tempfail", "accept", NULL } },
    { "quota_counted_by", { "any", "milter", "policyd", NULL } },
    { "syslog_facility", { "mail", "daemon", "local0", "local1", "local2",
                           "local3", "local4", "local5", "local6", "local7",
                           NULL } },
    { "log_level", { "err", "warning", "notice", "info", "debug", NULL } },
};

/* Where the text being parsed comes from, for messages. */
struct conf_src {
    const char *name;           /* file name as given */
    unsigned long line;         /* first line of the logical line */
};

/* is_ws - white space in a config line (ASCII, locale independent) */
static int
is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* quote - sg_excerpt of a terminated string */
static const char *
quote(const char *s, char *out, size_t size)
{
    return sg_excerpt(s, strlen(s), out, size);
}

/* sg_conf_params - the parameter table */
const struct sg_conf_param *
sg_conf_params(size_t *n)
{
    if (n != NULL)
        *n = NPARAMS;
    return conf_params;
}

/* param_index - table index of a parameter name, or -1 */
static int
param_index(const char *name)
{
    size_t i;

    for (i = 0; i < NPARAMS; i++)
        if (strcmp(conf_params[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* str_slot - the char * member of row i */
static char **
str_slot(struct sg_conf *conf, size_t i)
{
    return (char **)(void *)((char *)conf + conf_offsets[i]);
}

/* num_slot - the long long member of row i */
static long long *
num_slot(struct sg_conf *conf, size_t i)
{
    return (long long *)(void *)((char *)conf + conf_offsets[i]);
}

/* cnum_slot - the long long member of row i, read-only */
static const long long *
cnum_slot(const struct sg_conf *conf, size_t i)
{
    return (const long long *)(const void *)((const char *)conf
                                             + conf_offsets[i]);
}

/* cstr_value - the char * member of row i, read-only */
static const char *
cstr_value(const struct sg_conf *conf, size_t i)
{
    return *(char *const *)(const void *)((const char *)conf
                                          + conf_offsets[i]);
}

/*
 * parse_number - decimal integer with optional sign and, for SIZE, a
 * k/m/g suffix (1024-based). Returns 0, or -1 when the text is not a
 * number, -2 when it does not fit a long long.
 */
static int
parse_number(const char *s, int size_suffix, long long *out)
{
    const char *p = s;
    unsigned long long v = 0, mult = 1, limit;
    int neg = 0, digits = 0;

    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (v > (ULLONG_MAX - 9) / 10)
            return -2;
        v = v * 10 + (unsigned long long)(*p - '0');
    }
    if (digits == 0)
        return -1;
    if (size_suffix && *p != '\0' && p[1] == '\0') {
        switch (*p) {
        case 'k': case 'K':
            mult = 1024ULL;
            break;
        case 'm': case 'M':
            mult = 1024ULL * 1024;
            break;
        case 'g': case 'G':
            mult = 1024ULL * 1024 * 1024;
            break;
        default:
            return -1;
        }
        p++;
    }
    if (*p != '\0')
        return -1;
    if (v > ULLONG_MAX / mult)
        return -2;
    v *= mult;
    limit = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)
        LLONG_MAX;
    if (v > limit)
        return -2;
    if (neg)
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN
            : -(long long)v;
    else
        *out = (long long)v;
    return 0;
}

/* parse_bool - yes/no/true/false/1/0, any case; returns 0/1 or -1 */
static int
parse_bool(const char *s)
{
    if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0
        || strcmp(s, "1") == 0)
        return 1;
    if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0
        || strcmp(s, "0") == 0)
        return 0;
    return -1;
}

/* enum_words - the word list of an ENUM parameter, or NULL */
static const char *const *
enum_words(const char *param)
{
    size_t i;

    for (i = 0; i < sizeof(conf_enums) / sizeof(conf_enums[0]); i++)
        if (strcmp(conf_enums[i].param, param) == 0)
            return conf_enums[i].words;
    return NULL;
}

/* where - "FILE:LINE: " prefix into buf (or "" for the defaults) */
static const char *
where(const struct conf_src *src, char *buf, size_t size)
{
    if (src == NULL)
        snprintf(buf, size, "default: ");
    else
        snprintf(buf, size, "%s:%lu: ", src->name, src->line);
    return buf;
}

/*
 * check_regions - each comma/space separated word of s is a region.
 * Returns NULL or the first unknown word (in a static-free buffer).
 */
static const char *
check_regions(const char *s, char *bad, size_t size)
{
    char word[SG_REGION_MAX + 1];
    size_t n;

    while (*s != '\0') {
        while (*s == ',' || is_ws((unsigned char)*s))
            s++;
        if (*s == '\0')
            break;
        n = strcspn(s, ", \t\r\f\v");
        if (n <= SG_REGION_MAX) {
            memcpy(word, s, n);
            word[n] = '\0';
        }
        if (n > SG_REGION_MAX || sg_region_lookup(word) == NULL) {
            char tmp[CONF_PATH_MAX];

            if (n >= sizeof(tmp))
                n = sizeof(tmp) - 1;
            memcpy(tmp, s, n);
            tmp[n] = '\0';
            quote(tmp, bad, size);
            return bad;
        }
        s += n;
    }
    return NULL;
}

/*
 * check_str - the checks of STR parameters that the table cannot
 * express. Returns 0, or -1 with err set.
 */
static int
check_str(size_t i, const char *value, const struct conf_src *src,
          char *err, size_t errlen)
{
    const char *name = conf_params[i].name;
    char at[CONF_PATH_MAX + 32], q[80];

    if (strcmp(name, "default_region") == 0 && *value != '\0'
        && sg_region_lookup(value) == NULL) {
        sg_seterr(err, errlen, "%s%s: unknown SES region '%s'",
                where(src, at, sizeof(at)), name, quote(value, q, sizeof(q)));
        return -1;
    }
    if (strcmp(name, "regions") == 0
        && check_regions(value, q, sizeof(q)) != NULL) {
        sg_seterr(err, errlen, "%s%s: unknown SES region '%s'",
                where(src, at, sizeof(at)), name, q);
        return -1;
    }
    if (strcmp(name, "aws_account_id") == 0 && *value != '\0'
        && (strlen(value) != 12
            || strspn(value, "0123456789") != 12)) {
        sg_seterr(err, errlen, "%s%s: '%s' is not a 12-digit AWS account "
                "id", where(src, at, sizeof(at)), name,
                quote(value, q, sizeof(q)));
        return -1;
    }
    if (strcmp(name, "api_endpoint") == 0
        && strncasecmp(value, "http://", 7) != 0
        && strncasecmp(value, "https://", 8) != 0) {
        sg_seterr(err, errlen, "%s%s: '%s' does not start with http:// or "
                "https://", where(src, at, sizeof(at)), name,
                quote(value, q, sizeof(q)));
        return -1;
    }
    return 0;
}

/*
 * set_value - check value against row i and store it in conf.
 * Returns 0, or -1 with err set ("FILE:LINE: name: what is wrong").
 */
static int
set_value(struct sg_conf *conf, size_t i, const char *value,
          const struct conf_src *src, char *err, size_t errlen)
{
    const struct sg_conf_param *p = &conf_params[i];
    const char *const *words;
    char at[CONF_PATH_MAX + 32], q[80];
    char *copy;
    long long n;
    int rc, b;

    switch (p->type) {
    case SG_CONF_INT:
    case SG_CONF_SIZE:
        rc = parse_number(value, p->type == SG_CONF_SIZE, &n);
        if (rc == -1) {
            sg_seterr(err, errlen, "%s%s: bad number '%s'",
                    where(src, at, sizeof(at)), p->name,
                    quote(value, q, sizeof(q)));
            return -1;
        }
        if (rc == -2) {
            sg_seterr(err, errlen, "%s%s: '%s' is out of range [%lld, %lld]",
                    where(src, at, sizeof(at)), p->name,
                    quote(value, q, sizeof(q)), p->min, p->max);
            return -1;
        }
        if (n < p->min) {
            sg_seterr(err, errlen, "%s%s: %lld is below the minimum %lld",
                    where(src, at, sizeof(at)), p->name, n, p->min);
            return -1;
        }
        if (n > p->max) {
            sg_seterr(err, errlen, "%s%s: %lld is above the maximum %lld",
                    where(src, at, sizeof(at)), p->name, n, p->max);
            return -1;
        }
        *num_slot(conf, i) = n;
        return 0;
    case SG_CONF_BOOL:
        if ((b = parse_bool(value)) < 0) {
            sg_seterr(err, errlen, "%s%s: bad boolean '%s' (want yes or no)",
                    where(src, at, sizeof(at)), p->name,
                    quote(value, q, sizeof(q)));
            return -1;
        }
        *num_slot(conf, i) = b;
        return 0;
    case SG_CONF_ENUM:
        if ((words = enum_words(p->name)) != NULL) {
            for (; *words != NULL; words++)
                if (strcasecmp(*words, value) == 0)
                    break;
            if (*words == NULL) {
                sg_seterr(err, errlen, "%s%s: bad value '%s'",
                        where(src, at, sizeof(at)), p->name,
                        quote(value, q, sizeof(q)));
                return -1;
            }
            value = *words;     /* the canonical spelling */
        }
        break;
    case SG_CONF_STR:
        if (check_str(i, value, src, err, errlen) < 0)
            return -1;
        break;
    }
    if ((copy = strdup(value)) == NULL) {
        sg_seterr(err, errlen, "%sout of memory", where(src, at, sizeof(at)));
        return -1;
    }
    free(*str_slot(conf, i));
    *str_slot(conf, i) = copy;
    return 0;
}

/* conf_new - an empty handle; strings NULL, numbers 0 */
static struct sg_conf *
conf_new(void)
{
    struct conf_impl *impl;

    if ((impl = calloc(1, sizeof(*impl))) == NULL)
        return NULL;
    return &impl->pub;
}

/*
 * conf_set_defaults - fill conf with the table's defaults. Returns 0, or
 * -1 with err set (memory, or a default the validators refuse: a bug
 * the unit suite catches).
 */
static int
conf_set_defaults(struct sg_conf *conf, char *err, size_t errlen)
{
    size_t i;

    for (i = 0; i < NPARAMS; i++)
        if (set_value(conf, i, conf_params[i].def, NULL, err, errlen) < 0)
            return -1;
    return 0;
}

/* sg_conf_defaults - a configuration with every default */
SG_CONF *
sg_conf_defaults(void)
{
    struct sg_conf *conf;
    char err[256];

    if ((conf = conf_new()) == NULL)
        return NULL;
    if (conf_set_defaults(conf, err, sizeof(err)) < 0
        || (conf->path = strdup("")) == NULL)
        return sg_conf_free(conf);
    return conf;
}

/* sg_conf_free - release; accepts NULL; returns NULL */
SG_CONF *
sg_conf_free(SG_CONF *conf)
{
    size_t i;

    if (conf == NULL)
        return NULL;
    for (i = 0; i < NPARAMS; i++)
        if (conf_params[i].type == SG_CONF_STR
            || conf_params[i].type == SG_CONF_ENUM)
            free(*str_slot(conf, i));
    free(conf->path);
    sg_region_map_free(conf->map);
    /* conf is the first member of its conf_impl. */
    free((struct conf_impl *)(void *)conf);
    return NULL;
}

/*
 * do_line - split one logical line (NUL-terminated, modifiable) into
 * name and value and apply it. set_line[] remembers where each
 * parameter was set, for the duplicate warning. Returns 0 or -1.
 */
static int
do_line(struct sg_conf *conf, char *line, const struct conf_src *src,
        unsigned long *set_line, char *err, size_t errlen)
{
    char *p = line, *name, *value, *end;
    char q[80];
    int i;

    while (is_ws((unsigned char)*p))
        p++;
    name = p;
    while (*p != '\0' && *p != '=' && !is_ws((unsigned char)*p))
        p++;
    end = p;
    while (is_ws((unsigned char)*p))
        p++;
    if (*p != '=') {
        sg_seterr(err, errlen, "%s:%lu: missing '=' after parameter name",
                src->name, src->line);
        return -1;
    }
    if (end == name) {
        sg_seterr(err, errlen, "%s:%lu: missing parameter name before '='",
                src->name, src->line);
        return -1;
    }
    *end = '\0';
    value = p + 1;
    while (is_ws((unsigned char)*value))
        value++;
    end = value + strlen(value);
    while (end > value && is_ws((unsigned char)end[-1]))
        *--end = '\0';

    if ((i = param_index(name)) < 0) {
        sg_log(SG_LOG_WARNING, "%s:%lu: unknown parameter %s ignored",
               src->name, src->line, quote(name, q, sizeof(q)));
        return 0;
    }
    if (set_line[i] != 0)
        sg_log(SG_LOG_WARNING, "%s:%lu: %s is also set on line %lu: the "
               "last one wins", src->name, src->line, name, set_line[i]);
    set_line[i] = src->line;
    return set_value(conf, (size_t)i, value, src, err, errlen);
}

/*
 * map_path - the sender_region_map path to open: relative names are
 * taken relative to basedir when there is one. Returns 0, or -1 with
 * err set.
 */
static int
map_path(const char *value, const char *basedir, char *out, size_t size,
         const struct conf_src *src, char *err, size_t errlen)
{
    int n;

    if (value[0] == '/' || basedir == NULL || *basedir == '\0')
        n = snprintf(out, size, "%s", value);
    else
        n = snprintf(out, size, "%s/%s", basedir, value);
    if (n < 0 || (size_t)n >= size) {
        sg_seterr(err, errlen, "%s:%lu: sender_region_map: path too long",
                src->name, src->line);
        return -1;
    }
    return 0;
}

/*
 * conf_parse - the reader behind sg_conf_load and sg_conf_load_buf.
 * basedir: directory for relative map names, or NULL ("as given").
 */
static SG_CONF *
conf_parse(const char *name, const char *buf, size_t len,
           const char *basedir, char *err, size_t errlen)
{
    struct sg_conf *conf;
    unsigned long set_line[NPARAMS];
    struct conf_src src;
    const char *p, *end, *nl, *s;
    char *line = NULL, path[CONF_PATH_MAX];
    size_t used = 0, n;
    unsigned long lineno = 0;
    int have = 0;

    sg_seterr(err, errlen, "%s", "");
    if (name == NULL)
        name = "sesgate.conf";
    src.name = name;
    src.line = 0;
    memset(set_line, 0, sizeof(set_line));
    if (buf == NULL && len > 0) {
        sg_seterr(err, errlen, "%s: no input", name);
        return NULL;
    }
    if (len > SG_CONF_FILE_MAX) {
        sg_seterr(err, errlen, "%s: file larger than %d bytes", name,
                SG_CONF_FILE_MAX);
        return NULL;
    }
    if ((conf = conf_new()) == NULL
        || (line = malloc(SG_CONF_LINE_MAX + 1)) == NULL) {
        sg_seterr(err, errlen, "%s: out of memory", name);
        goto fail;
    }
    if (conf_set_defaults(conf, err, errlen) < 0)
        goto fail;
    if ((conf->path = strdup(name)) == NULL) {
        sg_seterr(err, errlen, "%s: out of memory", name);
        goto fail;
    }

    for (p = buf, end = buf + len; p < end; p = nl < end ? nl + 1 : end) {
        lineno++;
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            nl = end;
        n = (size_t)(nl - p);
        if (memchr(p, '\0', n) != NULL) {
            sg_seterr(err, errlen, "%s:%lu: NUL character in line", name,
                    lineno);
            goto fail;
        }
        for (s = p; s < nl && is_ws((unsigned char)*s); s++)
            /* void */ ;
        if (s == nl || *s == '#')
            continue;           /* blank or comment: skipped anywhere */
        if (s == p || !have) {
            /* A new logical line: first apply the one before it. */
            if (have) {
                line[used] = '\0';
                if (do_line(conf, line, &src, set_line, err, errlen) < 0)
                    goto fail;
            }
            if (s != p)
                sg_log(SG_LOG_WARNING, "%s:%lu: logical line must not start "
                       "with white space", name, lineno);
            have = 1;
            used = 0;
            src.line = lineno;
        }
        if (n > SG_CONF_LINE_MAX - used) {
            sg_seterr(err, errlen, "%s:%lu: logical line longer than %d bytes",
                    name, src.line, SG_CONF_LINE_MAX);
            goto fail;
        }
        memcpy(line + used, p, n);
        used += n;
    }
    if (have) {
        line[used] = '\0';
        if (do_line(conf, line, &src, set_line, err, errlen) < 0)
            goto fail;
    }

    /* The map, once, with the value that won. */
    if (*conf->sender_region_map != '\0') {
        int i = param_index("sender_region_map");

        src.line = i >= 0 ? set_line[i] : 0;
        if (map_path(conf->sender_region_map, basedir, path, sizeof(path),
                     &src, err, errlen) < 0)
            goto fail;
        if ((conf->map = sg_region_map_load(path, err, errlen)) == NULL)
            goto fail;
    }
    free(line);
    return conf;

fail:
    free(line);
    return sg_conf_free(conf);
}

/* sg_conf_load_buf - read and check a configuration from memory */
SG_CONF *
sg_conf_load_buf(const char *name, const char *buf, size_t len, char *err,
                 size_t errlen)
{
    return conf_parse(name, buf, len, NULL, err, errlen);
}

/*
 * read_file - read a whole regular file of at most max bytes into a new
 * buffer. Returns it (caller frees) with *len set, or NULL with err
 * set. Refuses FIFOs and devices, which could block or never end.
 */
static char *
read_file(const char *path, size_t max, size_t *len, char *err,
          size_t errlen)
{
    struct stat sb;
    char *buf;
    size_t size = 0, cap;
    ssize_t got;
    int fd;

    if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
        sg_seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        sg_seterr(err, errlen, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((unsigned long long)sb.st_size > max) {
        sg_seterr(err, errlen, "%s: file larger than %zu bytes", path, max);
        close(fd);
        return NULL;
    }
    /*
     * Room for one byte more than the file has, to notice a file that
     * grows while we read it (refused: the reader wants a stable file).
     */
    cap = (size_t)sb.st_size + 1;
    if ((buf = malloc(cap)) == NULL) {
        sg_seterr(err, errlen, "%s: out of memory", path);
        close(fd);
        return NULL;
    }
    while (size < cap) {
        got = read(fd, buf + size, cap - size);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            sg_seterr(err, errlen, "%s: read error: %s", path,
                    strerror(errno));
            goto fail;
        }
        if (got == 0)
            break;
        size += (size_t)got;
    }
    if (size == cap) {
        sg_seterr(err, errlen, "%s: file changed while being read", path);
        goto fail;
    }
    close(fd);
    *len = size;
    return buf;

fail:
    close(fd);
    free(buf);
    return NULL;
}

/* sg_conf_load - read and check a configuration file */
SG_CONF *
sg_conf_load(const char *path, char *err, size_t errlen)
{
    SG_CONF *conf;
    char dir[CONF_PATH_MAX];
    const char *slash;
    size_t len;
    char *buf;

    sg_seterr(err, errlen, "%s", "");
    if (path == NULL || *path == '\0') {
        sg_seterr(err, errlen, "no configuration file name");
        return NULL;
    }
    /* The directory of the file, for a relative sender_region_map. */
    if ((slash = strrchr(path, '/')) == NULL) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else if ((size_t)(slash - path) < sizeof(dir)) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    } else {
        sg_seterr(err, errlen, "%s: path too long", path);
        return NULL;
    }
    if ((buf = read_file(path, SG_CONF_FILE_MAX, &len, err, errlen)) == NULL)
        return NULL;
    conf = conf_parse(path, buf, len, dir, err, errlen);
    free(buf);
    return conf;
}

/* format_value - row i of conf (NULL: default) as text */
static const char *
format_value(const struct sg_conf *conf, size_t i, char *buf, size_t size)
{
    const struct sg_conf_param *p = &conf_params[i];
    long long n;

    if (conf == NULL)
        return p->def;
    switch (p->type) {
    case SG_CONF_STR:
    case SG_CONF_ENUM:
        return cstr_value(conf, i) != NULL ? cstr_value(conf, i) : "";
    case SG_CONF_BOOL:
        return *cnum_slot(conf, i) ? "yes" : "no";
    case SG_CONF_INT:
    case SG_CONF_SIZE:
        n = *cnum_slot(conf, i);
        snprintf(buf, size, "%lld", n);
        return buf;
    }
    return "";
}

/* sg_conf_get - a parameter's value as text, by name */
const char *
sg_conf_get(SG_CONF *conf, const char *name)
{
    struct conf_impl *impl = (struct conf_impl *)(void *)conf;
    int i;

    if (name == NULL || (i = param_index(name)) < 0)
        return NULL;
    if (conf == NULL)
        return conf_params[i].def;
    return format_value(conf, (size_t)i, impl->numbuf, sizeof(impl->numbuf));
}

/* sg_conf_print - "name = value" lines in table order, as postconf */
void
sg_conf_print(const SG_CONF *conf, FILE *fp)
{
    char buf[32];
    const char *v;
    size_t i;

    for (i = 0; i < NPARAMS; i++) {
        v = format_value(conf, i, buf, sizeof(buf));
        if (*v == '\0')
            fprintf(fp, "%s =\n", conf_params[i].name);
        else
            fprintf(fp, "%s = %s\n", conf_params[i].name, v);
    }
}
