-- t-accept.lua - everything verified: two recipients, From with a display name, a
-- known configuration set; nothing refused, no header added
-- expect-no-log: reject:

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
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "app")
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT 1", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "RCPT 2", SMFIR_CONTINUE, mt.rcptto, "<alice@example.org>")
mt.macro(conn, SMFIC_DATA, "i", "4QID01")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From",
     "\"Alice A.\" <alice@example.com>")
step(conn, "Sender", SMFIR_CONTINUE, mt.header, "Sender", "alice@example.org")
step(conn, "X-SES-CONFIGURATION-SET", SMFIR_CONTINUE, mt.header,
     "X-SES-CONFIGURATION-SET", "transactional")
step(conn, "X-SES-MESSAGE-TAGS", SMFIR_CONTINUE, mt.header,
     "X-SES-MESSAGE-TAGS", "campaign=spring, kind=receipt")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "body", SMFIR_CONTINUE, mt.bodystring, "hello\r\n")
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
check(not mt.eom_check(conn, MT_HDRADD, "X-SES-CONFIGURATION-SET"),
      "a header was added")
mt.disconnect(conn)
