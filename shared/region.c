/*
 * region.c - SES regions and endpoints (R1), sender_region_map
 *
 * The region table is static data from ses-facts.md 1.1-1.5. Where AWS
 * does not document a detail (which regions have an SMTP endpoint, which
 * receive mail) the table records only what AWS text confirms and says
 * so next to the row; the operator can name relay hosts in the map.
 *
 * The sender_region_map is an open-addressing hash table (linear
 * probing, FNV-1a, power-of-two capacity, at most half full) of
 * lower-cased keys. It is built once and never changed afterwards, so
 * concurrent lookups need no lock.
 */

/* System headers. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Local headers. */
#include "config.h"
#include "sesgate.h"
#include "region.h"

/* Bounds of the map reader (region.h). */
#define MAP_LINE_MAX    4096
#define MAP_FILE_MAX    (64L * 1024 * 1024)

/* Longest relay host name we look at (a DNS name is at most 253). */
#define RELAY_HOST_MAX  255

/*
 * One table row. Every region has the same host name patterns; only the
 * FIPS host, the inbound host and the flags differ (ses-facts.md 1.2-1.5).
 */
#define ROW(n, desc, fips, smtp_known, inbound, gov) \
    { n, desc, "email." n ".amazonaws.com", fips, \
      "email-smtp." n ".amazonaws.com", inbound, \
      "feedback-smtp." n ".amazonses.com", smtp_known, gov }
#define FIPS(n)     "email-fips." n ".amazonaws.com"
#define INBOUND(n)  "inbound-smtp." n ".amazonaws.com"

/*
 * The 27 commercial and 2 GovCloud regions (R1, ses-facts.md 1.1).
 *
 * smtp_known: the regions of AWS's SMTP_REGIONS sample list
 * (ses-facts.md 1.3, including us-gov-east-1 from the docs copy).
 * eu-south-1 is a CONFLICT (2023 guide: no SMTP in Milan; the newer
 * sample list has it): we follow the newer AWS text. Other regions are
 * 0, "not documented", not "absent".
 *
 * inbound_host: only us-east-1, us-west-2 and eu-west-1 are confirmed
 * by AWS text (ses-facts.md 1.4); later lists are third-party, so the
 * other rows are NULL (unknown). GovCloud does not receive.
 *
 * fips_host: US regions, ca-central-1 and GovCloud (ses-facts.md 1.2).
 */
