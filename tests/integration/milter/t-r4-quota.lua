-- t-r4-quota.lua - R4: quota units are held per recipient: with MaxSendRate 1
-- the second recipient gets SES's rate text; an exhausted daily quota
-- gets SES's daily text; an aborted message releases its hold
-- expect-log: defer: RCPT from client.example[192.0.2.1]: 454 4.7.0 Throttling failure: Maximum sending rate exceeded.; from=<a@rate.example.com> to=<b@example.net> region=us-west-2 rule=R4
-- expect-log: defer: RCPT from client.example[192.0.2.1]: 454 4.7.0 Throttling failure: Daily message quota exceeded.; from=<a@daily.example.com> to=<a@example.net> region=ap-south-1 rule=R4

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local check, open, step = sg.check, sg.open, sg.step

sg.start()

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
