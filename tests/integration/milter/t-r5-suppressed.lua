-- t-r5-suppressed.lua - R5: a recipient on the region's suppression list gets 550
-- 5.1.1 naming region, reason and date; the others are accepted
-- expect-log: reject: RCPT from client.example[192.0.2.1]: 550 5.1.1 <Complained@example.net> is on the Amazon SES account-level suppression list in region eu-west-1 (reason COMPLAINT, since 2026-10-15T12:30:00Z); from=<a@eu.example.com> to=<Complained@Example.NET> region=eu-west-1 rule=R5

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local open, step = sg.open, sg.step

sg.start()

local conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<a@eu.example.com>")
step(conn, "RCPT suppressed", SMFIR_REPLYCODE, mt.rcptto,
     "<Complained@Example.NET>")
step(conn, "RCPT other", SMFIR_CONTINUE, mt.rcptto, "<b@example.net>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "a@eu.example.com")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
mt.disconnect(conn)
