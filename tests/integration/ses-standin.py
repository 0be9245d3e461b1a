#!/usr/bin/env python3
"""ses-standin.py - a loopback stand-in for the Amazon SES API (tests only)

Implements the calls sesgatectl sync and suppress make, with SES's shapes
(ses-facts.md 6.2, 7, 13.3), real NextToken paging, SES's error wire
format (x-amzn-ErrorType header and a {"message": ...} body), and an
independent SigV4 check of every request written from the AWS
description with hmac/hashlib/urllib (no code shared with sesgate): a
request whose signature does not match is refused with 403
SignatureDoesNotMatch, an unknown access key with 403
UnrecognizedClientException. The region is the request's signing region.

    ses-standin.py --data FILE --credentials AKID:SECRET[,AKID:SECRET]
                   [--port N] [--port-file FILE]

Data file: {"regions": {"us-east-1": {"account": {...}, "identities":
[...], "configuration_sets": [...], "suppressed": [...],
"notifications": {NAME: {...}}, "rule_set": {...}}},
"synthetic": {"eu-west-1": {"identities": N, "suppressed": M}}}.
Synthetic entries are computed from their index, so a million of them
cost nothing until asked for.

Control (unsigned, loopback only): POST /__control with a JSON object
merged into the settings:
    throttle_every N   every Nth API request gets 429 (0: never)
    fail_call NAME, fail_status S, fail_count K
                       the next K requests of call NAME get status S
    slow SECONDS       sleep before every answer
    truncate_every N   every Nth answer is cut off halfway
    page_delay SECONDS sleep before each list page (for kill -9 tests)
GET /__control returns the settings, request counts per call and region,
and the addresses deleted or put per region.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
SETTINGS = {"throttle_every": 0, "fail_call": "", "fail_status": 500,
            "fail_count": 0, "slow": 0, "truncate_every": 0,
            "page_delay": 0}
COUNTS = {}
DELETED = {}
PUT = {}
NREQ = [0]
CREDS = {}
REGIONS = {}


class Region:
    """One region's data; synthetic lists are computed by index."""

    def __init__(self, name, spec, synth):
        self.name = name
        self.account = spec.get("account", {
            "ProductionAccessEnabled": True, "SendingEnabled": True,
            "EnforcementStatus": "HEALTHY",
            "SendQuota": {"Max24HourSend": 50000.0, "MaxSendRate": 14.0,
                          "SentLast24Hours": 0.0}})
        self.identities = list(spec.get("identities", []))
        self.csets = list(spec.get("configuration_sets", []))
        self.notifications = spec.get("notifications", {})
        self.rule_set = spec.get("rule_set")
        self.supp = []
        for e in spec.get("suppressed", []):
            self.supp.append((e["EmailAddress"], e.get("Reason", "BOUNCE"),
                              to_epoch(e.get("LastUpdateTime", 0))))
        self.n_synth_ident = int(synth.get("identities", 0))
        self.n_synth_supp = int(synth.get("suppressed", 0))
        self.removed = set()

    def identity(self, i):
        if i < len(self.identities):
            return self.identities[i]
        j = i - len(self.identities)
        return {"IdentityName": "sender%d@synth%d.example" % (j, j % 97),
                "IdentityType": "EMAIL_ADDRESS",
                "VerificationStatus": "SUCCESS", "SendingEnabled": True}

    def n_identities(self):
        return len(self.identities) + self.n_synth_ident

    def supp_entry(self, i):
        if i < len(self.supp):
            return self.supp[i]
        j = i - len(self.supp)
        return ("bounced%d@synth%d.example" % (j, j % 89),
                "COMPLAINT" if j % 10 == 0 else "BOUNCE",
                1700000000 + j % 1000000)

    def n_supp(self):
        return len(self.supp) + self.n_synth_supp


def to_epoch(v):
    if isinstance(v, (int, float)):
        return int(v)
    s = str(v).replace("Z", "+00:00")
    return int(datetime.datetime.fromisoformat(s).timestamp())


