/*
 * sesapi.c - SES API client (see sesapi.h): pacing, SigV4, retries,
 *   error texts, page and XML parsers
 */

/* Build configuration (_GNU_SOURCE and friends) first. */
#include "config.h"

/* System headers. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Third-party headers. */
#include <curl/curl.h>
#include <jansson.h>

/* Local headers. */
#include "sesgate.h"
#include "sigv4.h"
#include "awscred.h"
#include "sesapi.h"
#include "sesapi_int.h"

/* Back-off: full jitter over base * 2^attempt, capped. */
#define BACKOFF_BASE_MS     200
#define BACKOFF_CAP_MS      20000

/* The v1 Query API version. */
#define V1_VERSION          "2010-12-01"

struct sg_sesapi {
    CURL *curl;
    char *base;                 /* scheme://authority[/prefix], no '/' */
    char *authority;            /* host[:port] as in the URL: Host */
    char *prefix;               /* path prefix of the URL, "" if none */
    char region[SG_REGION_MAX + 1];
    const struct sg_awscred *cred;
    int rate;
    int timeout;
    int retries;
    char *ca_file;
    char *ca_path;
    long long next_ns;          /* monotonic time of the next request */
    uint64_t rng;               /* jitter */
    struct sg_sesapi_stats stats;
    /* Per request. */
    char *resp;
    size_t resplen;
    size_t respcap;
    int toobig;
    char errtype[128];          /* x-amzn-ErrorType of the answer */
    char err[SG_SESAPI_ERR_MAX];
    char code[128];
};

/* seterr - format the handle's error text */
static void seterr(SG_SESAPI *api, const char *fmt, ...)
    SG_PRINTFLIKE(2, 3);

/* seterr - format the handle's error text */
static void
seterr(SG_SESAPI *api, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(api->err, sizeof(api->err), fmt, ap);
    va_end(ap);
}

/* sg_sesapi_global_init - libcurl's one-time set-up */
SG_STATUS
sg_sesapi_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? SG_OK
        : SG_ERR_INTERNAL;
}

