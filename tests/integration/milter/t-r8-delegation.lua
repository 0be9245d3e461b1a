-- t-r8-delegation.lua - R8: a delegated identity counts as verified for
-- the SASL user allowed to use it, in the region of its ARN only; the
-- milter removes the client's X-SES-*-ARN headers and adds its own
-- expect-log: delegated (R8): from=<news@partner.example> sasl=app1 region=eu-west-1 source=arn:aws:ses:eu-west-1:111122223333:identity/partner.example from-arn=arn:aws:ses:eu-west-1:111122223333:identity/partner.example return-path=arn:aws:ses:eu-west-1:111122223333:identity/partner.example
-- expect-log: removed 2 client-supplied X-SES-SOURCE-ARN
-- expect-log: reject: MAIL from client.example[192.0.2.1]: 554 5.7.1 Access denied: User sasl:app1 is not authorized to perform ses:SendRawEmail on resource arn:aws:ses:us-west-2:111122223333:identity/other.example (identity in region us-west-2, message relayed to region us-east-1); from=<a@other.example> region=us-east-1 rule=R8
-- expect-log: reject: END-OF-HEADERS from client.example[192.0.2.1]: 554 5.7.1 Access denied: User sasl:app1 is not authorized to perform ses:SendRawEmail on resource arn:aws:ses:us-west-2:111122223333:identity/other.example (identity in region us-west-2, message relayed to region eu-west-1); from=<a@eu.example.com> to=<bob@example.net> region=eu-west-1 rule=R8
-- expect-log: reject: MAIL from client.example[192.0.2.1]: 554 5.7.1 Message rejected: Email address is not verified.
-- expect-no-log: delegated (R8): from=<alice@example.com>

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local check, open, step = sg.check, sg.open, sg.step

local ARN = "arn:aws:ses:eu-west-1:111122223333:identity/partner.example"

sg.start()

-- 1. app1 sends as partner.example (delegated, eu-west-1): accepted;
-- the client's two X-SES-SOURCE-ARN and its X-SES-FROM-ARN are removed,
-- the three headers of the delegated identity added.
local conn = open()
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "app1")
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<news@partner.example>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.net>")
mt.macro(conn, SMFIC_DATA, "i", "4QIDR8")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From",
     "Partner News <news@partner.example>")
step(conn, "src1", SMFIR_CONTINUE, mt.header, "X-SES-SOURCE-ARN",
     "arn:aws:ses:eu-west-1:999999999999:identity/evil.example")
step(conn, "src2", SMFIR_CONTINUE, mt.header, "x-ses-source-arn",
     "arn:aws:ses:eu-west-1:999999999999:identity/evil2.example")
step(conn, "fromarn", SMFIR_CONTINUE, mt.header, "X-SES-FROM-ARN",
     "arn:aws:ses:eu-west-1:999999999999:identity/evil.example")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
check(mt.eom_check(conn, MT_HDRDELETE, "X-SES-SOURCE-ARN"),
      "client's X-SES-SOURCE-ARN not removed")
check(mt.eom_check(conn, MT_HDRDELETE, "X-SES-FROM-ARN"),
      "client's X-SES-FROM-ARN not removed")
check(not mt.eom_check(conn, MT_HDRDELETE, "X-SES-RETURN-PATH-ARN"),
      "X-SES-RETURN-PATH-ARN removed although the client gave none")
check(mt.eom_check(conn, MT_HDRADD, "X-SES-SOURCE-ARN", ARN),
      "X-SES-SOURCE-ARN not added")
check(mt.eom_check(conn, MT_HDRADD, "X-SES-FROM-ARN", ARN),
      "X-SES-FROM-ARN not added")
check(mt.eom_check(conn, MT_HDRADD, "X-SES-RETURN-PATH-ARN", ARN),
      "X-SES-RETURN-PATH-ARN not added")
mt.disconnect(conn)

-- 2. The same sender without the SASL user: not delegated to it, so
-- the envelope sender is an unverified identity (R2) at MAIL.
conn = open()
step(conn, "MAIL", SMFIR_REPLYCODE, mt.mailfrom, "<news@partner.example>")
mt.disconnect(conn)

-- 3. A delegated identity of us-west-2 used for mail relayed to
-- us-east-1: SES's access-denied text at MAIL.
conn = open()
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "app1")
step(conn, "MAIL", SMFIR_REPLYCODE, mt.mailfrom, "<a@other.example>")
mt.disconnect(conn)

-- 4. The same for a From: address only (the envelope sender is this
-- account's own identity): refused at end of headers (answered at EOM).
conn = open()
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "app1")
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<a@eu.example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.net>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "x@other.example")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_REPLYCODE, mt.eom)
mt.disconnect(conn)

-- 5. Not delegated (this account's own identity): the client's
-- X-SES-FROM-ARN is removed all the same, nothing is added.
conn = open()
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "app1")
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<alice@example.com>")
step(conn, "RCPT", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "alice@example.com")
step(conn, "fromarn", SMFIR_CONTINUE, mt.header, "X-SES-FROM-ARN",
     "arn:aws:ses:us-east-1:999999999999:identity/example.com")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
check(mt.eom_check(conn, MT_HDRDELETE, "X-SES-FROM-ARN"),
      "client's X-SES-FROM-ARN not removed")
check(not mt.eom_check(conn, MT_HDRADD, "X-SES-FROM-ARN"),
      "X-SES-FROM-ARN added to a non-delegated message")
check(not mt.eom_check(conn, MT_HDRADD, "X-SES-SOURCE-ARN"),
      "X-SES-SOURCE-ARN added to a non-delegated message")
mt.disconnect(conn)
