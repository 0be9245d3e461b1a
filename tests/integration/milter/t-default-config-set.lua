-- t-default-config-set.lua - milter_default_config_set: the header is added at end of
-- message when the client gave none, and checked like one (R11)
-- expect-log: Configuration set does not exist: nosuch in region EU-WEST-1

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
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
check(mt.eom_check(conn, MT_HDRADD, "X-SES-CONFIGURATION-SET",
                   "transactional"), "header not added")
mt.disconnect(conn)

-- The client's own header is kept; nothing added.
conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "alice@example.com")
step(conn, "set", SMFIR_CONTINUE, mt.header, "X-SES-CONFIGURATION-SET",
     "transactional")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
check(not mt.eom_check(conn, MT_HDRADD, "X-SES-CONFIGURATION-SET"),
      "header added although the client gave one")
mt.disconnect(conn)

-- A default that does not exist in the region is refused as SES would.
conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<a@eu.example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<b@example.net>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "a@eu.example.com")
-- No reply at EOH (SMFIP_NR_EOH): the refusal comes at EOM.
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_REPLYCODE, mt.eom)
mt.disconnect(conn)