static const struct sg_region region_table[] = {
    ROW("af-south-1", "Africa (Cape Town)", NULL, 0, NULL, 0),
    ROW("ap-northeast-1", "Asia Pacific (Tokyo)", NULL, 1, NULL, 0),
    ROW("ap-northeast-2", "Asia Pacific (Seoul)", NULL, 1, NULL, 0),
    ROW("ap-northeast-3", "Asia Pacific (Osaka)", NULL, 0, NULL, 0),
    ROW("ap-south-1", "Asia Pacific (Mumbai)", NULL, 1, NULL, 0),
    ROW("ap-south-2", "Asia Pacific (Hyderabad)", NULL, 0, NULL, 0),
    ROW("ap-southeast-1", "Asia Pacific (Singapore)", NULL, 1, NULL, 0),
    ROW("ap-southeast-2", "Asia Pacific (Sydney)", NULL, 1, NULL, 0),
    ROW("ap-southeast-3", "Asia Pacific (Jakarta)", NULL, 0, NULL, 0),
    ROW("ap-southeast-5", "Asia Pacific (Malaysia)", NULL, 0, NULL, 0),
    ROW("ca-central-1", "Canada (Central)", FIPS("ca-central-1"), 1,
        NULL, 0),
    ROW("ca-west-1", "Canada (Calgary)", NULL, 0, NULL, 0),
    ROW("eu-central-1", "Europe (Frankfurt)", NULL, 1, NULL, 0),
    ROW("eu-central-2", "Europe (Zurich)", NULL, 0, NULL, 0),
    ROW("eu-north-1", "Europe (Stockholm)", NULL, 1, NULL, 0),
    ROW("eu-south-1", "Europe (Milan)", NULL, 1, NULL, 0),
    ROW("eu-west-1", "Europe (Ireland)", NULL, 1, INBOUND("eu-west-1"), 0),
    ROW("eu-west-2", "Europe (London)", NULL, 1, NULL, 0),
    ROW("eu-west-3", "Europe (Paris)", NULL, 0, NULL, 0),
    ROW("il-central-1", "Israel (Tel Aviv)", NULL, 0, NULL, 0),
    ROW("me-central-1", "Middle East (UAE)", NULL, 0, NULL, 0),
    ROW("me-south-1", "Middle East (Bahrain)", NULL, 0, NULL, 0),
    /* "São Paulo", spelled in UTF-8 bytes to keep the source ASCII. */
    ROW("sa-east-1", "South America (S\xc3\xa3o Paulo)", NULL, 1, NULL, 0),
    ROW("us-east-1", "US East (N. Virginia)", FIPS("us-east-1"), 1,
        INBOUND("us-east-1"), 0),
    ROW("us-east-2", "US East (Ohio)", FIPS("us-east-2"), 1, NULL, 0),
    ROW("us-west-1", "US West (N. California)", FIPS("us-west-1"), 0,
        NULL, 0),
    ROW("us-west-2", "US West (Oregon)", FIPS("us-west-2"), 1,
        INBOUND("us-west-2"), 0),
    ROW("us-gov-east-1", "AWS GovCloud (US-East)", FIPS("us-gov-east-1"), 1,
        NULL, 1),
    ROW("us-gov-west-1", "AWS GovCloud (US-West)", FIPS("us-gov-west-1"), 1,
        NULL, 1),
};

#define REGION_COUNT (sizeof(region_table) / sizeof(region_table[0]))

/* One map entry; key NULL marks an empty slot. */
struct map_entry {
    char *key;                      /* lower case, owned */
    const struct sg_region *region;
    unsigned long line;             /* where it was defined */
};

/* The loaded map: never modified after sg_region_map_load returns. */
struct sg_region_map {
    struct map_entry *slots;
    size_t cap;                     /* power of two */
    size_t count;
};

/* is_ws - white space of a map line (ASCII only, locale independent) */
static int
is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* lower - ASCII lower case, locale independent */
static int
lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* sg_region_table - all regions */
const struct sg_region *
sg_region_table(size_t *n)
{
    if (n != NULL)
        *n = REGION_COUNT;
    return region_table;
}

/* sg_region_lookup - find a region by name (case-insensitive) */
const struct sg_region *
sg_region_lookup(const char *name)
{
    size_t i;

    if (name == NULL || *name == '\0')
        return NULL;
    for (i = 0; i < REGION_COUNT; i++)
        if (strcasecmp(region_table[i].name, name) == 0)
            return &region_table[i];
    return NULL;
}

/* has_prefix - case-insensitive prefix test; returns length or 0 */
static size_t
has_prefix(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);

    return strncasecmp(s, prefix, n) == 0 ? n : 0;
}

/* valid_port - ":PORT" with 1 to 5 digits, 1..65535, and nothing after */
static int
valid_port(const char *p)
{
    long port = 0;
    int digits = 0;

    if (*p == '\0')
        return 1;
    if (*p++ != ':')
        return 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (++digits > 5)
            return 0;
        port = port * 10 + (*p - '0');
    }
    return *p == '\0' && digits > 0 && port >= 1 && port <= 65535;
}

