/*
 * fuzz_sesapi.c - libFuzzer harness for the SES API answer parsers
 *
 * The input is an answer body, optionally preceded by an
 * x-amzn-ErrorType header value and a NUL. The first byte picks the
 * list member a v2 page is read for (SuppressedDestinationSummaries,
 * EmailIdentities, ConfigurationSets: ListSuppressedDestinations,
 * ListEmailIdentities, ListConfigurationSets). The body goes to
 * sg_sesapi_parse_page, sg_sesapi_parse_error (with and without the
 * header value; GetAccount's and every error answer's shape) and
 * sg_sesapi_xml_to_json (the v1 Query answers).
 *
 * Beyond "no crash": a page is an array and a NextToken is a non-empty
 * string only on success, a failure leaves an error text; the error
 * code and message are terminated inside their buffers and carry no
 * control character; the XML reader returns an object with exactly one
 * member (the root element) or NULL with an error text; an object
 * answer is an object or NULL with an error text; the extractors give
 * objects (the notification one NULL only with an error). A broken
 * promise aborts.
 */

/* System headers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Third-party headers. */
#include <jansson.h>

/* Local headers. */
#include "sesgate.h"
#include "sesapi.h"
#include "sesapi_int.h"

/* Prototype for -Wmissing-prototypes; libFuzzer calls it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - abort when a promise is broken */
static void
check(int ok)
{
    if (!ok)
        abort();
}

/* check_clean - s is terminated within size and has no control byte */
static void
check_clean(const char *s, size_t size)
{
    size_t n = strnlen(s, size), i;

    check(n < size);
    for (i = 0; i < n; i++)
        check((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const members[] = {
        "SuppressedDestinationSummaries", "EmailIdentities",
        "ConfigurationSets"
    };
    char errtype[256];
    char err[SG_SESAPI_ERR_MAX];
    char code[64], msg[256];
    const char *body;
    const uint8_t *nul;
    size_t len;
    json_t *items = NULL, *xml, *obj;
    char *next = NULL;
    SG_STATUS st;

    if (size == 0)
        return 0;
    const char *member = members[data[0] % 3];

    data++;
    size--;
    errtype[0] = '\0';
    body = (const char *)data;
    len = size;
    nul = memchr(data, '\0', size < sizeof(errtype) ? size
                 : sizeof(errtype) - 1);
    if (nul != NULL) {
        memcpy(errtype, data, (size_t)(nul - data) + 1);
        body = (const char *)nul + 1;
        len = size - (size_t)(nul - data) - 1;
    }

    /* A v2 list page. */
    err[0] = '\0';
    st = sg_sesapi_parse_page(body, len, member, &items, &next, err,
                              sizeof(err));
    if (st == SG_OK) {
        check(json_is_array(items));
        check(next == NULL || next[0] != '\0');
    } else {
        check(items == NULL && next == NULL);
        check(err[0] != '\0' || st == SG_ERR_NOMEM);
    }
    json_decref(items);
    free(next);

    /* A v2 object answer. */
    err[0] = '\0';
    obj = sg_sesapi_parse_object(body, len, err, sizeof(err));
    check(obj == NULL ? err[0] != '\0' : json_is_object(obj));
    json_decref(obj);

    /* An error answer, with the header and without. */
    sg_sesapi_parse_error(errtype, body, len, code, sizeof(code), msg,
                          sizeof(msg));
    check_clean(code, sizeof(code));
    check_clean(msg, sizeof(msg));
    sg_sesapi_parse_error(NULL, body, len, code, sizeof(code), msg,
                          sizeof(msg));
    check_clean(code, sizeof(code));
    check_clean(msg, sizeof(msg));

    /* A v1 Query answer. */
    err[0] = '\0';
    xml = sg_sesapi_xml_to_json(body, len, err, sizeof(err));
    if (xml != NULL) {
        check(json_is_object(xml) && json_object_size(xml) == 1);
        err[0] = '\0';
        obj = sg_sesapi_notification_result(xml, err, sizeof(err));
        check(obj == NULL ? err[0] != '\0' : json_is_object(obj));
        json_decref(obj);
        obj = sg_sesapi_rule_set_result(xml);
        check(json_is_object(obj));
        json_decref(obj);
        json_decref(xml);
    } else {
        check(err[0] != '\0');
    }
    return 0;
}
