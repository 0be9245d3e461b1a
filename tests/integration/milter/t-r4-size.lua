-- t-r4-size.lua - R4: a declared SIZE= over message_size_limit is refused at MAIL;
-- a measured size over it at end of message, whatever SIZE= said
-- expect-log: reject: MAIL from client.example[192.0.2.1]: 552 5.3.4 Message is too long.; from=<a@eu.example.com> region=eu-west-1 rule=R4
-- expect-log: 4QID04: reject: END-OF-MESSAGE from client.example[192.0.2.1]: 552 5.3.4 Message is too long.

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local check, open, step = sg.check, sg.open, sg.step

sg.start()

local conn = open()
step(conn, "MAIL SIZE=5000", SMFIR_REPLYCODE, mt.mailfrom,
     "<a@eu.example.com>", "SIZE=5000")
step(conn, "MAIL SIZE=500", SMFIR_CONTINUE, mt.mailfrom,
     "<a@eu.example.com>", "SIZE=500")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<a@example.net>")
mt.macro(conn, SMFIC_DATA, "i", "4QID04")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "a@eu.example.com")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
-- Body chunks are counted without a reply (SMFIP_NR_BODY).
step(conn, "body", SMFIR_CONTINUE, mt.bodystring, string.rep("x", 1200))
step(conn, "EOM", SMFIR_REPLYCODE, mt.eom)
check(mt.eom_check(conn, MT_SMTPREPLY, "552", "5.3.4",
                   "Message is too long."), "EOM reply text")
mt.disconnect(conn)

-- Within the limit: accepted.
conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<a@eu.example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<a@example.net>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "a@eu.example.com")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "body", SMFIR_CONTINUE, mt.bodystring, string.rep("x", 500))
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
mt.disconnect(conn)
