/*
 * conf.h - sesgate.conf: Postfix-style "name = value" configuration
 *
 * Syntax (as Postfix's main.cf): logical lines; a line that starts with
 * white space continues the previous one; "#" at the start of a line
 * (after optional white space) is a comment, as are empty lines;
 * "name = value" with white space around "=" optional; the last of
 * duplicate names wins (with a warning through the log sink). Unknown
 * names are a warning, not an error, so that a newer config file still
 * loads with an older program. Every error names file:line.
 *
 * Values are checked against conf_params.h: INT/SIZE within [min, max],
 * BOOL yes/no/true/false/1/0, ENUM against its word list, region names
 * against the R1 table, and sender_region_map is loaded and checked.
 */
#ifndef SG_CONF_H
#define SG_CONF_H

/* System headers. */
#include <stdio.h>

/* Local headers. */
#include "sesgate.h"

/* Default location of the configuration file. */
#ifndef SG_DEFAULT_CONF
#define SG_DEFAULT_CONF "/etc/sesgate/sesgate.conf"
#endif

/* Bounds of the reader. */
#define SG_CONF_LINE_MAX    (64 * 1024)     /* one logical line */
#define SG_CONF_FILE_MAX    (4 * 1024 * 1024)

/* Parameter value types of the table. */
enum sg_conf_type { SG_CONF_STR, SG_CONF_INT, SG_CONF_BOOL, SG_CONF_SIZE,
                    SG_CONF_ENUM };

/*
 * The parsed configuration. One member per table row, named after the
 * parameter: STR and ENUM are char * (never NULL after load), INT, SIZE
 * and BOOL are long long. Filled by sg_conf_load/sg_conf_defaults.
 */
struct sg_conf {
#define SG_CONF_PARAM_STR(n)  char *n;
#define SG_CONF_PARAM_ENUM(n) char *n;
#define SG_CONF_PARAM_INT(n)  long long n;
#define SG_CONF_PARAM_SIZE(n) long long n;
#define SG_CONF_PARAM_BOOL(n) long long n;
#define SG_CONF_PARAM(n, type, def, min, max, doc) SG_CONF_PARAM_##type(n)
#include "conf_params.h"
#undef SG_CONF_PARAM
#undef SG_CONF_PARAM_STR
#undef SG_CONF_PARAM_ENUM
#undef SG_CONF_PARAM_INT
#undef SG_CONF_PARAM_SIZE
#undef SG_CONF_PARAM_BOOL
    char *path;                 /* file it was read from ("" defaults) */
    struct sg_region_map *map;  /* loaded sender_region_map or NULL */
};
typedef struct sg_conf SG_CONF;

/* A row of the table, for sesgatectl config -d and the doc check. */
struct sg_conf_param {
    const char *name;
    enum sg_conf_type type;
    const char *def;
    long long min;
    long long max;
    const char *doc;
};

/*
 * sg_conf_params - the parameter table
 *
 * Returns: borrowed static array; *n set to its length.
 */
extern const struct sg_conf_param *sg_conf_params(size_t *n);

/*
 * sg_conf_defaults - a configuration with every default
 *
 * Returns: new (free with sg_conf_free), or NULL on memory exhaustion.
 */
extern SG_CONF *sg_conf_defaults(void);

/*
 * sg_conf_load - read and check a configuration file
 *
 * Parameters: path, the file; err/errlen, caller buffer for the error
 *   text ("FILE:LINE: what is wrong"), always NUL-terminated.
 * Returns: new (free with sg_conf_free), or NULL with err filled in
 *   (SG_ERR_CONFIG class: unreadable file, syntax, bad value, bad map).
 *   A missing file is an error too: callers that want defaults without
 *   a file call sg_conf_defaults.
 */
extern SG_CONF *sg_conf_load(const char *path, char *err, size_t errlen);

/*
 * sg_conf_load_buf - the same from memory (tests, fuzzing)
 *
 * Parameters: name, the file name used in messages; buf, len: content.
 *   Relative file names in values (sender_region_map) are opened as
 *   given.
 */
extern SG_CONF *sg_conf_load_buf(const char *name, const char *buf,
                                 size_t len, char *err, size_t errlen);

/*
 * sg_conf_get - a parameter's value as text, by name
 *
 * Returns: borrowed (valid until sg_conf_free) string, or NULL for an
 *   unknown name. Numbers are formatted into an internal buffer of the
 *   conf, so the result is valid until the next sg_conf_get call.
 */
extern const char *sg_conf_get(SG_CONF *conf, const char *name);

/*
 * sg_conf_print - write "name = value" lines, one per parameter
 *
 * Parameters: conf (NULL prints the defaults), fp.
 */
extern void sg_conf_print(const SG_CONF *conf, FILE *fp);

/* sg_conf_free - release; accepts NULL; returns NULL */
extern SG_CONF *sg_conf_free(SG_CONF *conf);

#endif /* SG_CONF_H */