/* now_ns - monotonic clock in nanoseconds */
static long long
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* sleep_ns - sleep, resuming after signals */
static void
sleep_ns(long long ns)
{
    struct timespec ts;

    if (ns <= 0)
        return;
    ts.tv_sec = (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* rnd - xorshift64* for jitter (not for secrets) */
static uint64_t
rnd(SG_SESAPI *api)
{
    uint64_t x = api->rng;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    api->rng = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* subst_region - the endpoint with "{region}" replaced; new string */
static char *
subst_region(const char *tmpl, const char *region)
{
    size_t n = 0, rl = strlen(region);
    const char *p;
    char *out, *o;

    for (p = tmpl; (p = strstr(p, "{region}")) != NULL; p += 8)
        n++;
    if ((out = malloc(strlen(tmpl) + n * rl + 1)) == NULL)
        return NULL;
    for (o = out, p = tmpl; *p != '\0';) {
        if (strncmp(p, "{region}", 8) == 0) {
            memcpy(o, region, rl);
            o += rl;
            p += 8;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

/* sg_sesapi_new - a handle for one region */
SG_SESAPI *
sg_sesapi_new(const struct sg_sesapi_opts *o, char *err, size_t errlen)
{
    SG_SESAPI *api;
    const char *auth, *slash;
    size_t n;

    if (o == NULL || o->endpoint == NULL || o->region == NULL
        || o->cred == NULL || strlen(o->region) > SG_REGION_MAX) {
        sg_seterr(err, errlen, "SES API: missing endpoint, region or "
               "credentials");
        return NULL;
    }
    if ((api = calloc(1, sizeof(*api))) == NULL)
        goto nomem;
    snprintf(api->region, sizeof(api->region), "%s", o->region);
    api->cred = o->cred;
    api->rate = o->rate > 0 ? o->rate : 0;
    api->timeout = o->timeout > 0 ? o->timeout : 30;
    api->retries = o->retries >= 0 ? o->retries : 0;
    api->rng = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32)
        ^ (uint64_t)(uintptr_t)api;
    if (api->rng == 0)
        api->rng = 1;
    if ((api->base = subst_region(o->endpoint, o->region)) == NULL)
        goto nomem;
    n = strlen(api->base);
    while (n > 0 && api->base[n - 1] == '/')
        api->base[--n] = '\0';
    if (strncmp(api->base, "https://", 8) == 0)
        auth = api->base + 8;
    else if (strncmp(api->base, "http://", 7) == 0)
        auth = api->base + 7;
    else {
        sg_seterr(err, errlen, "%s: api_endpoint must start with http:// or "
               "https://", api->base);
        goto fail;
    }
    slash = strchr(auth, '/');
    n = slash != NULL ? (size_t)(slash - auth) : strlen(auth);
    if (n == 0 || memchr(auth, '@', n) != NULL || strchr(auth, '?') != NULL
        || strchr(auth, '#') != NULL) {
        sg_seterr(err, errlen, "%s: api_endpoint needs a host (and no user, "
               "query or fragment)", api->base);
        goto fail;
    }
    if ((api->authority = strndup(auth, n)) == NULL
        || (api->prefix = strdup(slash != NULL ? slash : "")) == NULL)
        goto nomem;
    if ((o->ca_file != NULL && *o->ca_file != '\0'
         && (api->ca_file = strdup(o->ca_file)) == NULL)
        || (o->ca_path != NULL && *o->ca_path != '\0'
            && (api->ca_path = strdup(o->ca_path)) == NULL))
        goto nomem;
    if ((api->curl = curl_easy_init()) == NULL) {
        sg_seterr(err, errlen, "SES API: cannot initialise libcurl");
        goto fail;
    }
    return api;
nomem:
    sg_seterr(err, errlen, "out of memory");
fail:
    sg_sesapi_free(api);
    return NULL;
}

/* sg_sesapi_free - release */
SG_SESAPI *
sg_sesapi_free(SG_SESAPI *api)
{
    if (api == NULL)
        return NULL;
    if (api->curl != NULL)
        curl_easy_cleanup(api->curl);
    free(api->base);
    free(api->authority);
    free(api->prefix);
    free(api->ca_file);
    free(api->ca_path);
    free(api->resp);
    free(api);
    return NULL;
}

/* sg_sesapi_error - last failure */
const char *
sg_sesapi_error(const SG_SESAPI *api)
{
    return api != NULL ? api->err : "no SES API handle";
}

/* sg_sesapi_error_code - SES's code of the last failure */
const char *
sg_sesapi_error_code(const SG_SESAPI *api)
{
    return api != NULL ? api->code : "";
}

/* sg_sesapi_stats - counters */
void
sg_sesapi_stats(const SG_SESAPI *api, struct sg_sesapi_stats *out)
{
    if (api != NULL)
        *out = api->stats;
    else
        memset(out, 0, sizeof(*out));
}

/* on_body - libcurl write callback, bounded */
static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    SG_SESAPI *api = arg;
    size_t n = size * nmemb, cap;
    char *p;

    if (api->resplen + n > SG_SESAPI_RESPONSE_MAX) {
        api->toobig = 1;
        return 0;
    }
    if (api->resplen + n + 1 > api->respcap) {
        cap = api->respcap ? api->respcap : 16384;
        while (cap < api->resplen + n + 1)
            cap *= 2;
        if ((p = realloc(api->resp, cap)) == NULL)
            return 0;
        api->resp = p;
        api->respcap = cap;
    }
    memcpy(api->resp + api->resplen, data, n);
    api->resplen += n;
    api->resp[api->resplen] = '\0';
    return n;
}

/* on_header - libcurl header callback: keep x-amzn-ErrorType */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    SG_SESAPI *api = arg;
    size_t n = size * nmemb, v, e;
    static const char name[] = "x-amzn-errortype:";

    if (n > sizeof(name) - 1
        && strncasecmp(data, name, sizeof(name) - 1) == 0) {
        v = sizeof(name) - 1;
        while (v < n && (data[v] == ' ' || data[v] == '\t'))
            v++;
        e = n;
        while (e > v && (data[e - 1] == '\r' || data[e - 1] == '\n'
                         || data[e - 1] == ' '))
            e--;
        if (e - v >= sizeof(api->errtype))
            e = v + sizeof(api->errtype) - 1;
        memcpy(api->errtype, data + v, e - v);
        api->errtype[e - v] = '\0';
    }
    return n;
}

/* pace - wait for the region's next request slot */
static void
pace(SG_SESAPI *api)
{
    long long now, wait;

    if (api->rate <= 0)
        return;
    now = now_ns();
    wait = api->next_ns - now;
    if (wait > 0) {
        sleep_ns(wait);
        api->stats.paced_seconds += (double)wait / 1e9;
        now = api->next_ns;
    }
    api->next_ns = now + 1000000000LL / api->rate;
}

/* backoff - full-jitter sleep before retry number attempt (1-based) */
static void
backoff(SG_SESAPI *api, int attempt)
{
    long long cap = BACKOFF_BASE_MS;
    int i;

    for (i = 1; i < attempt && cap < BACKOFF_CAP_MS; i++)
        cap *= 2;
    if (cap > BACKOFF_CAP_MS)
        cap = BACKOFF_CAP_MS;
    sleep_ns((long long)(rnd(api) % (uint64_t)(cap + 1)) * 1000000LL);
}

/* clean_text - copy with control characters as '?', bounded */
static void
clean_text(char *dst, size_t size, const char *s, size_t n)
{
    size_t i;

    if (size == 0)
        return;
    if (n >= size)
        n = size - 1;
    for (i = 0; i < n; i++)
        dst[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    dst[n] = '\0';
}

/* xml_text - the text of the first <tag>...</tag> in a buffer */
static int
xml_text(const char *body, size_t len, const char *tag, char *out,
         size_t size)
{
    char open[64], close[64];
    const char *s, *e, *end = body + len;
    size_t ol, cl;

    ol = (size_t)snprintf(open, sizeof(open), "<%s>", tag);
    cl = (size_t)snprintf(close, sizeof(close), "</%s>", tag);
    for (s = body; s + ol <= end; s++) {
        if (memcmp(s, open, ol) != 0)
            continue;
        s += ol;
        for (e = s; e + cl <= end; e++) {
            if (memcmp(e, close, cl) == 0) {
                clean_text(out, size, s, (size_t)(e - s));
                return 0;
            }
        }
        return -1;
    }
    return -1;
}

/* sg_sesapi_parse_error - SES's error code and message */
void
sg_sesapi_parse_error(const char *errtype, const char *body, size_t len,
                      char *code, size_t codesize, char *msg,
                      size_t msgsize)
{
    static const char *const codes[] = { "code", "Code", "__type" };
    static const char *const msgs[] = { "message", "Message" };
    json_t *root = NULL, *v;
    const char *s, *e;
    size_t i;

    if (codesize > 0)
        code[0] = '\0';
    if (msgsize > 0)
        msg[0] = '\0';
    if (body != NULL && len > 0 && len <= SG_SESAPI_RESPONSE_MAX)
        root = json_loadb(body, len, JSON_DISABLE_EOF_CHECK, NULL);
    if (errtype != NULL && *errtype != '\0') {
        /* botocore: "Code:http://..." and "prefix#Code" forms. */
        s = errtype;
        e = strchr(s, ':');
        if (e == NULL)
            e = s + strlen(s);
        for (i = 0; s + i < e; i++)
            if (s[i] == '#')
                s += i + 1, i = 0;
        clean_text(code, codesize, s, (size_t)(e - s));
    }
    if (json_is_object(root)) {
        for (i = 0; code[0] == '\0' && i < 3; i++) {
            v = json_object_get(root, codes[i]);
            if (json_is_string(v)) {
                s = json_string_value(v);
                if ((e = strrchr(s, '#')) != NULL)
                    s = e + 1;
                clean_text(code, codesize, s, strcspn(s, ":"));
            }
        }
        for (i = 0; msg[0] == '\0' && i < 2; i++) {
            v = json_object_get(root, msgs[i]);
            if (json_is_string(v))
                clean_text(msg, msgsize, json_string_value(v),
                           json_string_length(v));
        }
    } else if (body != NULL && len > 0) {
        if (code[0] == '\0')
            (void)xml_text(body, len, "Code", code, codesize);
        (void)xml_text(body, len, "Message", msg, msgsize);
    }
    json_decref(root);
}

/* retryable_curl - transport errors worth another attempt */
static int
retryable_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

/* send_once - one signed HTTP exchange; returns the curl code */
static CURLcode
send_once(SG_SESAPI *api, const char *method, const char *path,
          const char *query, const char *ctype, const char *body,
          size_t bodylen, long *http)
{
    struct sg_sigv4_header h[4];
    struct sg_sigv4_req req;
    struct curl_slist *hl = NULL, *t;
    char amzdate[SG_SIGV4_AMZDATE_LEN + 1];
    char authz[SG_SIGV4_AUTHZ_MAX];
    char line[SG_SIGV4_AUTHZ_MAX + 64];
    char *url = NULL, *full = NULL;
    size_t n = 0;
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    CURL *c = api->curl;

    *http = 0;
    api->resplen = 0;
    api->toobig = 0;
    api->errtype[0] = '\0';
    if (api->resp != NULL)
        api->resp[0] = '\0';
    if (sg_sigv4_amz_date_buf((long long)time(NULL), amzdate,
                              sizeof(amzdate)) == NULL)
        return CURLE_FAILED_INIT;
    if (asprintf(&full, "%s%s", api->prefix, path) < 0) {
        full = NULL;
        goto out;
    }
    h[n].name = "Host";
    h[n++].value = api->authority;
    h[n].name = "X-Amz-Date";
    h[n++].value = amzdate;
    if (ctype != NULL) {
        h[n].name = "Content-Type";
        h[n++].value = ctype;
    }
    if (api->cred->session_token[0] != '\0') {
        h[n].name = "X-Amz-Security-Token";
        h[n++].value = api->cred->session_token;
    }
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = full;
    req.query = query;
    req.headers = h;
    req.nheaders = n;
    req.payload = body;
    req.payload_len = bodylen;
    req.region = api->region;
    req.service = "ses";
    req.amz_date = amzdate;
    req.double_encode = 1;
    if (sg_sigv4_authorization_buf(&req, api->cred->access_key,
                                   api->cred->secret_key, authz,
                                   sizeof(authz)) == NULL) {
        rc = CURLE_FAILED_INIT;
        goto out;
    }
    /* Every header we signed, exactly as signed. */
    for (size_t i = 0; i < n; i++) {
        snprintf(line, sizeof(line), "%s: %s", h[i].name, h[i].value);
        if ((t = curl_slist_append(hl, line)) == NULL)
            goto out;
        hl = t;
    }
    snprintf(line, sizeof(line), "Authorization: %s", authz);
    if ((t = curl_slist_append(hl, line)) == NULL)
        goto out;
    hl = t;
    if ((t = curl_slist_append(hl, "Accept: application/json")) == NULL
        || (t = curl_slist_append(t, "Expect:")) == NULL)
        goto out;
    hl = t;
    if (asprintf(&url, "%s%s%s%s", api->base, path,
                 query != NULL && *query != '\0' ? "?" : "",
                 query != NULL ? query : "") < 0) {
        url = NULL;
        goto out;
    }
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (api->ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, api->ca_file);
    if (api->ca_path != NULL)
        curl_easy_setopt(c, CURLOPT_CAPATH, api->ca_path);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)api->timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)api->timeout);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)bodylen);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, api);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, api);
    api->stats.requests++;
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http);
out:
    curl_slist_free_all(hl);
    free(url);
    free(full);
    return rc;
}

