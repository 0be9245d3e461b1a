/*
 * sesapi_int.h - internals of sesapi.c exposed for the unit tests and
 *   the fuzzers: the pure halves of the calls whose network half is in
 *   sesapi.h
 *
 * Not installed, not for programs: sesapi.c, tests/unit/check_sesapi.c
 * and tests/fuzz/fuzz_sesapi.c include it. Each function works on a
 * buffer or a parsed answer only (no handle, no network), so an answer
 * SES could send is tested here exactly as the client reads it.
 */
#ifndef SG_SESAPI_INT_H
#define SG_SESAPI_INT_H

/* System headers. */
#include <stddef.h>

/* Third-party headers. */
#include <jansson.h>

/* Local headers. */
#include "sesapi.h"

/*
 * sg_sesapi_parse_object - a v2 answer that must be one JSON object
 *   (GetAccount, GetEmailIdentity)
 *
 * Returns: new object (json_decref), or NULL with err set: larger than
 *   SG_SESAPI_RESPONSE_MAX, not JSON, not an object, out of memory.
 */
extern json_t *sg_sesapi_parse_object(const char *body, size_t len,
                                      char *err, size_t errlen);

/*
 * sg_sesapi_notification_result - GetIdentityNotificationAttributes'
 *   answer (as sg_sesapi_xml_to_json gives it) into NAME -> attributes
 *
 * Entries without a string key or an object value are skipped; an
 *   absent or empty list gives an empty object.
 * Returns: new object, or NULL with err set (the list is neither a list
 *   nor empty; out of memory). x is borrowed.
 */
extern json_t *sg_sesapi_notification_result(json_t *x, char *err,
                                             size_t errlen);

/*
 * sg_sesapi_rule_set_result - DescribeActiveReceiptRuleSet's answer (as
 *   sg_sesapi_xml_to_json gives it) into {"Metadata":..., "Rules":...}
 *
 * Returns: new object, empty when the region has no active set (the
 *   Result element is empty or absent); NULL only when out of memory.
 *   x is borrowed.
 */
extern json_t *sg_sesapi_rule_set_result(json_t *x);

#endif /* SG_SESAPI_INT_H */
