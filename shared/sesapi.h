/*
 * sesapi.h - a small SES API client: v2 REST-JSON and v1 Query calls
 *
 * One handle talks to one region (the signing region), with libcurl
 * over HTTPS (certificates always verified), SigV4 (sigv4.h) and the
 * credentials of awscred.h. Every request goes through one path that
 *   - paces: at most `rate` requests per second per handle (api_rate;
 *     SES throttles control-plane calls at about 1/s per region;
 *     0 = no pacing);
 *   - retries 429, 5xx, timeouts, refused connections and cut-off
 *     answers up to `retries` times with full-jitter exponential
 *     back-off (base 200 ms, doubling, capped at 20 s);
 *   - bounds the answer to SG_SESAPI_RESPONSE_MAX bytes;
 *   - turns a failure into one line naming the region, the call, SES's
 *     error code (x-amzn-ErrorType, or the body's code/Code/__type)
 *     and message, and the HTTP status:
 *       "eu-west-1: ListSuppressedDestinations: TooManyRequestsException:
 *        Maximum sending rate exceeded. (HTTP 429, after 6 attempts)"
 *
 * Shapes and paths: ses-facts.md 6.2, 7 and 13.3. Response parsers are
 * pure functions on a buffer (sg_sesapi_parse_*) so that they can be
 * unit-tested and fuzzed without a network.
 *
 * Thread-safety: a handle belongs to one thread at a time; distinct
 * handles may run in parallel once sg_sesapi_global_init has run.
 * Secrets: the handle borrows the credentials and never copies the
 * secret key into an error text, a log line or a header other than
 * Authorization's signature (and X-Amz-Security-Token, which AWS
 * requires on the wire).
 */
#ifndef SG_SESAPI_H
#define SG_SESAPI_H

/* System headers. */
#include <stddef.h>

/* Third-party headers. */
#include <jansson.h>

/* Local headers. */
#include "sesgate.h"
#include "awscred.h"

/* Bounds. */
#define SG_SESAPI_RESPONSE_MAX  ((size_t)16 << 20)  /* one answer */
#define SG_SESAPI_ERR_MAX       1024                /* error text */
#define SG_SESAPI_XML_DEPTH     32                  /* v1 nesting */
#define SG_SESAPI_PAGE_SIZE     1000                /* list page size */
#define SG_SESAPI_V1_BATCH      100                 /* identities/call */

typedef struct sg_sesapi SG_SESAPI;

/* Options of a handle; strings are copied. */
struct sg_sesapi_opts {
    const char *endpoint;       /* api_endpoint; "{region}" replaced */
    const char *region;         /* signing region */
    const struct sg_awscred *cred;  /* borrowed for the handle's life */
    int rate;                   /* requests per second; 0: no pacing */
    int timeout;                /* seconds per request */
    int retries;                /* extra attempts on transient errors */
    const char *ca_file;        /* NULL/"": the system's */
    const char *ca_path;
};

/* Counters of a handle. */
struct sg_sesapi_stats {
    long long requests;         /* HTTP requests sent, retries included */
    long long retries;          /* of which retries */
    long long throttled;        /* 429 answers */
    double paced_seconds;       /* time spent waiting for the pace */
};

/*
 * sg_sesapi_global_init - initialise libcurl once per process
 *
 * Call before starting threads. Returns: SG_OK or SG_ERR_INTERNAL.
 */
extern SG_STATUS sg_sesapi_global_init(void);

/*
 * sg_sesapi_new - a handle for one region
 *
 * Returns: new (free with sg_sesapi_free), or NULL with err set (bad
 *   endpoint URL: not http:// or https://, no host; out of memory).
 */
extern SG_SESAPI *sg_sesapi_new(const struct sg_sesapi_opts *opts,
                                char *err, size_t errlen);

/* sg_sesapi_free - release; accepts NULL; returns NULL */
extern SG_SESAPI *sg_sesapi_free(SG_SESAPI *api);

/*
 * sg_sesapi_error - the last failure as one line
 *
 * Returns: borrowed (valid until the next call on the handle), never
 *   NULL, "" after success.
 */
extern const char *sg_sesapi_error(const SG_SESAPI *api);

/* sg_sesapi_error_code - SES's error code of the last failure, or "" */
extern const char *sg_sesapi_error_code(const SG_SESAPI *api);

/* sg_sesapi_stats - the handle's counters */
extern void sg_sesapi_stats(const SG_SESAPI *api,
                            struct sg_sesapi_stats *out);

/*
 * sg_sesapi_request - one call: pace, sign, send, retry
 *
 * Parameters: call, the operation name for errors ("GetAccount");
 *   method; path, already percent-encoded ("/v2/email/account");
 *   query, encoded, or NULL; ctype and body, or NULL/0; resp and
 *   resplen, set to the answer body (new, NUL-terminated: caller frees
 *   with free) on SG_OK, may be NULL to ignore it.
 * Returns: SG_OK on 2xx; SG_ERR_NOTFOUND on 404; SG_ERR_IO when the
 *   transport, a 5xx or throttling still fails after the retries;
 *   SG_ERR_PROTO on another 4xx (credentials, bad request);
 *   SG_ERR_TOOBIG for an answer over SG_SESAPI_RESPONSE_MAX. The error
 *   text is set on every failure.
 */
extern SG_STATUS sg_sesapi_request(SG_SESAPI *api, const char *call,
                                   const char *method, const char *path,
                                   const char *query, const char *ctype,
                                   const char *body, size_t bodylen,
                                   char **resp, size_t *resplen);

