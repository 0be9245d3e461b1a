-- t-r1-region.lua - R1: no region for the sender (no default_region) and a
-- region that is not in the state: 451 4.3.0 at MAIL
-- expect-log: NOQUEUE: defer: MAIL from client.example[192.0.2.1]: 451 4.3.0 sesgate: no SES state for region sa-east-1: import or sync it; from=<a@sa.example.com> region=sa-east-1 rule=R1
-- expect-log: 451 4.3.0 sesgate: no SES region for sender <b@unmapped.example>

-- the shared prelude: check, open, step, sg.start (lib.lua)
local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
local open, step = sg.open, sg.step

sg.start()

local conn = open()
step(conn, "MAIL (region not in state)", SMFIR_REPLYCODE, mt.mailfrom,
     "<a@sa.example.com>")
step(conn, "MAIL (no region)", SMFIR_REPLYCODE, mt.mailfrom,
     "<b@unmapped.example>")
mt.disconnect(conn)
