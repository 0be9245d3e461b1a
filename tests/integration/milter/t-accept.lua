-- t-accept.lua - everything verified: two recipients, From with a display name, a
-- known configuration set; nothing refused, no header added
-- expect-no-log: reject:

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local check, open, step = sg.check, sg.open, sg.step

sg.start()

local conn = open()
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "app")
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT 1", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "RCPT 2", SMFIR_CONTINUE, mt.rcptto, "<alice@example.org>")
mt.macro(conn, SMFIC_DATA, "i", "4QID01")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From",
     "\"Alice A.\" <alice@example.com>")
step(conn, "Sender", SMFIR_CONTINUE, mt.header, "Sender", "alice@example.org")
step(conn, "X-SES-CONFIGURATION-SET", SMFIR_CONTINUE, mt.header,
     "X-SES-CONFIGURATION-SET", "transactional")
step(conn, "X-SES-MESSAGE-TAGS", SMFIR_CONTINUE, mt.header,
     "X-SES-MESSAGE-TAGS", "campaign=spring, kind=receipt")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "body", SMFIR_CONTINUE, mt.bodystring, "hello\r\n")
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
check(not mt.eom_check(conn, MT_HDRADD, "X-SES-CONFIGURATION-SET"),
      "a header was added")
mt.disconnect(conn)
