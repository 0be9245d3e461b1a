-- t-r4-recipients.lua - R4: the recipient after max_recipients gets 452 4.5.3;
-- a refused recipient does not count
-- expect-log: defer: RCPT from client.example[192.0.2.1]: 452 4.5.3 Too many recipients: Amazon SES accepts at most 2 recipients per message; from=<a@eu.example.com> to=<c@example.net> region=eu-west-1 rule=R4

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
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<a@eu.example.com>")
step(conn, "RCPT 1", SMFIR_CONTINUE, mt.rcptto, "<a@example.net>")
step(conn, "RCPT suppressed", SMFIR_REPLYCODE, mt.rcptto,
     "<complained@example.net>")
step(conn, "RCPT 2", SMFIR_CONTINUE, mt.rcptto, "<b@example.net>")
step(conn, "RCPT 3", SMFIR_REPLYCODE, mt.rcptto, "<c@example.net>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "a@eu.example.com")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
mt.disconnect(conn)