/* sg_sesapi_request - one call with pacing and retries */
SG_STATUS
sg_sesapi_request(SG_SESAPI *api, const char *call, const char *method,
                  const char *path, const char *query, const char *ctype,
                  const char *body, size_t bodylen, char **resp,
                  size_t *resplen)
{
    char code[128], msg[512];
    long http = 0;
    CURLcode rc;
    int attempt;

    api->err[0] = '\0';
    api->code[0] = '\0';
    if (resp != NULL)
        *resp = NULL;
    if (resplen != NULL)
        *resplen = 0;
    for (attempt = 0;; attempt++) {
        if (attempt > 0) {
            api->stats.retries++;
            backoff(api, attempt);
        }
        pace(api);
        rc = send_once(api, method, path, query, ctype, body, bodylen,
                       &http);
        if (rc == CURLE_OK && http == 429)
            api->stats.throttled++;
        if (api->toobig) {
            seterr(api, "%s: %s: answer larger than %zu bytes", api->region,
                   call, SG_SESAPI_RESPONSE_MAX);
            return SG_ERR_TOOBIG;
        }
        if (rc == CURLE_OK && http >= 200 && http < 300)
            break;
        if (attempt < api->retries
            && ((rc == CURLE_OK && (http == 429 || http >= 500))
                || (rc != CURLE_OK && retryable_curl(rc))))
            continue;
        if (rc != CURLE_OK) {
            seterr(api, "%s: %s: %s (%s%s, after %d attempt%s)",
                   api->region, call, curl_easy_strerror(rc), api->base,
                   path, attempt + 1, attempt ? "s" : "");
            return rc == CURLE_OUT_OF_MEMORY ? SG_ERR_NOMEM : SG_ERR_IO;
        }
        sg_sesapi_parse_error(api->errtype, api->resp, api->resplen, code,
                              sizeof(code), msg, sizeof(msg));
        snprintf(api->code, sizeof(api->code), "%s", code);
        seterr(api, "%s: %s: %s: %s (HTTP %ld%s)", api->region, call,
               code[0] != '\0' ? code : "error",
               msg[0] != '\0' ? msg : "no message", http,
               attempt > 0 ? ", retried" : "");
        if (http == 404)
            return SG_ERR_NOTFOUND;
        return http == 429 || http >= 500 ? SG_ERR_IO : SG_ERR_PROTO;
    }
    if (resp != NULL) {
        if ((*resp = malloc(api->resplen + 1)) == NULL) {
            seterr(api, "out of memory");
            return SG_ERR_NOMEM;
        }
        if (api->resplen > 0)
            memcpy(*resp, api->resp, api->resplen);
        (*resp)[api->resplen] = '\0';
        if (resplen != NULL)
            *resplen = api->resplen;
    }
    return SG_OK;
}

