-- t-r11-duplicate.lua - headers that SES accepts only once (From, Subject, ...)
-- must not repeat; Received may
-- expect-log: reject: END-OF-HEADERS from client.example[192.0.2.1]: 554 5.6.0 Message rejected: the Subject header may not appear more than once
-- expect-log: 554 5.6.0 Message rejected: the From header may not appear more than once

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local open, step = sg.open, sg.step

sg.start()

local conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "Received 1", SMFIR_CONTINUE, mt.header, "Received", "from a")
step(conn, "Received 2", SMFIR_CONTINUE, mt.header, "Received", "from b")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "alice@example.com")
step(conn, "Subject 1", SMFIR_CONTINUE, mt.header, "Subject", "one")
step(conn, "Subject 2", SMFIR_CONTINUE, mt.header, "subject", "two")
-- No reply at EOH (SMFIP_NR_EOH): the refusal comes at EOM.
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_REPLYCODE, mt.eom)
mt.disconnect(conn)

conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "From 1", SMFIR_CONTINUE, mt.header, "From", "alice@example.com")
step(conn, "From 2", SMFIR_CONTINUE, mt.header, "From", "alice@example.com")
-- No reply at EOH (SMFIP_NR_EOH): the refusal comes at EOM.
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_REPLYCODE, mt.eom)
mt.disconnect(conn)
