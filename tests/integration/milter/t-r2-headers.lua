-- t-r2-headers.lua - R2: every From address (a mailbox list), Sender and
-- Return-Path must be verified; all failing identities are listed,
-- the display-name form too, in one SES text at end of headers
-- expect-log: 4QID02: reject: END-OF-HEADERS from client.example[192.0.2.1]: 554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: Ann Other <ann@unverified.example>, ann@unverified.example, carl@pending.example, x@bad.example; from=<alice@example.com> to=<bob@example.com> region=us-east-1 rule=R2
-- expect-log: 4QID03: reject: END-OF-HEADERS from client.example[192.0.2.1]: 554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: rp@unverified.example;

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local check, open, step = sg.check, sg.open, sg.step

sg.start()

local conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
mt.macro(conn, SMFIC_DATA, "i", "4QID02")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From",
     "Ann Other <ann@unverified.example>, alice@example.com,\n\tcarl@pending.example")
step(conn, "Sender", SMFIR_CONTINUE, mt.header, "Sender", "x@bad.example")
-- No reply at EOH (SMFIP_NR_EOH): the refusal comes at EOM.
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_REPLYCODE, mt.eom)
check(mt.eom_check(conn, MT_SMTPREPLY, "554", "5.7.1",
                   "Message rejected: Email address is not verified. "
                   .. "The following identities failed the check in "
                   .. "region US-EAST-1: Ann Other <ann@unverified.example>, "
                   .. "ann@unverified.example, carl@pending.example, "
                   .. "x@bad.example"), "EOM reply text")
mt.disconnect(conn)

-- Return-Path (Sendmail passes it; Postfix drops it in cleanup).
conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
mt.macro(conn, SMFIC_DATA, "i", "4QID03")
step(conn, "Return-Path", SMFIR_CONTINUE, mt.header, "Return-Path",
     "<rp@unverified.example>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "alice@example.com")
-- No reply at EOH (SMFIP_NR_EOH): the refusal comes at EOM.
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_REPLYCODE, mt.eom)
mt.disconnect(conn)

-- A verified From with a display name passes.
conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From",
     "=?UTF-8?Q?Al=C3=AFce?= <alice@sub.example.com>")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
mt.disconnect(conn)
