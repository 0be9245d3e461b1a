-- t-r3-sandbox.lua - R3: in the sandbox an unverified recipient is refused on its
-- own; verified and mailbox-simulator recipients of the same message
-- are accepted and the message goes through
-- expect-log: NOQUEUE: reject: RCPT from client.example[192.0.2.1]: 554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: x@other.example; from=<alice@example.com> to=<x@other.example> region=us-east-1 rule=R3

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
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT unverified", SMFIR_REPLYCODE, mt.rcptto, "<x@other.example>")
step(conn, "RCPT verified", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "RCPT simulator", SMFIR_CONTINUE, mt.rcptto,
     "<success+1@simulator.amazonses.com>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "alice@example.com")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
mt.disconnect(conn)
