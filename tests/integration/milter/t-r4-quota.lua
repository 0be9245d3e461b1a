-- t-r4-quota.lua - R4: quota units are held per recipient: with MaxSendRate 1
-- the second recipient gets SES's rate text; an exhausted daily quota
-- gets SES's daily text; an aborted message releases its hold
-- expect-log: defer: RCPT from client.example[192.0.2.1]: 454 4.7.0 Throttling failure: Maximum sending rate exceeded.; from=<a@rate.example.com> to=<b@example.net> region=us-west-2 rule=R4
-- expect-log: defer: RCPT from client.example[192.0.2.1]: 454 4.7.0 Throttling failure: Daily message quota exceeded.; from=<a@daily.example.com> to=<a@example.net> region=ap-south-1 rule=R4

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
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<a@rate.example.com>")
step(conn, "RCPT 1", SMFIR_CONTINUE, mt.rcptto, "<a@example.net>")
step(conn, "RCPT 2", SMFIR_REPLYCODE, mt.rcptto, "<b@example.net>")
-- Abort: the hold of RCPT 1 is given back, so a new message can use it.
check(mt.abort(conn) == nil, "abort")
step(conn, "MAIL again", SMFIR_CONTINUE, mt.mailfrom, "<a@rate.example.com>")
step(conn, "RCPT after abort", SMFIR_CONTINUE, mt.rcptto, "<c@example.net>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "a@rate.example.com")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
mt.disconnect(conn)

conn = open()
step(conn, "MAIL daily", SMFIR_CONTINUE, mt.mailfrom, "<a@daily.example.com>")
step(conn, "RCPT daily", SMFIR_REPLYCODE, mt.rcptto, "<a@example.net>")
mt.disconnect(conn)
