-- t-r2-envelope.lua - R2: the envelope sender must be verified; the null sender is
-- not checked at MAIL; a PENDING domain does not count
-- expect-log: NOQUEUE: reject: MAIL from client.example[192.0.2.1]: 554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: bob@unverified.example; from=<bob@unverified.example> region=us-east-1 rule=R2
-- expect-log: following identities failed the check in region US-EAST-1: carl@pending.example; from=<carl@pending.example>
-- expect-log: Email address is not verified. The following identities failed the check in region US-EAST-1: Alice@example.org

local function check(ok, what)
    if not ok then
        error(what, 2)
    end
end

-- miltertest defines only some SMFIC_* names.
local SMFIC_DATA = SMFIC_DATA or string.byte("T")

local sock = os.getenv("SG_SOCK")
mt.startfilter(os.getenv("SG_MILTER"), "-f", "-c", os.getenv("SG_CONF"),
               "-p", sock)

-- open - a connection from client.example [192.0.2.1]
local function open()
    local conn = mt.connect(sock, 50, 0.1)
    check(conn, "mt.connect() failed")
    check(mt.conninfo(conn, "client.example", "192.0.2.1") == nil,
          "mt.conninfo() failed")
    check(mt.getreply(conn) == SMFIR_CONTINUE, "connect: not continue")
    return conn
end

-- step - run one mt call, then expect a reply
local function step(conn, what, want, fn, ...)
    check(fn(conn, ...) == nil, what .. ": call failed")
    local got = mt.getreply(conn)
    check(got == want, what .. ": reply " .. tostring(got) .. ", want "
          .. tostring(want))
end

local conn = open()
step(conn, "MAIL unverified", SMFIR_REPLYCODE, mt.mailfrom,
     "<bob@unverified.example>")
step(conn, "MAIL pending", SMFIR_REPLYCODE, mt.mailfrom,
     "<carl@pending.example>")
-- Address identities are case-sensitive in the local part.
step(conn, "MAIL case", SMFIR_REPLYCODE, mt.mailfrom, "<Alice@example.org>")
step(conn, "MAIL label", SMFIR_CONTINUE, mt.mailfrom,
     "<alice+news@example.org>")
step(conn, "MAIL null", SMFIR_CONTINUE, mt.mailfrom, "<>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
mt.disconnect(conn)