/* Item callback of the paged calls: 0 goes on, non-zero stops with
 * SG_ERR_INTERNAL (the callback sets its own error). The item is
 * borrowed for the duration of the call. */
typedef int (*sg_sesapi_item_fn)(json_t *item, void *arg);

/*
 * sg_sesapi_get_account - GetAccount (GET /v2/email/account)
 *
 * Returns: SG_OK with *out new (json_decref), or a failure as above.
 */
extern SG_STATUS sg_sesapi_get_account(SG_SESAPI *api, json_t **out);

/*
 * sg_sesapi_list_identities - ListEmailIdentities, every page
 *
 * fn gets each EmailIdentities[] entry (an object with IdentityName).
 */
extern SG_STATUS sg_sesapi_list_identities(SG_SESAPI *api,
                                           sg_sesapi_item_fn fn,
                                           void *arg);

/*
 * sg_sesapi_get_identity - GetEmailIdentity (name encoded by this call)
 *
 * Returns: SG_OK with *out new; SG_ERR_NOTFOUND when SES no longer
 *   knows it (removed between the list and this call).
 */
extern SG_STATUS sg_sesapi_get_identity(SG_SESAPI *api, const char *name,
                                        json_t **out);

/*
 * sg_sesapi_list_config_sets - ListConfigurationSets, every page
 *
 * fn gets each name as a JSON string.
 */
extern SG_STATUS sg_sesapi_list_config_sets(SG_SESAPI *api,
                                            sg_sesapi_item_fn fn,
                                            void *arg);

/*
 * sg_sesapi_list_suppressed - ListSuppressedDestinations, every page
 *
 * Parameters: since, epoch seconds for StartDate (incremental: only
 *   addresses added or updated since), 0 for the whole list; fn gets
 *   each SuppressedDestinationSummaries[] entry.
 */
extern SG_STATUS sg_sesapi_list_suppressed(SG_SESAPI *api, long long since,
                                           sg_sesapi_item_fn fn, void *arg);

/*
 * sg_sesapi_delete_suppressed - DeleteSuppressedDestination
 *
 * Returns: SG_OK, also when SES did not list the address (404: done);
 *   *was_listed (if not NULL) tells which.
 */
extern SG_STATUS sg_sesapi_delete_suppressed(SG_SESAPI *api,
                                             const char *addr,
                                             int *was_listed);

/*
 * sg_sesapi_put_suppressed - PutSuppressedDestination
 *
 * Parameters: reason, "BOUNCE" or "COMPLAINT". SES refuses it in the
 *   sandbox (a 4xx: SG_ERR_PROTO with SES's message in the error).
 */
extern SG_STATUS sg_sesapi_put_suppressed(SG_SESAPI *api, const char *addr,
                                          const char *reason);

/*
 * sg_sesapi_notification_attrs - v1 GetIdentityNotificationAttributes
 *
 * Parameters: names, n identities (at most SG_SESAPI_V1_BATCH).
 * Returns: SG_OK with *out a new object NAME -> {BounceTopic, ...,
 *   ForwardingEnabled: bool, ...} (the v1 shape, DESIGN.md's
 *   NotificationAttributes).
 */
extern SG_STATUS sg_sesapi_notification_attrs(SG_SESAPI *api,
                                              const char *const *names,
                                              size_t n, json_t **out);

/*
 * sg_sesapi_active_rule_set - v1 DescribeActiveReceiptRuleSet
 *
 * Returns: SG_OK with *out new: {"Metadata": {...}, "Rules": [...]}
 *   or an empty object when the region has no active set.
 */
extern SG_STATUS sg_sesapi_active_rule_set(SG_SESAPI *api, json_t **out);

/*
 * Pure parsers (no network; unit-tested and fuzzed).
 */

/*
 * sg_sesapi_parse_page - one page of a v2 list call
 *
 * Parameters: body/len; member, the array's name
 *   ("SuppressedDestinationSummaries"); items, set to the array (new
 *   reference; an absent member gives an empty array); next, set to a
 *   new string with NextToken or NULL when this is the last page.
 * Returns: SG_OK, or SG_ERR_PROTO with err set (not JSON, not an
 *   object, member not an array, NextToken not a string).
 */
extern SG_STATUS sg_sesapi_parse_page(const char *body, size_t len,
                                      const char *member, json_t **items,
                                      char **next, char *err,
                                      size_t errlen);

/*
 * sg_sesapi_parse_error - SES's error code and message of an answer
 *
 * Code: the x-amzn-ErrorType header value (errtype, may be NULL),
 *   without anything after ':' and before '#' (botocore's rule), else
 *   the body's "code"/"Code"/"__type", else the v1 XML <Code>; message:
 *   the body's "message"/"Message", else XML <Message>. Control
 *   characters are replaced, lengths bounded.
 */
extern void sg_sesapi_parse_error(const char *errtype, const char *body,
                                  size_t len, char *code, size_t codesize,
                                  char *msg, size_t msgsize);

/*
 * sg_sesapi_xml_to_json - a bounded reader for SES v1 XML answers
 *
 * Elements whose children all share the name "member" or "entry"
 * become arrays; other elements with children become objects; text
 * leaves become strings, "true"/"false" become booleans. Attributes,
 * the XML declaration and comments are skipped; the five predefined
 * entities and numeric references (ASCII) are decoded. Nesting beyond
 * SG_SESAPI_XML_DEPTH, unbalanced tags and stray text are errors.
 * Returns: new JSON object {ROOTNAME: value}, or NULL with err set.
 */
extern json_t *sg_sesapi_xml_to_json(const char *xml, size_t len,
                                     char *err, size_t errlen);

#endif /* SG_SESAPI_H */
