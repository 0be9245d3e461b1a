-- t-r8-owner-policy.lua - R8, the identity owner's side: SASL user app2
-- sends as account 444455556666 (a principal line), and example.com's
-- sending authorization policy in eu-west-1 lets that account send to
-- example.net recipients only; the milter evaluates it at end of
-- headers with every accepted recipient (answered at EOM)
-- expect-log: reject: END-OF-HEADERS from client.example[192.0.2.1]: 554 5.7.1 Access denied: User arn:aws:iam::444455556666:root is not authorized to perform ses:SendRawEmail on resource arn:aws:ses:eu-west-1:111122223333:identity/example.com; from=<a@eu.example.com>
-- expect-no-log: to=<only@example.net>
-- expect-no-log: to=<self@example.net>

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local open, step = sg.open, sg.step

sg.start()

-- message - app2 (or nobody) sends from a@eu.example.com to rcpts; the
-- reply expected at EOM
local function message(sasl, rcpts, want)
    local conn = open()
    if sasl ~= nil then
        mt.macro(conn, SMFIC_MAIL, "{auth_authen}", sasl)
    end
    step(conn, "MAIL", SMFIR_CONTINUE, mt.mailfrom, "<a@eu.example.com>")
    for i, r in ipairs(rcpts) do
        step(conn, "RCPT " .. i, SMFIR_CONTINUE, mt.rcptto, r)
    end
    mt.macro(conn, SMFIC_DATA, "i", "4QIDOWN")
    step(conn, "From", SMFIR_CONTINUE, mt.header, "From",
         "News <a@eu.example.com>")
    step(conn, "EOH", SMFIR_CONTINUE, mt.eoh)
    step(conn, "EOM", want, mt.eom)
    mt.disconnect(conn)
end

-- 1. Every recipient in example.net: allowed by the policy.
message("app2", { "<only@example.net>" }, SMFIR_CONTINUE)
-- 2. One recipient outside the policy's list: SES refuses the message.
message("app2", { "<bob@example.net>", "<carol@example.org>" },
        SMFIR_REPLYCODE)
-- 3. No SASL user, no principal: nothing is evaluated.
message(nil, { "<self@example.net>", "<carol@example.org>" },
        SMFIR_CONTINUE)