/* sg_region_from_relay - region named by an SES SMTP relay host */
const struct sg_region *
sg_region_from_relay(const char *value)
{
    const char *p, *host, *end, *rest;
    const struct sg_region *r;
    char name[SG_REGION_MAX + 1];
    size_t hlen, skip, nlen;
    int fips = 0;
    static const char suffix[] = ".amazonaws.com";
    const size_t slen = sizeof(suffix) - 1;

    if (value == NULL)
        return NULL;
    p = value;
    if ((skip = has_prefix(p, "smtp:")) == 0)
        skip = has_prefix(p, "relay:");
    p += skip;

    /* "[host]:port" (Postfix: no MX lookup) or "host:port". */
    if (*p == '[') {
        host = p + 1;
        if ((end = strchr(host, ']')) == NULL)
            return NULL;
        rest = end + 1;
    } else {
        host = p;
        end = host + strcspn(host, ":");
        rest = end;
    }
    if (!valid_port(rest))
        return NULL;
    hlen = (size_t)(end - host);
    if (hlen == 0 || hlen > RELAY_HOST_MAX)
        return NULL;

    if ((skip = has_prefix(host, "email-smtp-fips.")) != 0)
        fips = 1;
    else if ((skip = has_prefix(host, "email-smtp.")) == 0)
        return NULL;
    if (hlen <= skip + slen
        || strncasecmp(end - slen, suffix, slen) != 0)
        return NULL;
    nlen = hlen - skip - slen;
    if (nlen > SG_REGION_MAX)
        return NULL;
    memcpy(name, host + skip, nlen);
    name[nlen] = '\0';
    if ((r = sg_region_lookup(name)) == NULL)
        return NULL;
    /* A FIPS SMTP host exists only where the region has FIPS at all. */
    if (fips && r->fips_host == NULL)
        return NULL;
    return r;
}

/* sg_region_from_value - a map VALUE: region name or relay host */
const struct sg_region *
sg_region_from_value(const char *value)
{
    const struct sg_region *r;

    if ((r = sg_region_lookup(value)) != NULL)
        return r;
    return sg_region_from_relay(value);
}

/* hash - FNV-1a over a NUL-terminated (already lower-case) key */
static uint64_t
hash(const char *key)
{
    uint64_t h = 14695981039346656037ULL;

    for (; *key != '\0'; key++) {
        h ^= (unsigned char)*key;
        h *= 1099511628211ULL;
    }
    return h;
}

/* map_slot - the slot holding key, or the empty slot where it belongs */
static struct map_entry *
map_slot(const struct sg_region_map *map, const char *key)
{
    size_t mask = map->cap - 1;
    size_t i = (size_t)hash(key) & mask;

    /* Terminates: the table is never more than half full. */
    while (map->slots[i].key != NULL && strcmp(map->slots[i].key, key) != 0)
        i = (i + 1) & mask;
    return &map->slots[i];
}

/* map_grow - double the capacity; returns 0 or -1 (no memory) */
static int
map_grow(struct sg_region_map *map)
{
    struct map_entry *old = map->slots;
    size_t oldcap = map->cap, i;
    size_t cap = oldcap ? oldcap * 2 : 16;

    if (cap > SIZE_MAX / sizeof(*old))
        return -1;
    if ((map->slots = calloc(cap, sizeof(*old))) == NULL) {
        map->slots = old;
        return -1;
    }
    map->cap = cap;
    for (i = 0; i < oldcap; i++)
        if (old[i].key != NULL)
            *map_slot(map, old[i].key) = old[i];
    free(old);
    return 0;
}

/*
 * check_domain - whether d (n bytes, lower case) is a usable domain:
 * non-empty, no '@', no leading, trailing or double dot. Returns NULL or
 * the reason.
 */
static const char *
check_domain(const char *d, size_t n)
{
    size_t i;

    if (n == 0)
        return "empty domain";
    if (d[0] == '.' || d[n - 1] == '.')
        return "domain starts or ends with '.'";
    for (i = 0; i < n; i++) {
        if (d[i] == '@')
            return "more than one '@'";
        if (d[i] == '.' && d[i + 1] == '.')
            return "empty domain label";
    }
    return NULL;
}

