-- t-r4-recipients.lua - R4: the recipient after max_recipients gets 452 4.5.3;
-- a refused recipient does not count
-- expect-log: defer: RCPT from client.example[192.0.2.1]: 452 4.5.3 Too many recipients: Amazon SES accepts at most 2 recipients per message; from=<a@eu.example.com> to=<c@example.net> region=eu-west-1 rule=R4

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local open, step = sg.open, sg.step

sg.start()

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
