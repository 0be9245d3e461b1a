-- t-r2-envelope.lua - R2: the envelope sender must be verified; the null sender is
-- not checked at MAIL; a PENDING domain does not count
-- expect-log: NOQUEUE: reject: MAIL from client.example[192.0.2.1]: 554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: bob@unverified.example; from=<bob@unverified.example> region=us-east-1 rule=R2
-- expect-log: following identities failed the check in region US-EAST-1: carl@pending.example; from=<carl@pending.example>
-- expect-log: Email address is not verified. The following identities failed the check in region US-EAST-1: Alice@example.org

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local open, step = sg.open, sg.step

sg.start()

local conn = open()
step(conn, "MAIL unverified", SMFIR_REPLYCODE, mt.mailfrom,
     "<bob@unverified.example>")
step(conn, "MAIL pending", SMFIR_REPLYCODE, mt.mailfrom,
     "<carl@pending.example>")
-- Address identities are case-sensitive in the local part.
step(conn, "MAIL case", SMFIR_REPLYCODE, mt.mailfrom, "<Alice@example.org>")
step(conn, "MAIL label", SMFIR_CONTINUE, mt.mailfrom,
     "<alice+news@example.org>")
step(conn, "MAIL null", SMFIR_CONTINUE, mt.mailfrom, "<>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
mt.disconnect(conn)
