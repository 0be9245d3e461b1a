-- t-r11-tags.lua - R11: X-SES-MESSAGE-TAGS is name=value pairs of letters,
-- digits, _ and -
-- expect-log: reject: END-OF-HEADERS from client.example[192.0.2.1]: 554 5.6.0 Message rejected: invalid X-SES-MESSAGE-TAGS header: tag 2: ',' expected after the value; from=<alice@example.com> to=<bob@example.com> region=us-east-1 rule=R11

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local open, step = sg.open, sg.step

sg.start()

local conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "alice@example.com")
step(conn, "tags", SMFIR_CONTINUE, mt.header, "X-SES-MESSAGE-TAGS",
     "campaign=spring, kind=two words")
-- No reply at EOH (SMFIP_NR_EOH): the refusal comes at EOM.
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_REPLYCODE, mt.eom)
mt.disconnect(conn)
