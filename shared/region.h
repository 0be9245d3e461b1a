/*
 * region.h - SES regions and endpoints (R1), sender_region_map
 *
 * The region table lists the 27 commercial and 2 GovCloud regions where
 * SES is offered (ses-facts.md 1.1) with their API, FIPS, SMTP, inbound
 * and feedback endpoints. Which regions really have an SMTP endpoint or
 * receive mail is not fully documented by AWS (OPEN in ses-rules.md):
 * the table records what is known and the operator can override hosts.
 *
 * sender_region_map: a file of "KEY VALUE" lines ("#" comments, empty
 * lines ignored, Postfix-style continuation not supported). KEY is an
 * address ("user@example.com") or a domain written "@example.com"; VALUE
 * is a region name ("eu-west-1") or an SES SMTP relay host as written in
 * Postfix's sender_dependent_relayhost_maps ("[email-smtp.eu-west-1.
 * amazonaws.com]:587", optionally with a "smtp:" or "relay:" transport
 * prefix, brackets and port optional, "email-smtp-fips." accepted).
 * Lookup: the whole address first, then "@domain", then each parent
 * domain ("@example.com" covers "user@mail.example.com"). Keys compare
 * case-insensitively, as Postfix's table lookups do.
 */
#ifndef SG_REGION_H
#define SG_REGION_H

/* System headers. */
#include <stddef.h>

/* Local headers. */
#include "sesgate.h"

/* One row of the region table. Static data. */
struct sg_region {
    const char *name;           /* "eu-west-1" */
    const char *description;    /* "Europe (Ireland)" */
    const char *api_host;       /* "email.eu-west-1.amazonaws.com" */
    const char *fips_host;      /* FIPS API host or NULL */
    const char *smtp_host;      /* "email-smtp.eu-west-1.amazonaws.com" */
    const char *inbound_host;   /* receiving MX host or NULL if unknown */
    const char *feedback_host;  /* "feedback-smtp.R.amazonses.com" */
    int smtp_known;             /* 1: AWS documents an SMTP endpoint */
    int govcloud;               /* 1: aws-us-gov partition */
};

/*
 * sg_region_lookup - find a region by name (case-insensitive)
 *
 * Returns: borrowed static row, or NULL for an unknown name.
 */
extern const struct sg_region *sg_region_lookup(const char *name);

/*
 * sg_region_table - all regions
 *
 * Returns: borrowed static array; *n set to its length.
 */
extern const struct sg_region *sg_region_table(size_t *n);

/*
 * sg_region_from_relay - region named by an SES SMTP relay host
 *
 * Parameters: value, e.g. "[email-smtp.eu-west-1.amazonaws.com]:587",
 *   "smtp:email-smtp.us-east-1.amazonaws.com",
 *   "email-smtp-fips.us-gov-west-1.amazonaws.com:465".
 * Returns: the region row, or NULL if value is not an SES relay host of
 *   a known region.
 */
extern const struct sg_region *sg_region_from_relay(const char *value);

/*
 * sg_region_from_value - a map VALUE: region name or relay host
 *
 * Returns: the region row or NULL.
 */
extern const struct sg_region *sg_region_from_value(const char *value);

/* Opaque loaded sender_region_map. */
typedef struct sg_region_map SG_REGION_MAP;

/*
 * sg_region_map_load - read a sender_region_map file
 *
 * Parameters: path; err/errlen: caller buffer for "FILE:LINE: ..."
 *   (unknown region, value that is neither a region nor an SES relay
 *   host, malformed key, duplicate key).
 * Returns: new (free with sg_region_map_free), or NULL with err set.
 *   Bounded: lines over 4 KB and files over 64 MB are refused.
 */
extern SG_REGION_MAP *sg_region_map_load(const char *path, char *err,
                                         size_t errlen);

/* sg_region_map_load_buf - the same from memory; name used in errors */
extern SG_REGION_MAP *sg_region_map_load_buf(const char *name,
                                             const char *buf, size_t len,
                                             char *err, size_t errlen);

/*
 * sg_region_map_find - the region for an envelope sender
 *
 * Parameters: map (may be NULL: nothing found); addr, a normalised
 *   address "local@domain" (sg_addr normal form) or "" for the null
 *   sender (never matched); matched_key, if not NULL, set to the map key
 *   that matched (borrowed, valid until the map is freed).
 * Returns: the region row, or NULL when no key matches.
 * Thread-safety: safe for concurrent readers.
 */
extern const struct sg_region *sg_region_map_find(const SG_REGION_MAP *map,
                                                  const char *addr,
                                                  const char **matched_key);

/* sg_region_map_count - number of entries */
extern size_t sg_region_map_count(const SG_REGION_MAP *map);

/* sg_region_map_free - release; accepts NULL; returns NULL */
extern SG_REGION_MAP *sg_region_map_free(SG_REGION_MAP *map);

/*
 * sg_region_resolve - region of a message: explicit, map, default
 *
 * Parameters: explicit_region (NULL/"" if none); map (may be NULL);
 *   sender, normalised envelope sender ("" for null sender);
 *   default_region (NULL/"" if none); how, if not NULL, set to a static
 *   string saying where the answer came from ("explicit", "map key
 *   @example.com" is not static, so: "explicit", "map", "default").
 * Returns: region row, or NULL when nothing names a region or the
 *   explicit/default name is unknown.
 */
extern const struct sg_region *sg_region_resolve(const char *explicit_region,
                                                 const SG_REGION_MAP *map,
                                                 const char *sender,
                                                 const char *default_region,
                                                 const char **how);

/*
 * sg_region_upper_buf - region name in upper case, as SES prints it
 *   in "failed the check in region US-EAST-1"
 *
 * Returns: buf, or NULL if it does not fit.
 */
extern char *sg_region_upper_buf(const char *name, char *buf, size_t size);

#endif /* SG_REGION_H */
