-- t-r4-paused.lua - R4: sending paused in the sender's region (ca-central-1)
-- expect-log: reject: MAIL from client.example[192.0.2.1]: 554 5.7.1 Account is paused: sending is disabled in region CA-CENTRAL-1; from=<a@ca.example.com> region=ca-central-1 rule=R4

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local open, step = sg.open, sg.step

sg.start()

local conn = open()
step(conn, "MAIL", SMFIR_REPLYCODE, mt.mailfrom, "<a@ca.example.com>")
mt.disconnect(conn)