/* memrchr_at - the last '@' of key (n bytes) or NULL */
static const char *
memrchr_at(const char *key, size_t n)
{
    while (n > 0)
        if (key[--n] == '@')
            return key + n;
    return NULL;
}

/*
 * check_key - whether a lower-cased key is "local@domain" or "@domain".
 * Returns NULL or the reason. The local part may contain '@' only in a
 * quoted string, so the domain starts after the last '@'.
 */
static const char *
check_key(const char *key, size_t n)
{
    const char *at;
    size_t i;

    if (n > SG_ADDR_MAX)
        return "longer than an address may be";
    for (i = 0; i < n; i++)
        if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f)
            return "control character";
    if (key[0] == '@')
        return check_domain(key + 1, n - 1);
    if ((at = memrchr_at(key, n)) == NULL)
        return "neither an address nor @domain";
    if (key[0] != '"' && memchr(key, '@', (size_t)(at - key)) != NULL)
        return "more than one '@'";
    return check_domain(at + 1, n - (size_t)(at - key) - 1);
}

/*
 * map_line - parse one map line (n bytes, no newline) into map.
 * Returns 0, or -1 with err set.
 */
static int
map_line(struct sg_region_map *map, const char *name, unsigned long lineno,
         const char *line, size_t n, char *err, size_t errlen)
{
    const char *p = line, *end = line + n, *k, *v;
    size_t klen, vlen, i;
    char key[MAP_LINE_MAX + 1], value[MAP_LINE_MAX + 1];
    char q[80];
    const char *why;
    const struct sg_region *r;
    struct map_entry *slot;

    if (memchr(line, '\0', n) != NULL) {
        sg_seterr(err, errlen, "%s:%lu: NUL character in line", name, lineno);
        return -1;
    }
    while (p < end && is_ws(*p))
        p++;
    if (p == end || *p == '#')
        return 0;
    for (k = p; p < end && !is_ws(*p); p++)
        /* void */ ;
    klen = (size_t)(p - k);
    while (p < end && is_ws(*p))
        p++;
    for (v = p; p < end && !is_ws(*p); p++)
        /* void */ ;
    vlen = (size_t)(p - v);
    while (p < end && is_ws(*p))
        p++;

    for (i = 0; i < klen; i++)
        key[i] = (char)lower((unsigned char)k[i]);
    key[klen] = '\0';
    memcpy(value, v, vlen);
    value[vlen] = '\0';

    if (vlen == 0) {
        sg_seterr(err, errlen, "%s:%lu: missing value for key '%s'", name,
                lineno, sg_excerpt(k, klen, q, sizeof(q)));
        return -1;
    }
    if (p < end) {
        sg_seterr(err, errlen, "%s:%lu: unexpected text after value: '%s'",
                name, lineno, sg_excerpt(p, (size_t)(end - p), q, sizeof(q)));
        return -1;
    }
    if ((why = check_key(key, klen)) != NULL) {
        sg_seterr(err, errlen, "%s:%lu: bad key '%s': %s", name, lineno,
                sg_excerpt(k, klen, q, sizeof(q)), why);
        return -1;
    }
    if ((r = sg_region_from_value(value)) == NULL) {
        sg_seterr(err, errlen, "%s:%lu: unknown SES region or relay host '%s'",
                name, lineno, sg_excerpt(v, vlen, q, sizeof(q)));
        return -1;
    }
    if ((map->count + 1) * 2 > map->cap && map_grow(map) < 0) {
        sg_seterr(err, errlen, "%s:%lu: out of memory", name, lineno);
        return -1;
    }
    slot = map_slot(map, key);
    if (slot->key != NULL) {
        sg_seterr(err, errlen, "%s:%lu: duplicate key '%s' (first on line %lu)",
                name, lineno, sg_excerpt(k, klen, q, sizeof(q)), slot->line);
        return -1;
    }
    if ((slot->key = strdup(key)) == NULL) {
        sg_seterr(err, errlen, "%s:%lu: out of memory", name, lineno);
        return -1;
    }
    slot->region = r;
    slot->line = lineno;
    map->count++;
    return 0;
}