# ---- SigV4, written from the AWS description -------------------------

def hm(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def canonical_uri(raw_path):
    # Non-S3 services: normalise, then encode the (already encoded) path
    # once more (botocore SigV4Auth: quote(path, safe='/~')).
    segs = []
    for s in raw_path.split("/"):
        if s in ("", "."):
            continue
        if s == "..":
            if segs:
                segs.pop()
            continue
        segs.append(s)
    uri = "/" + "/".join(urllib.parse.quote(s, safe="~") for s in segs)
    if raw_path.endswith("/") and segs:
        uri += "/"
    return uri


def canonical_query(raw_query):
    pairs = []
    if raw_query:
        for p in raw_query.split("&"):
            if not p:
                continue
            k, _, v = p.partition("=")
            pairs.append((urllib.parse.quote(urllib.parse.unquote(k),
                                             safe="~"),
                          urllib.parse.quote(urllib.parse.unquote(v),
                                             safe="~")))
    return "&".join("%s=%s" % kv for kv in sorted(pairs))


def check_sigv4(method, raw_path, raw_query, headers, body):
    """Returns (region, None) or (None, (status, code, message))."""
    auth = headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return None, (403, "MissingAuthenticationTokenException",
                      "Missing Authentication Token")
    fields = {}
    for part in auth[len("AWS4-HMAC-SHA256 "):].split(","):
        k, _, v = part.strip().partition("=")
        fields[k] = v
    try:
        akid, date, region, service, term = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        sig = fields["Signature"]
    except (KeyError, ValueError):
        return None, (400, "IncompleteSignatureException",
                      "Authorization header is malformed")
    if akid not in CREDS:
        return None, (403, "UnrecognizedClientException",
                      "The security token included in the request is "
                      "invalid.")
    amzdate = headers.get("X-Amz-Date", "")
    try:
        t = datetime.datetime.strptime(amzdate, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        return None, (400, "IncompleteSignatureException",
                      "X-Amz-Date is missing or malformed")
    if abs(time.time() - t.timestamp()) > 300 or amzdate[:8] != date:
        return None, (403, "InvalidSignatureException",
                      "Signature expired or date mismatch")
    if service != "ses" or term != "aws4_request":
        return None, (403, "InvalidSignatureException",
                      "Credential should be scoped to correct service: "
                      "'ses'.")
    for must in ("host", "x-amz-date"):
        if must not in signed:
            return None, (403, "InvalidSignatureException",
                          "%s must be signed" % must)
    lines = []
    for h in signed:
        vals = headers.get_all(h) or []
        lines.append("%s:%s\n" % (h, ",".join(" ".join(v.split())
                                               for v in vals)))
    creq = "\n".join([method, canonical_uri(raw_path),
                      canonical_query(raw_query), "".join(lines),
                      ";".join(signed), hashlib.sha256(body).hexdigest()])
    sts = "\n".join(["AWS4-HMAC-SHA256", amzdate,
                     "%s/%s/%s/aws4_request" % (date, region, service),
                     hashlib.sha256(creq.encode("utf-8")).hexdigest()])
    k = hm(("AWS4" + CREDS[akid]).encode("utf-8"), date)
    k = hm(hm(hm(k, region), service), "aws4_request")
    want = hmac.new(k, sts.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, sig):
        return None, (403, "SignatureDoesNotMatch",
                      "The request signature we calculated does not match "
                      "the signature you provided. Check your AWS Secret "
                      "Access Key and signing method.")
    if region not in REGIONS:
        return None, (400, "BadRequestException",
                      "stand-in has no data for region %s" % region)
    return region, None


# ---- paging -----------------------------------------------------------

def make_token(offset, kind):
    raw = json.dumps({"o": offset, "k": kind}).encode()
    return base64.b64encode(raw).decode()


def read_token(tok, kind):
    try:
        d = json.loads(base64.b64decode(tok.encode(), validate=True))
        if d["k"] != kind or not isinstance(d["o"], int) or d["o"] < 0:
            raise ValueError
        return d["o"]
    except Exception:
        raise ApiError(400, "InvalidNextTokenException",
                       "The NextToken is not valid.")


class ApiError(Exception):
    def __init__(self, status, code, message):
        Exception.__init__(self, message)
        self.status = status
        self.code = code
        self.message = message


def xml_escape(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def to_xml(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "".join("<%s>%s</%s>" % (k, to_xml(x), k)
                       for k, x in v.items())
    if isinstance(v, list):
        return "".join("<member>%s</member>" % to_xml(x) for x in v)
    return xml_escape(v)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle
    # and the client's delayed ACK cost 40 ms per keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def send_body(self, status, body, ctype="application/json",
                  errtype=None, truncate=False):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "standin-%d" % NREQ[0])
        if errtype:
            self.send_header("x-amzn-ErrorType", errtype +
                             ":http://internal.amazon.com/coral/"
                             "com.amazon.coral.service/")
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if truncate:
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)

    def send_error_shape(self, status, code, message, v1=False):
        if v1:
            body = ("<ErrorResponse xmlns=\"http://ses.amazonaws.com/doc/"
                    "2010-12-01/\"><Error><Type>Sender</Type><Code>%s</Code>"
                    "<Message>%s</Message></Error><RequestId>standin"
                    "</RequestId></ErrorResponse>" % (code,
                                                       xml_escape(message)))
            self.send_body(status, body, "text/xml")
        else:
            self.send_body(status, json.dumps({"message": message}),
                           errtype=code)

    def control(self, method, body):
        with LOCK:
            if method == "POST":
                SETTINGS.update(json.loads(body or b"{}"))
            out = {"settings": SETTINGS, "counts": COUNTS,
                   "deleted": DELETED, "put": PUT}
            data = json.dumps(out)
        self.send_body(200, data)

    def handle_any(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        raw_path, _, raw_query = self.path.partition("?")
        if raw_path == "/__control":
            return self.control(method, body)
        v1 = method == "POST" and raw_path == "/"
        region, err = check_sigv4(method, raw_path, raw_query, self.headers,
                                  body)
        if err:
            return self.send_error_shape(*err, v1=v1)
        query = urllib.parse.parse_qs(raw_query, keep_blank_values=True)
        if v1:
            form = urllib.parse.parse_qs(body.decode("utf-8"),
                                         keep_blank_values=True)
            call = form.get("Action", [""])[0]
        else:
            call = self.route(method, raw_path)[0]
        with LOCK:
            NREQ[0] += 1
            n = NREQ[0]
            key = "%s %s" % (region, call)
            COUNTS[key] = COUNTS.get(key, 0) + 1
            s = dict(SETTINGS)
            fail = (s["fail_count"] > 0 and s["fail_call"] == call)
            if fail:
                SETTINGS["fail_count"] -= 1
        if s["slow"]:
            time.sleep(float(s["slow"]))
        if fail:
            st = int(s["fail_status"])
            code = {429: "TooManyRequestsException",
                    400: "BadRequestException",
                    404: "NotFoundException"}.get(
                        st, "InternalServiceErrorException")
            return self.send_error_shape(st, code, "injected failure",
                                         v1=v1)
        if s["throttle_every"] and n % int(s["throttle_every"]) == 0:
            return self.send_error_shape(429, "TooManyRequestsException",
                                         "Maximum sending rate exceeded.",
                                         v1=v1)
        truncate = bool(s["truncate_every"]
                        and n % int(s["truncate_every"]) == 0)
        try:
            if v1:
                out = self.v1(REGIONS[region], call, form)
                return self.send_body(200, out, "text/xml",
                                      truncate=truncate)
            status, out = self.v2(REGIONS[region], method, raw_path, query,
                                  body, s)
        except ApiError as e:
            return self.send_error_shape(e.status, e.code, e.message, v1=v1)
        self.send_body(status, json.dumps(out) if out is not None else "",
                       truncate=truncate)

    def route(self, method, path):
        p = path.split("/")
        if path == "/v2/email/account" and method == "GET":
            return ("GetAccount", None)
        if path == "/v2/email/identities" and method == "GET":
            return ("ListEmailIdentities", None)
        if (len(p) == 5 and path.startswith("/v2/email/identities/")
                and method == "GET"):
            return ("GetEmailIdentity", urllib.parse.unquote(p[4]))
        if path == "/v2/email/configuration-sets" and method == "GET":
            return ("ListConfigurationSets", None)
        if path == "/v2/email/suppression/addresses":
            return ({"GET": "ListSuppressedDestinations",
                     "PUT": "PutSuppressedDestination"}.get(method, "?"),
                    None)
        if (len(p) == 6 and path.startswith(
                "/v2/email/suppression/addresses/")):
            return ({"GET": "GetSuppressedDestination",
                     "DELETE": "DeleteSuppressedDestination"}.get(method,
                                                                  "?"),
                    urllib.parse.unquote(p[5]))
        return ("Unknown", None)

    def page(self, query, kind, total, s):
        size = int(query.get("PageSize", ["1000"])[0] or 1000)
        size = max(1, min(size, 1000))
        start = read_token(query["NextToken"][0], kind) \
            if "NextToken" in query else 0
        if s.get("page_delay"):
            time.sleep(float(s["page_delay"]))
        end = min(start + size, total)
        nxt = make_token(end, kind) if end < total else None
        return start, end, nxt

    def v2(self, r, method, path, query, body, s):
        call, arg = self.route(method, path)
        if call == "GetAccount":
            return 200, r.account
        if call == "ListEmailIdentities":
            a, b, nxt = self.page(query, "id", r.n_identities(), s)
            items = []
            for i in range(a, b):
                e = r.identity(i)
                items.append({k: e[k] for k in
                              ("IdentityName", "IdentityType",
                               "VerificationStatus", "SendingEnabled")
                              if k in e})
            out = {"EmailIdentities": items}
            if nxt:
                out["NextToken"] = nxt
            return 200, out
        if call == "GetEmailIdentity":
            for i in range(len(r.identities)):
                if r.identities[i]["IdentityName"] == arg:
                    e = r.identities[i]
                    break
            else:
                e = None
                if arg.startswith("sender") and "@synth" in arg:
                    j = int(arg[6:arg.index("@")])
                    if j < r.n_synth_ident:
                        e = r.identity(len(r.identities) + j)
            if e is None:
                raise ApiError(404, "NotFoundException",
                               "Email identity %s does not exist." % arg)
            out = {k: v for k, v in e.items() if k != "IdentityName"}
            out.setdefault("FeedbackForwardingStatus", True)
            out.setdefault("VerifiedForSendingStatus",
                           e.get("VerificationStatus") == "SUCCESS")
            out.setdefault("DkimAttributes", {
                "SigningEnabled": True, "Status": "SUCCESS",
                "Tokens": ["tok1", "tok2", "tok3"],
                "SigningHostedZone": "dkim.amazonses.com"})
            out.setdefault("Policies", {})
            out.setdefault("Tags", [])
            return 200, out
        if call == "ListConfigurationSets":
            a, b, nxt = self.page(query, "cs", len(r.csets), s)
            out = {"ConfigurationSets": r.csets[a:b]}
            if nxt:
                out["NextToken"] = nxt
            return 200, out
        if call == "ListSuppressedDestinations":
            since = 0
            if "StartDate" in query:
                since = to_epoch(query["StartDate"][0])
            a, b, nxt = self.page(query, "sd", r.n_supp(), s)
            items = []
            for i in range(a, b):
                addr, reason, ts = r.supp_entry(i)
                if ts < since or addr.lower() in r.removed:
                    continue
                if "Reason" in query and reason not in query["Reason"]:
                    continue
                items.append({"EmailAddress": addr, "Reason": reason,
                              "LastUpdateTime": ts})
            out = {"SuppressedDestinationSummaries": items}
            if nxt:
                out["NextToken"] = nxt
            return 200, out
        if call == "DeleteSuppressedDestination":
            with LOCK:
                DELETED.setdefault(r.name, []).append(arg)
                present = any(r.supp_entry(i)[0].lower() == arg.lower()
                              for i in range(len(r.supp)))
                if not present or arg.lower() in r.removed:
                    raise ApiError(404, "NotFoundException",
                                   "Email address %s does not exist on "
                                   "your suppression list." % arg)
                r.removed.add(arg.lower())
            return 200, None
        if call == "PutSuppressedDestination":
            if not r.account.get("ProductionAccessEnabled", False):
                raise ApiError(400, "BadRequestException",
                               "PutSuppressedDestination is not available "
                               "while the account is in the sandbox.")
            d = json.loads(body or b"{}")
            if d.get("Reason") not in ("BOUNCE", "COMPLAINT"):
                raise ApiError(400, "BadRequestException",
                               "Reason must be BOUNCE or COMPLAINT")
            with LOCK:
                PUT.setdefault(r.name, []).append(d["EmailAddress"])
                r.supp.append((d["EmailAddress"], d["Reason"],
                               int(time.time())))
                r.removed.discard(d["EmailAddress"].lower())
            return 200, None
        raise ApiError(404, "UnknownOperationException",
                       "stand-in: %s %s not implemented" % (method, path))

    def v1(self, r, action, form):
        ns = "http://ses.amazonaws.com/doc/2010-12-01/"
        if action == "GetIdentityNotificationAttributes":
            names = [v[0] for k, v in sorted(form.items())
                     if k.startswith("Identities.member.")]
            if len(names) > 100:
                raise ApiError(400, "InvalidParameterValue",
                               "at most 100 identities")
            entries = ""
            for n in names:
                attrs = r.notifications.get(n, {
                    "ForwardingEnabled": True,
                    "HeadersInBounceNotificationsEnabled": False,
                    "HeadersInComplaintNotificationsEnabled": False,
                    "HeadersInDeliveryNotificationsEnabled": False})
                entries += ("<entry><key>%s</key><value>%s</value></entry>"
                            % (xml_escape(n), to_xml(attrs)))
            return ("<?xml version=\"1.0\"?>\n"
                    "<GetIdentityNotificationAttributesResponse xmlns=\"%s\">"
                    "<GetIdentityNotificationAttributesResult>"
                    "<NotificationAttributes>%s</NotificationAttributes>"
                    "</GetIdentityNotificationAttributesResult>"
                    "<ResponseMetadata><RequestId>standin</RequestId>"
                    "</ResponseMetadata>"
                    "</GetIdentityNotificationAttributesResponse>\n"
                    % (ns, entries))
        if action == "DescribeActiveReceiptRuleSet":
            inner = to_xml(r.rule_set) if r.rule_set else ""
            return ("<DescribeActiveReceiptRuleSetResponse xmlns=\"%s\">"
                    "<DescribeActiveReceiptRuleSetResult>%s"
                    "</DescribeActiveReceiptRuleSetResult>"
                    "</DescribeActiveReceiptRuleSetResponse>" % (ns, inner))
        raise ApiError(400, "InvalidAction", "unknown action %s" % action)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--credentials", required=True,
                    help="AKID:SECRET[,AKID:SECRET]")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    a = ap.parse_args()
    for pair in a.credentials.split(","):
        akid, _, secret = pair.partition(":")
        CREDS[akid] = secret
    with open(a.data) as f:
        data = json.load(f)
    synth = data.get("synthetic", {})
    for name in set(data.get("regions", {})) | set(synth):
        REGIONS[name] = Region(name, data.get("regions", {}).get(name, {}),
                               synth.get(name, {}))
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 64
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        import os
        os.rename(a.port_file + ".tmp", a.port_file)
    print("ses-standin listening on 127.0.0.1:%d" % port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