/* sg_sesapi_parse_object - an answer that must be one JSON object */
json_t *
sg_sesapi_parse_object(const char *body, size_t len, char *err,
                       size_t errlen)
{
    json_error_t jerr;
    json_t *o;

    if (len > SG_SESAPI_RESPONSE_MAX) {
        sg_seterr(err, errlen, "answer larger than %zu bytes",
               SG_SESAPI_RESPONSE_MAX);
        return NULL;
    }
    if ((o = json_loadb(body, len, 0, &jerr)) == NULL) {
        sg_seterr(err, errlen, "answer is not a JSON object (%s)", jerr.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        sg_seterr(err, errlen, "answer is not a JSON object (wrong type)");
        json_decref(o);
        return NULL;
    }
    return o;
}

/* get_json - a GET whose answer is a JSON object */
static SG_STATUS
get_json(SG_SESAPI *api, const char *call, const char *path,
         const char *query, json_t **out)
{
    char err[256];
    char *body;
    size_t len;
    SG_STATUS s;

    *out = NULL;
    if ((s = sg_sesapi_request(api, call, "GET", path, query, NULL, NULL, 0,
                               &body, &len)) != SG_OK)
        return s;
    *out = sg_sesapi_parse_object(body, len, err, sizeof(err));
    free(body);
    if (*out == NULL) {
        seterr(api, "%s: %s: %s", api->region, call, err);
        return SG_ERR_PROTO;
    }
    return SG_OK;
}

/* sg_sesapi_parse_page - one page of a v2 list call */
SG_STATUS
sg_sesapi_parse_page(const char *body, size_t len, const char *member,
                     json_t **items, char **next, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root, *a, *t;

    *items = NULL;
    *next = NULL;
    if (len > SG_SESAPI_RESPONSE_MAX) {
        sg_seterr(err, errlen, "answer larger than %zu bytes",
               SG_SESAPI_RESPONSE_MAX);
        return SG_ERR_TOOBIG;
    }
    if ((root = json_loadb(body, len, 0, &jerr)) == NULL) {
        sg_seterr(err, errlen, "answer is not JSON: %s (line %d)", jerr.text,
               jerr.line);
        return SG_ERR_PROTO;
    }
    if (!json_is_object(root)) {
        sg_seterr(err, errlen, "answer is not a JSON object");
        goto bad;
    }
    a = json_object_get(root, member);
    if (a == NULL || json_is_null(a)) {
        a = json_array();
    } else if (!json_is_array(a)) {
        sg_seterr(err, errlen, "%s is not an array", member);
        goto bad;
    } else {
        json_incref(a);
    }
    t = json_object_get(root, "NextToken");
    if (t != NULL && !json_is_null(t) && !json_is_string(t)) {
        sg_seterr(err, errlen, "NextToken is not a string");
        json_decref(a);
        goto bad;
    }
    if (json_is_string(t) && json_string_length(t) > 0
        && (*next = strdup(json_string_value(t))) == NULL) {
        sg_seterr(err, errlen, "out of memory");
        json_decref(a);
        json_decref(root);
        return SG_ERR_NOMEM;
    }
    *items = a;
    json_decref(root);
    return *items != NULL ? SG_OK : SG_ERR_NOMEM;
bad:
    json_decref(root);
    return SG_ERR_PROTO;
}

/* Query strings are built here; a token or a date is short. */
#define QUERY_MAX   8192

/* list_pages - GET every page of a v2 list call */
static SG_STATUS
list_pages(SG_SESAPI *api, const char *call, const char *path,
           const char *extra, const char *member, int want_object,
           sg_sesapi_item_fn fn, void *arg)
{
    char query[QUERY_MAX], tok[QUERY_MAX / 2], err[256];
    char *body, *next = NULL;
    json_t *items, *e;
    size_t len, i;
    SG_STATUS s;

    for (;;) {
        if (next != NULL
            && sg_sigv4_uri_encode_buf(next, strlen(next), 0, tok,
                                       sizeof(tok)) == NULL) {
            seterr(api, "%s: %s: NextToken too long", api->region, call);
            free(next);
            return SG_ERR_PROTO;
        }
        snprintf(query, sizeof(query), "PageSize=%d%s%s%s%s",
                 SG_SESAPI_PAGE_SIZE, extra != NULL ? "&" : "",
                 extra != NULL ? extra : "", next != NULL ? "&NextToken="
                 : "", next != NULL ? tok : "");
        free(next);
        next = NULL;
        if ((s = sg_sesapi_request(api, call, "GET", path, query, NULL,
                                   NULL, 0, &body, &len)) != SG_OK)
            return s;
        s = sg_sesapi_parse_page(body, len, member, &items, &next, err,
                                 sizeof(err));
        free(body);
        if (s != SG_OK) {
            seterr(api, "%s: %s: %s", api->region, call, err);
            return s;
        }
        json_array_foreach(items, i, e) {
            if (want_object ? !json_is_object(e) : !json_is_string(e)) {
                seterr(api, "%s: %s: %s[%zu] is not %s", api->region, call,
                       member, i, want_object ? "an object" : "a string");
                s = SG_ERR_PROTO;
                break;
            }
            if (fn(e, arg) != 0) {
                seterr(api, "%s: %s: stopped", api->region, call);
                s = SG_ERR_INTERNAL;
                break;
            }
        }
        json_decref(items);
        if (s != SG_OK || next == NULL) {
            free(next);
            return s;
        }
    }
}

/* sg_sesapi_get_account - GetAccount */
SG_STATUS
sg_sesapi_get_account(SG_SESAPI *api, json_t **out)
{
    return get_json(api, "GetAccount", "/v2/email/account", NULL, out);
}

/* sg_sesapi_list_identities - ListEmailIdentities */
SG_STATUS
sg_sesapi_list_identities(SG_SESAPI *api, sg_sesapi_item_fn fn, void *arg)
{
    return list_pages(api, "ListEmailIdentities", "/v2/email/identities",
                      NULL, "EmailIdentities", 1, fn, arg);
}

/* sg_sesapi_get_identity - GetEmailIdentity */
SG_STATUS
sg_sesapi_get_identity(SG_SESAPI *api, const char *name, json_t **out)
{
    char path[64 + 3 * SG_ADDR_MAX];

    memcpy(path, "/v2/email/identities/", 21);
    if (sg_sigv4_uri_encode_buf(name, strlen(name), 0, path + 21,
                                sizeof(path) - 21) == NULL) {
        seterr(api, "%s: GetEmailIdentity: identity name too long",
               api->region);
        return SG_ERR_INVALID;
    }
    return get_json(api, "GetEmailIdentity", path, NULL, out);
}

/* sg_sesapi_list_config_sets - ListConfigurationSets */
SG_STATUS
sg_sesapi_list_config_sets(SG_SESAPI *api, sg_sesapi_item_fn fn, void *arg)
{
    return list_pages(api, "ListConfigurationSets",
                      "/v2/email/configuration-sets", NULL,
                      "ConfigurationSets", 0, fn, arg);
}

/* sg_sesapi_list_suppressed - ListSuppressedDestinations */
SG_STATUS
sg_sesapi_list_suppressed(SG_SESAPI *api, long long since,
                          sg_sesapi_item_fn fn, void *arg)
{
    char extra[64], when[32];
    struct tm tm;
    time_t t = (time_t)since;

    if (since <= 0)
        return list_pages(api, "ListSuppressedDestinations",
                          "/v2/email/suppression/addresses", NULL,
                          "SuppressedDestinationSummaries", 1, fn, arg);
    /* Query-string timestamps are ISO 8601 (botocore's serializer). */
    if (gmtime_r(&t, &tm) == NULL
        || strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        seterr(api, "%s: ListSuppressedDestinations: bad StartDate",
               api->region);
        return SG_ERR_INVALID;
    }
    snprintf(extra, sizeof(extra), "StartDate=%.4s-%.2s-%.2sT%.2s%%3A%.2s"
             "%%3A%.2sZ", when, when + 5, when + 8, when + 11, when + 14,
             when + 17);
    return list_pages(api, "ListSuppressedDestinations",
                      "/v2/email/suppression/addresses", extra,
                      "SuppressedDestinationSummaries", 1, fn, arg);
}

/* supp_path - "/v2/email/suppression/addresses/ADDR" */
static int
supp_path(const char *addr, char *path, size_t size)
{
    static const char base[] = "/v2/email/suppression/addresses/";

    if (size < sizeof(base))
        return -1;
    memcpy(path, base, sizeof(base) - 1);
    return sg_sigv4_uri_encode_buf(addr, strlen(addr), 0,
                                   path + sizeof(base) - 1,
                                   size - sizeof(base) + 1) != NULL ? 0
        : -1;
}

/* sg_sesapi_delete_suppressed - DeleteSuppressedDestination */
SG_STATUS
sg_sesapi_delete_suppressed(SG_SESAPI *api, const char *addr,
                            int *was_listed)
{
    char path[64 + 3 * SG_ADDR_MAX];
    SG_STATUS s;

    if (was_listed != NULL)
        *was_listed = 0;
    if (supp_path(addr, path, sizeof(path)) != 0) {
        seterr(api, "%s: DeleteSuppressedDestination: address too long",
               api->region);
        return SG_ERR_INVALID;
    }
    s = sg_sesapi_request(api, "DeleteSuppressedDestination", "DELETE",
                          path, NULL, NULL, NULL, 0, NULL, NULL);
    if (s == SG_ERR_NOTFOUND) {
        api->err[0] = '\0';
        return SG_OK;
    }
    if (s == SG_OK && was_listed != NULL)
        *was_listed = 1;
    return s;
}

/* sg_sesapi_put_suppressed - PutSuppressedDestination */
SG_STATUS
sg_sesapi_put_suppressed(SG_SESAPI *api, const char *addr,
                         const char *reason)
{
    json_t *o;
    char *body;
    SG_STATUS s;

    o = json_pack("{s:s, s:s}", "EmailAddress", addr, "Reason", reason);
    body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (body == NULL) {
        seterr(api, "out of memory");
        return SG_ERR_NOMEM;
    }
    s = sg_sesapi_request(api, "PutSuppressedDestination", "PUT",
                          "/v2/email/suppression/addresses", NULL,
                          "application/json", body, strlen(body), NULL,
                          NULL);
    free(body);
    return s;
}

/* ------------------------------------------------------------------ */
/* v1 Query API and its XML                                            */
/* ------------------------------------------------------------------ */

/* XML reader state. */
struct xr {
    const char *p;
    const char *end;
    char *err;
    size_t errlen;
};

/* xr_ws - skip white space */
static void
xr_ws(struct xr *x)
{
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t'
                             || *x->p == '\r' || *x->p == '\n'))
        x->p++;
}

