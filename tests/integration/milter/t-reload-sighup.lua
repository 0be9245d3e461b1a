-- t-reload-sighup.lua - SIGHUP reloads the configuration (libmilter
-- alone would stop the filter); SIGUSR1 too. A message in flight
-- finishes on the configuration it started with, new connections get
-- the new one, and the same process keeps serving through a burst of
-- SIGHUPs.
-- expect-log: reloaded
-- expect-log: (SIGHUP)
-- expect-log: (SIGUSR1)
-- expect-log: reject: END-OF-HEADERS from client.example[192.0.2.1]: 554 5.7.1 Configuration set does not exist: nosuch in region US-EAST-1
-- expect-no-log: does not use this program's sigwait

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local check, open, step = sg.check, sg.open, sg.step

local conf = sg.conf
sg.start()

-- set_default - rewrite the milter_default_config_set line
local function set_default(value)
    local f = assert(io.open(conf, "r"))
    local text = f:read("*a")
    f:close()
    text = text:gsub("milter_default_config_set = [^\n]*",
                     "milter_default_config_set = " .. value)
    f = assert(io.open(conf, "w"))
    f:write(text)
    f:close()
end

-- signal - send SIG to the milter (pid file), wait for the reload
local function signal(sig)
    local f = assert(io.open(conf:gsub("sesgate.conf$", "milter.pid"), "r"))
    local pid = f:read("*l")
    f:close()
    check(os.execute("kill -" .. sig .. " " .. pid), "kill -" .. sig)
    os.execute("sleep 0.3")
end

-- header - the message's From: and end of headers
local function headers(conn)
    step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "alice@example.com")
    step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
end

-- 1. A message in flight across the reload: envelope before, headers
-- and end of message after; it keeps the old default set.
local old = open()
step(old, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(old, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")

set_default("us-east-1:nosuch")
-- A burst: every SIGHUP must reload, none may stop the filter.
for i = 1, 8 do
    signal("HUP")
end

headers(old)
step(old, "EOM", SMFIR_CONTINUE, mt.eom)
check(mt.eom_check(old, MT_HDRADD, "X-SES-CONFIGURATION-SET",
                   "transactional"), "in-flight message: old set not added")
mt.disconnect(old)

-- 2. A new connection: the new configuration (an unknown default set
-- is refused as SES refuses it).
local new = open()
step(new, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(new, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
headers(new)
step(new, "EOM", SMFIR_REPLYCODE, mt.eom)
mt.disconnect(new)

-- 3. SIGUSR1 reloads too: back to the first configuration.
set_default("us-east-1:transactional")
signal("USR1")
local again = open()
step(again, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(again, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
headers(again)
step(again, "EOM", SMFIR_CONTINUE, mt.eom)
check(mt.eom_check(again, MT_HDRADD, "X-SES-CONFIGURATION-SET",
                   "transactional"), "after SIGUSR1: set not added")
mt.disconnect(again)
