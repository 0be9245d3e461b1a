#!/usr/bin/env python3
"""gen_snapshot.py - write a synthetic sesgate snapshot for benchmarks

Usage: gen_snapshot.py IDENTITIES SUPPRESSED [REGION] > snapshot.json

Writes IDENTITIES domain/address identities and SUPPRESSED suppressed
addresses into one region (default us-east-1), one entry per line, with
the addresses in a scrambled order (as SES pages them, not sorted).
Python 3 standard library only.
"""
import math
import sys


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 64
    nident = int(sys.argv[1])
    nsupp = int(sys.argv[2])
    region = sys.argv[3] if len(sys.argv) > 3 else "us-east-1"
    out = sys.stdout
    w = out.write
    w('{\n  "sesgate_state": 1,\n  "regions": {\n')
    w('    "%s": {\n' % region)
    w('      "account": {"ProductionAccessEnabled": true, '
      '"SendingEnabled": true, "SendQuota": {"Max24HourSend": 1000000, '
      '"MaxSendRate": 200, "SentLast24Hours": 0}},\n')
    w('      "identities": [')
    for i in range(nident):
        sep = "," if i else ""
        if i % 2:
            name = "sender%d@d%d.example" % (i, i)
            typ = "EMAIL_ADDRESS"
        else:
            name = "d%d.example" % i
            typ = "DOMAIN"
        w('%s\n        {"IdentityName": "%s", "IdentityType": "%s", '
          '"VerificationStatus": "SUCCESS", "SendingEnabled": true}'
          % (sep, name, typ))
    w('\n      ],\n      "configuration_sets": ["transactional"],\n')
    w('      "suppressed": [')
    # A multiplicative permutation of 0..n-1 scrambles the order.
    mult = 2654435761
    if math.gcd(mult, max(nsupp, 1)) != 1:
        mult = 1
    chunk = []
    for i in range(nsupp):
        j = (i * mult) % nsupp if nsupp > 1 else i
        reason = "BOUNCE" if j % 3 else "COMPLAINT"
        chunk.append('%s\n        {"EmailAddress": "user%d@host%d.example", '
                     '"Reason": "%s", "LastUpdateTime": '
                     '"2026-11-01T00:00:00Z"}'
                     % ("," if i else "", j, j % 9973, reason))
        if len(chunk) >= 10000:
            w("".join(chunk))
            chunk = []
    w("".join(chunk))
    w('\n      ]\n    }\n  }\n}\n')
    return 0


if __name__ == "__main__":
    sys.exit(main())