/* xr_skip_misc - the declaration, comments, processing instructions */
static int
xr_skip_misc(struct xr *x)
{
    const char *e;

    for (;;) {
        xr_ws(x);
        if (x->end - x->p >= 2 && x->p[0] == '<' && x->p[1] == '?') {
            e = memmem(x->p, (size_t)(x->end - x->p), "?>", 2);
        } else if (x->end - x->p >= 4 && memcmp(x->p, "<!--", 4) == 0) {
            e = memmem(x->p, (size_t)(x->end - x->p), "-->", 3);
            if (e != NULL)
                e++;
        } else {
            return 0;
        }
        if (e == NULL) {
            sg_seterr(x->err, x->errlen, "unterminated XML declaration or "
                   "comment");
            return -1;
        }
        x->p = e + 2;
    }
}

/* name_char - characters of an element name */
static int
name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'
        || c == ':';
}

/* xr_text - decode character data up to '<' into a new json string */
static json_t *
xr_text(struct xr *x)
{
    const char *s = x->p, *lt;
    char *buf, *o;
    json_t *j;
    unsigned long cp;
    char *endp;

    lt = memchr(s, '<', (size_t)(x->end - s));
    if (lt == NULL) {
        sg_seterr(x->err, x->errlen, "unterminated XML text");
        return NULL;
    }
    if ((buf = malloc((size_t)(lt - s) + 1)) == NULL)
        return NULL;
    for (o = buf; s < lt;) {
        if (*s != '&') {
            *o++ = *s++;
            continue;
        }
        if (lt - s >= 5 && memcmp(s, "&amp;", 5) == 0)
            *o++ = '&', s += 5;
        else if (lt - s >= 4 && memcmp(s, "&lt;", 4) == 0)
            *o++ = '<', s += 4;
        else if (lt - s >= 4 && memcmp(s, "&gt;", 4) == 0)
            *o++ = '>', s += 4;
        else if (lt - s >= 6 && memcmp(s, "&quot;", 6) == 0)
            *o++ = '"', s += 6;
        else if (lt - s >= 6 && memcmp(s, "&apos;", 6) == 0)
            *o++ = '\'', s += 6;
        else if (lt - s >= 4 && s[1] == '#') {
            errno = 0;
            cp = s[2] == 'x' ? strtoul(s + 3, &endp, 16)
                : strtoul(s + 2, &endp, 10);
            if (endp >= lt || *endp != ';' || cp == 0 || cp > 0x7f
                || errno != 0)
                goto bad;
            *o++ = (char)cp;
            s = endp + 1;
        } else {
            goto bad;
        }
    }
    *o = '\0';
    x->p = lt;
    if (strcmp(buf, "true") == 0)
        j = json_true();
    else if (strcmp(buf, "false") == 0)
        j = json_false();
    else
        j = json_stringn(buf, (size_t)(o - buf));
    if (j == NULL)
        sg_seterr(x->err, x->errlen, "XML text is not UTF-8");
    free(buf);
    return j;
bad:
    sg_seterr(x->err, x->errlen, "bad XML entity");
    free(buf);
    return NULL;
}

