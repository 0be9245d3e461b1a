-- t-r11-config-set.lua - R11: X-SES-CONFIGURATION-SET must name a set of the region
-- (configuration sets are per region)
-- expect-log: reject: END-OF-HEADERS from client.example[192.0.2.1]: 554 5.7.1 Configuration set does not exist: marketing in region US-EAST-1; from=<alice@example.com> to=<bob@example.com> region=us-east-1 rule=R11

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local open, step = sg.open, sg.step

sg.start()

local conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "alice@example.com")
-- "marketing" exists in eu-west-1 only.
step(conn, "set", SMFIR_CONTINUE, mt.header, "X-SES-CONFIGURATION-SET",
     "marketing")
-- No reply at EOH (SMFIP_NR_EOH): the refusal comes at EOM.
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_REPLYCODE, mt.eom)
mt.disconnect(conn)

conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "alice@example.com")
step(conn, "set", SMFIR_CONTINUE, mt.header, "X-SES-CONFIGURATION-SET",
     "transactional")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
mt.disconnect(conn)