/* sg_region_map_load_buf - read a sender_region_map from memory */
SG_REGION_MAP *
sg_region_map_load_buf(const char *name, const char *buf, size_t len,
                       char *err, size_t errlen)
{
    struct sg_region_map *map;
    const char *p = buf, *end = buf + len, *nl;
    unsigned long lineno = 0;
    size_t n;

    sg_seterr(err, errlen, "%s", "");
    if (name == NULL)
        name = "sender_region_map";
    if (buf == NULL && len > 0) {
        sg_seterr(err, errlen, "%s: no input", name);
        return NULL;
    }
    if (len > (size_t)MAP_FILE_MAX) {
        sg_seterr(err, errlen, "%s: file larger than %ld bytes", name,
                MAP_FILE_MAX);
        return NULL;
    }
    if ((map = calloc(1, sizeof(*map))) == NULL || map_grow(map) < 0) {
        sg_seterr(err, errlen, "%s: out of memory", name);
        return sg_region_map_free(map);
    }
    while (p < end) {
        lineno++;
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            nl = end;
        n = (size_t)(nl - p);
        if (n > MAP_LINE_MAX) {
            sg_seterr(err, errlen, "%s:%lu: line longer than %d bytes", name,
                    lineno, MAP_LINE_MAX);
            return sg_region_map_free(map);
        }
        if (map_line(map, name, lineno, p, n, err, errlen) < 0)
            return sg_region_map_free(map);
        p = nl < end ? nl + 1 : end;
    }
    return map;
}

/*
 * read_file - read a whole regular file of at most max bytes into a new
 * NUL-terminated buffer. Returns it (caller frees) with *len set, or
 * NULL with err set. Refuses FIFOs and devices so that a mistyped path
 * cannot block or read forever.
 */
static char *
read_file(const char *path, long max, size_t *len, char *err, size_t errlen)
{
    struct stat sb;
    char *buf = NULL;
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
    if (sb.st_size > max) {
        sg_seterr(err, errlen, "%s: file larger than %ld bytes", path, max);
        close(fd);
        return NULL;
    }
    /* The file may grow while we read: read at most max + 1 bytes. */
    cap = (size_t)sb.st_size + 1;
    if ((buf = malloc(cap + 1)) == NULL) {
        sg_seterr(err, errlen, "%s: out of memory", path);
        close(fd);
        return NULL;
    }
    for (;;) {
        if (size == cap) {
            char *nbuf;

            if (cap > (size_t)max) {
                sg_seterr(err, errlen, "%s: file larger than %ld bytes", path,
                        max);
                goto fail;
            }
            cap = cap * 2 > (size_t)max + 1 ? (size_t)max + 1 : cap * 2;
            if ((nbuf = realloc(buf, cap + 1)) == NULL) {
                sg_seterr(err, errlen, "%s: out of memory", path);
                goto fail;
            }
            buf = nbuf;
        }
        got = read(fd, buf + size, cap - size);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            sg_seterr(err, errlen, "%s: read error: %s", path, strerror(errno));
            goto fail;
        }
        if (got == 0)
            break;
        size += (size_t)got;
    }
    if (size > (size_t)max) {
        sg_seterr(err, errlen, "%s: file larger than %ld bytes", path, max);
        goto fail;
    }
    close(fd);
    buf[size] = '\0';
    *len = size;
    return buf;

fail:
    close(fd);
    free(buf);
    return NULL;
}

/* sg_region_map_load - read a sender_region_map file */
SG_REGION_MAP *
sg_region_map_load(const char *path, char *err, size_t errlen)
{
    SG_REGION_MAP *map;
    size_t len;
    char *buf;

    sg_seterr(err, errlen, "%s", "");
    if (path == NULL || *path == '\0') {
        sg_seterr(err, errlen, "sender_region_map: no file name");
        return NULL;
    }
    if ((buf = read_file(path, MAP_FILE_MAX, &len, err, errlen)) == NULL)
        return NULL;
    map = sg_region_map_load_buf(path, buf, len, err, errlen);
    free(buf);
    return map;
}