/* xr_start - "<name attrs>" or "<name/>"; sets name, *empty */
static int
xr_start(struct xr *x, char *name, size_t size, int *empty)
{
    const char *s;
    size_t n;

    if (x->p >= x->end || *x->p != '<') {
        sg_seterr(x->err, x->errlen, "XML element expected");
        return -1;
    }
    s = ++x->p;
    while (x->p < x->end && name_char(*x->p))
        x->p++;
    n = (size_t)(x->p - s);
    if (n == 0 || n >= size) {
        sg_seterr(x->err, x->errlen, "bad XML element name");
        return -1;
    }
    memcpy(name, s, n);
    name[n] = '\0';
    /* Attributes (xmlns=...) are skipped, quotes respected. */
    while (x->p < x->end && *x->p != '>') {
        if (*x->p == '"' || *x->p == '\'') {
            const char *q = memchr(x->p + 1, *x->p,
                                   (size_t)(x->end - x->p - 1));
            if (q == NULL)
                break;
            x->p = q;
        }
        x->p++;
    }
    if (x->p >= x->end) {
        sg_seterr(x->err, x->errlen, "unterminated XML tag <%s", name);
        return -1;
    }
    *empty = x->p[-1] == '/';
    x->p++;
    return 0;
}

/* xr_end - "</name>" */
static int
xr_end(struct xr *x, const char *name)
{
    size_t n = strlen(name);

    if (x->end - x->p < (ptrdiff_t)(n + 3) || x->p[0] != '<'
        || x->p[1] != '/' || memcmp(x->p + 2, name, n) != 0) {
        sg_seterr(x->err, x->errlen, "</%s> expected", name);
        return -1;
    }
    x->p += n + 2;
    xr_ws(x);
    if (x->p >= x->end || *x->p != '>') {
        sg_seterr(x->err, x->errlen, "</%s> expected", name);
        return -1;
    }
    x->p++;
    return 0;
}

