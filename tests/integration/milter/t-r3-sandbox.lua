-- t-r3-sandbox.lua - R3: in the sandbox an unverified recipient is refused on its
-- own; verified and mailbox-simulator recipients of the same message
-- are accepted and the message goes through
-- expect-log: NOQUEUE: reject: RCPT from client.example[192.0.2.1]: 554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: x@other.example; from=<alice@example.com> to=<x@other.example> region=us-east-1 rule=R3

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local open, step = sg.open, sg.step

sg.start()

local conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT unverified", SMFIR_REPLYCODE, mt.rcptto, "<x@other.example>")
step(conn, "RCPT verified", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "RCPT simulator", SMFIR_CONTINUE, mt.rcptto,
     "<success+1@simulator.amazonses.com>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "alice@example.com")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
mt.disconnect(conn)
