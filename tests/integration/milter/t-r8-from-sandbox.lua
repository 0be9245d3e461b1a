-- t-r8-from-sandbox.lua - R8 with a From:-only delegation whose owner
-- is in the sandbox: the region (eu-west-1) is in production, so RCPT
-- accepts unverified recipients; the From: header then shows the
-- delegated identity, and SES refuses the whole message naming every
-- unverified recipient (R3 applies to the owner's sandbox)
-- expect-log: reject: END-OF-HEADERS from client.example[192.0.2.1]: 554 5.7.1 Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: x@other.example, y@other.example; from=<a@eu.example.com> to=<bob@example.com> region=eu-west-1 rule=R8
-- expect-log: delegated (R8): from=<b@eu.example.com> sasl=- region=eu-west-1 source=- from-arn=arn:aws:ses:eu-west-1:111122223333:identity/partner.example return-path=-
-- expect-no-log: from=<c@eu.example.com>

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local check, open, step = sg.check, sg.open, sg.step

local ARN = "arn:aws:ses:eu-west-1:111122223333:identity/partner.example"

sg.start()

-- 1. Two unverified recipients pass RCPT (production region), then
-- From: is partner.example's, delegated by an owner in the sandbox:
-- the message is refused at the end (no reply at EOH, SMFIP_NR_EOH).
local conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<a@eu.example.com>")
step(conn, "RCPT bob", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "RCPT x", SMFIR_CONTINUE, mt.rcptto, "<x@other.example>")
step(conn, "RCPT sim", SMFIR_CONTINUE, mt.rcptto,
     "<success@simulator.amazonses.com>")
step(conn, "RCPT y", SMFIR_CONTINUE, mt.rcptto, "<y@other.example>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From",
     "Partner <news@partner.example>")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_REPLYCODE, mt.eom)
check(not mt.eom_check(conn, MT_HDRADD, "X-SES-FROM-ARN"),
      "refused message got an ARN header")

-- 2. Same connection, only verified recipients and the simulator: the
-- delegated From: is accepted and its ARN header added.
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<b@eu.example.com>")
step(conn, "RCPT bob", SMFIR_CONTINUE, mt.rcptto, "<bob@example.com>")
step(conn, "RCPT sim", SMFIR_CONTINUE, mt.rcptto,
     "<success@simulator.amazonses.com>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From",
     "news@partner.example")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
check(mt.eom_check(conn, MT_HDRADD, "X-SES-FROM-ARN", ARN),
      "X-SES-FROM-ARN not added")
mt.disconnect(conn)

-- 3. No delegated identity in From: (the account's own verified
-- domain): a production region, unverified recipients are fine.
conn = open()
step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<c@eu.example.com>")
step(conn, "RCPT x", SMFIR_CONTINUE, mt.rcptto, "<x@other.example>")
step(conn, "From", SMFIR_CONTINUE, mt.header, "From", "c@eu.example.com")
step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
step(conn, "EOM", SMFIR_CONTINUE, mt.eom)
mt.disconnect(conn)