/* map_get - the entry of an exact (lower-case) key or NULL */
static const struct map_entry *
map_get(const struct sg_region_map *map, const char *key)
{
    const struct map_entry *e = map_slot(map, key);

    return e->key != NULL ? e : NULL;
}

/* sg_region_map_find - the region for an envelope sender */
const struct sg_region *
sg_region_map_find(const SG_REGION_MAP *map, const char *addr,
                   const char **matched_key)
{
    char buf[SG_ADDR_MAX + 2];
    const struct map_entry *e;
    size_t n, i;
    char *at, *p;

    if (matched_key != NULL)
        *matched_key = NULL;
    if (map == NULL || map->count == 0 || addr == NULL || *addr == '\0')
        return NULL;
    if ((n = strlen(addr)) > SG_ADDR_MAX)
        return NULL;
    for (i = 0; i < n; i++)
        buf[i] = (char)lower((unsigned char)addr[i]);
    buf[n] = '\0';

    /* 1. The whole address. */
    if ((e = map_get(map, buf)) != NULL)
        goto found;
    /* 2. "@domain", then 3. each parent "@parent". */
    if ((at = strrchr(buf, '@')) == NULL || at[1] == '\0')
        return NULL;
    if (at != buf && (e = map_get(map, at)) != NULL)
        goto found;
    /*
     * Overwrite each '.' with '@' in turn: "@a.b.c" -> "a@b.c" -> the
     * candidate "@b.c" starts at the rewritten byte. Later candidates
     * lie to the right, so the rewriting does not disturb them.
     */
    for (p = at + 1; (p = strchr(p, '.')) != NULL; p++) {
        if (p[1] == '\0')
            break;
        *p = '@';
        if ((e = map_get(map, p)) != NULL)
            goto found;
    }
    return NULL;

found:
    if (matched_key != NULL)
        *matched_key = e->key;
    return e->region;
}

/* sg_region_map_count - number of entries */
size_t
sg_region_map_count(const SG_REGION_MAP *map)
{
    return map != NULL ? map->count : 0;
}

/* sg_region_map_free - release; accepts NULL; returns NULL */
SG_REGION_MAP *
sg_region_map_free(SG_REGION_MAP *map)
{
    size_t i;

    if (map == NULL)
        return NULL;
    for (i = 0; i < map->cap; i++)
        free(map->slots[i].key);
    free(map->slots);
    free(map);
    return NULL;
}

/* sg_region_resolve - region of a message: explicit, map, default */
const struct sg_region *
sg_region_resolve(const char *explicit_region, const SG_REGION_MAP *map,
                  const char *sender, const char *default_region,
                  const char **how)
{
    const struct sg_region *r;

    if (explicit_region != NULL && *explicit_region != '\0') {
        if (how != NULL)
            *how = "explicit";
        return sg_region_lookup(explicit_region);
    }
    if (sender != NULL
        && (r = sg_region_map_find(map, sender, NULL)) != NULL) {
        if (how != NULL)
            *how = "map";
        return r;
    }
    if (default_region != NULL && *default_region != '\0') {
        if (how != NULL)
            *how = "default";
        return sg_region_lookup(default_region);
    }
    if (how != NULL)
        *how = "none";
    return NULL;
}

/* sg_region_upper_buf - region name in upper case into buf */
char *
sg_region_upper_buf(const char *name, char *buf, size_t size)
{
    size_t n, i;

    if (name == NULL || buf == NULL || (n = strlen(name)) >= size)
        return NULL;
    for (i = 0; i < n; i++)
        buf[i] = name[i] >= 'a' && name[i] <= 'z'
            ? (char)(name[i] - 'a' + 'A') : name[i];
    buf[n] = '\0';
    return buf;
}