/* xr_element - one element's content into JSON (after its start tag) */
static json_t *
xr_element(struct xr *x, const char *name, int depth)
{
    char cname[128];
    const char *save;
    json_t *obj = NULL, *v;
    int empty, is_list = -1;

    if (depth > SG_SESAPI_XML_DEPTH) {
        sg_seterr(x->err, x->errlen, "XML nested deeper than %d",
               SG_SESAPI_XML_DEPTH);
        return NULL;
    }
    save = x->p;
    xr_ws(x);
    if (x->p >= x->end) {
        sg_seterr(x->err, x->errlen, "unterminated <%s>", name);
        return NULL;
    }
    if (x->p[0] != '<' || (x->end - x->p >= 2 && x->p[1] == '/')) {
        /* Text (possibly empty) then the end tag. */
        x->p = save;
        if ((v = xr_text(x)) == NULL)
            return NULL;
        if (xr_end(x, name) != 0) {
            json_decref(v);
            return NULL;
        }
        return v;
    }
    for (;;) {
        if (xr_skip_misc(x) != 0)
            goto fail;
        if (x->end - x->p >= 2 && x->p[0] == '<' && x->p[1] == '/')
            break;
        if (xr_start(x, cname, sizeof(cname), &empty) != 0)
            goto fail;
        if (is_list < 0) {
            is_list = strcmp(cname, "member") == 0
                || strcmp(cname, "entry") == 0;
            obj = is_list ? json_array() : json_object();
            if (obj == NULL)
                goto fail;
        } else if (is_list != (strcmp(cname, "member") == 0
                               || strcmp(cname, "entry") == 0)) {
            sg_seterr(x->err, x->errlen, "<%s> mixes list members and "
                   "fields", name);
            goto fail;
        }
        v = empty ? json_string("") : xr_element(x, cname, depth + 1);
        if (v == NULL)
            goto fail;
        if (is_list ? json_array_append_new(obj, v) != 0
            : json_object_set_new(obj, cname, v) != 0)
            goto fail;
    }
    if (xr_end(x, name) != 0)
        goto fail;
    return obj;
fail:
    json_decref(obj);
    return NULL;
}

/* sg_sesapi_xml_to_json - bounded reader for v1 answers */
json_t *
sg_sesapi_xml_to_json(const char *xml, size_t len, char *err, size_t errlen)
{
    struct xr x;
    char name[128];
    json_t *root, *v;
    int empty;

    x.p = xml;
    x.end = xml + len;
    x.err = err;
    x.errlen = errlen;
    sg_seterr(err, errlen, "bad XML");
    if (xr_skip_misc(&x) != 0 || xr_start(&x, name, sizeof(name),
                                          &empty) != 0)
        return NULL;
    v = empty ? json_string("") : xr_element(&x, name, 1);
    if (v == NULL)
        return NULL;
    if (xr_skip_misc(&x) != 0 || x.p != x.end) {
        sg_seterr(err, errlen, "text after the XML root element");
        json_decref(v);
        return NULL;
    }
    if ((root = json_object()) == NULL
        || json_object_set_new(root, name, v) != 0) {
        json_decref(root);
        return NULL;
    }
    return root;
}

