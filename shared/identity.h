/*
 * identity.h - verified identities (R2) and sandbox recipients (R3)
 *
 * An address is covered in a region when one of these holds, in order:
 *   1. an EMAIL_ADDRESS identity equal to it (local part compared
 *      case-sensitively, domain case-insensitively);
 *   2. the same with a "+label" removed from the local part
 *      (verifying sender@example.com covers sender+x@example.com);
 *   3. a DOMAIN identity equal to its domain or to any parent domain
 *      (example.com covers a.b.example.com; a verified b.example.com
 *      does NOT cover example.com).
 * Only identities with VerificationStatus SUCCESS and sending enabled
 * count. The first matching identity decides: an address identity that
 * is PENDING does not hide a verified domain (SES checks the address,
 * then each parent domain, and any verified one suffices).
 */
#ifndef SG_IDENTITY_H
#define SG_IDENTITY_H

/* Local headers. */
#include "sesgate.h"
#include "addr.h"
#include "state.h"

/* What a coverage check found. */
struct sg_coverage {
    int covered;                /* 1: a usable identity covers it */
    char identity[SG_ADDR_MAX + 1]; /* the identity that covers it, or
                                 * the closest unusable one ("" none) */
    char status[24];            /* that identity's status ("" none) */
    int sending_disabled;       /* it exists but SendingEnabled false */
};

/*
 * sg_identity_covers - is an address covered by a verified identity?
 *
 * Parameters: snap (inside begin/end); region; a, parsed address;
 *   out, filled in.
 * Returns: SG_OK (see out->covered), or SG_ERR_STATE.
 */
extern SG_STATUS sg_identity_covers(SG_SNAP *snap, const char *region,
                                    const struct sg_addr *a,
                                    struct sg_coverage *out);

/*
 * sg_identity_is_simulator - SES mailbox simulator address?
 *
 * success|bounce|ooto|complaint|suppressionlist@simulator.amazonses.com,
 * with an optional "+label"; domain case-insensitive.
 */
extern int sg_identity_is_simulator(const struct sg_addr *a);

/*
 * sg_identity_key_buf - the store key of an address identity name
 *   (local part as given, domain lower-cased) or of a domain (lower case)
 *
 * Returns: buf, or NULL if it does not fit or name is empty.
 */
extern char *sg_identity_key_buf(const char *name, char *buf, size_t size);

#endif /* SG_IDENTITY_H */
