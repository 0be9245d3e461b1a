-- t-r11-tags.lua - R11: X-SES-MESSAGE-TAGS is name=value pairs of letters,
-- digits, _ and -
-- expect-log: reject: END-OF-HEADERS from client.example[192.0.2.1]: 554 5.6.0 Message rejected: invalid X-SES-MESSAGE-TAGS header: tag 2: ',' expected after the value; from=<alice@example.com> to=<bob@example.com> region=us-east-1 rule=R11

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
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "alice@example.com")
step(conn, "tags", SMFIR_CONTINUE, mt.header, "X-SES-MESSAGE-TAGS",
     "campaign=spring, kind=two words")
-- No reply at EOH (SMFIP_NR_EOH): the refusal comes at EOM.
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_REPLYCODE, mt.eom)
mt.disconnect(conn)