/* v1_call - POST a Query API action; answer as JSON from its XML */
static SG_STATUS
v1_call(SG_SESAPI *api, const char *action, const char *params,
        json_t **out)
{
    char err[256];
    char *form, *body;
    size_t len;
    SG_STATUS s;

    *out = NULL;
    if (asprintf(&form, "Action=%s&Version=%s%s%s", action, V1_VERSION,
                 params != NULL ? "&" : "", params != NULL ? params : "")
        < 0) {
        seterr(api, "out of memory");
        return SG_ERR_NOMEM;
    }
    s = sg_sesapi_request(api, action, "POST", "/", NULL,
                          "application/x-www-form-urlencoded; "
                          "charset=utf-8", form, strlen(form), &body, &len);
    free(form);
    if (s != SG_OK)
        return s;
    *out = sg_sesapi_xml_to_json(body, len, err, sizeof(err));
    free(body);
    if (*out == NULL) {
        seterr(api, "%s: %s: %s", api->region, action, err);
        return SG_ERR_PROTO;
    }
    return SG_OK;
}

/* dig - obj[a][b][c]... ; borrowed or NULL */
static json_t *
dig(json_t *j, const char *const *path)
{
    for (; *path != NULL && j != NULL; path++)
        j = json_object_get(j, *path);
    return j;
}

/* sg_sesapi_notification_result - NAME -> attributes of a v1 answer */
json_t *
sg_sesapi_notification_result(json_t *x, char *err, size_t errlen)
{
    static const char *const path[] = {
        "GetIdentityNotificationAttributesResponse",
        "GetIdentityNotificationAttributesResult", "NotificationAttributes",
        NULL
    };
    json_t *entries, *e, *k, *v, *result;
    size_t i;

    entries = dig(x, path);
    if (entries != NULL && !json_is_array(entries)
        && !json_is_string(entries)) {
        /* An empty <NotificationAttributes/> reads as "". */
        sg_seterr(err, errlen, "NotificationAttributes is not a list");
        return NULL;
    }
    if ((result = json_object()) == NULL) {
        sg_seterr(err, errlen, "out of memory");
        return NULL;
    }
    json_array_foreach(entries, i, e) {
        k = json_object_get(e, "key");
        v = json_object_get(e, "value");
        if (json_is_string(k) && json_is_object(v)
            && json_object_set(result, json_string_value(k), v) != 0) {
            sg_seterr(err, errlen, "out of memory");
            json_decref(result);
            return NULL;
        }
    }
    return result;
}

/* sg_sesapi_notification_attrs - GetIdentityNotificationAttributes */
SG_STATUS
sg_sesapi_notification_attrs(SG_SESAPI *api, const char *const *names,
                             size_t n, json_t **out)
{
    char enc[3 * SG_ADDR_MAX + 1], err[256];
    char *params = NULL, *p;
    size_t i, cap = 0, used = 0, need;
    json_t *x;
    SG_STATUS s;

    *out = NULL;
    if (n > SG_SESAPI_V1_BATCH)
        n = SG_SESAPI_V1_BATCH;
    for (i = 0; i < n; i++) {
        if (sg_sigv4_uri_encode_buf(names[i], strlen(names[i]), 0, enc,
                                    sizeof(enc)) == NULL) {
            free(params);
            seterr(api, "%s: GetIdentityNotificationAttributes: identity "
                   "name too long", api->region);
            return SG_ERR_INVALID;
        }
        need = used + strlen(enc) + 48;
        if (need > cap) {
            cap = need * 2;
            if ((p = realloc(params, cap)) == NULL) {
                free(params);
                seterr(api, "out of memory");
                return SG_ERR_NOMEM;
            }
            params = p;
        }
        used += (size_t)snprintf(params + used, cap - used,
                                 "%sIdentities.member.%zu=%s",
                                 i > 0 ? "&" : "", i + 1, enc);
    }
    s = v1_call(api, "GetIdentityNotificationAttributes", params, &x);
    free(params);
    if (s != SG_OK)
        return s;
    *out = sg_sesapi_notification_result(x, err, sizeof(err));
    json_decref(x);
    if (*out == NULL) {
        seterr(api, "%s: GetIdentityNotificationAttributes: %s",
               api->region, err);
        return SG_ERR_PROTO;
    }
    return SG_OK;
}

/* sg_sesapi_rule_set_result - the active rule set of a v1 answer */
json_t *
sg_sesapi_rule_set_result(json_t *x)
{
    static const char *const path[] = {
        "DescribeActiveReceiptRuleSetResponse",
        "DescribeActiveReceiptRuleSetResult", NULL
    };
    json_t *r = dig(x, path);

    return json_is_object(r) ? json_incref(r) : json_object();
}

/* sg_sesapi_active_rule_set - DescribeActiveReceiptRuleSet */
SG_STATUS
sg_sesapi_active_rule_set(SG_SESAPI *api, json_t **out)
{
    json_t *x;
    SG_STATUS s;

    *out = NULL;
    if ((s = v1_call(api, "DescribeActiveReceiptRuleSet", NULL, &x))
        != SG_OK)
        return s;
    *out = sg_sesapi_rule_set_result(x);
    json_decref(x);
    if (*out == NULL) {
        seterr(api, "out of memory");
        return SG_ERR_NOMEM;
    }
    return SG_OK;
}
