-- t-r5-suppressed.lua - R5: a recipient on the region's suppression list gets 550
-- 5.1.1 naming region, reason and date; the others are accepted
-- expect-log: reject: RCPT from client.example[192.0.2.1]: 550 5.1.1 <Complained@example.net> is on the Amazon SES account-level suppression list in region eu-west-1 (reason COMPLAINT, since 2026-10-15T12:30:00Z); from=<a@eu.example.com> to=<Complained@Example.NET> region=eu-west-1 rule=R5

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
step(conn, "RCPT suppressed", SMFIR_REPLYCODE, mt.rcptto,
     "<Complained@Example.NET>")
step(conn, "RCPT other", SMFIR_CONTINUE, mt.rcptto, "<b@example.net>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "a@eu.example.com")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
mt.disconnect(conn)
