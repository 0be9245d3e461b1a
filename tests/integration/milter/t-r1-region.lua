-- t-r1-region.lua - R1: no region for the sender (no default_region) and a
-- region that is not in the state: 451 4.3.0 at MAIL
-- expect-log: NOQUEUE: defer: MAIL from client.example[192.0.2.1]: 451 4.3.0 sesgate: no SES state for region sa-east-1: import or sync it; from=<a@sa.example.com> region=sa-east-1 rule=R1
-- expect-log: 451 4.3.0 sesgate: no SES region for sender <b@unmapped.example>

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
step(conn, "MAIL (region not in state)", SMFIR_REPLYCODE, mt.mailfrom,
     "<a@sa.example.com>")
step(conn, "MAIL (no region)", SMFIR_REPLYCODE, mt.mailfrom,
     "<b@unmapped.example>")
mt.disconnect(conn)
