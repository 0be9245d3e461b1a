-- t-default-config-set.lua - milter_default_config_set: the header is added at end of
-- message when the client gave none, and checked like one (R11)
-- expect-log: Configuration set does not exist: nosuch in region EU-WEST-1

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local check, open, step = sg.check, sg.open, sg.step

sg.start()

local conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "alice@example.com")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
check(mt.eom_check(conn, MT_HDRADD, "X-SES-CONFIGURATION-SET",
                   "transactional"), "header not added")
mt.disconnect(conn)

-- The client's own header is kept; nothing added.
conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "alice@example.com")
step(conn, "set", SMFIR_CONTINUE, mt.header, "X-SES-CONFIGURATION-SET",
     "transactional")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
check(not mt.eom_check(conn, MT_HDRADD, "X-SES-CONFIGURATION-SET"),
      "header added although the client gave one")
mt.disconnect(conn)

-- A default that does not exist in the region is refused as SES would.
conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<a@eu.example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<b@example.net>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "a@eu.example.com")
-- No reply at EOH (SMFIP_NR_EOH): the refusal comes at EOM.
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_REPLYCODE, mt.eom)
mt.disconnect(conn)
