-- lib.lua - what every miltertest scenario (t-*.lua) shares: start the
-- milter, open a connection, run one step and check its reply.
--
-- Each scenario loads it with
--   local sg = dofile(os.getenv("SG_LUALIB") or "lib.lua")
-- (run-one.sh sets SG_LUALIB and runs miltertest from this directory)
-- and then calls sg.start() once. Scenario-specific helpers stay in the
-- scenario. Environment (run-one.sh): SG_MILTER, SG_CONF, SG_SOCK.

local sg = {}

-- miltertest defines only some SMFIC_* names: fill in the missing one
-- the scenarios use, next to miltertest's own.
SMFIC_DATA = SMFIC_DATA or string.byte("T")

sg.sock = os.getenv("SG_SOCK")
sg.conf = os.getenv("SG_CONF")

-- check - fail the scenario with WHAT unless OK; the error names the
-- line LEVEL calls up from check (default: check's caller). miltertest
-- does not print a script's error: WHAT and the line go to stderr too
-- (run-one.sh shows it on failure).
function sg.check(ok, what, level)
    if not ok then
        local at = debug.getinfo((level or 1) + 1, "Sl")
        if at ~= nil then
            what = at.short_src .. ":" .. at.currentline .. ": " .. what
        end
        io.stderr:write("check failed: " .. what .. "\n")
        error(what, 0)
    end
end

-- start - start the milter in the foreground on SG_SOCK with SG_CONF
function sg.start()
    mt.startfilter(os.getenv("SG_MILTER"), "-f", "-c", sg.conf,
                   "-p", sg.sock)
end

-- open - a connection from client.example [192.0.2.1]
function sg.open()
    local conn = mt.connect(sg.sock, 50, 0.1)
    sg.check(conn, "mt.connect() failed", 2)
    sg.check(mt.conninfo(conn, "client.example", "192.0.2.1") == nil,
             "mt.conninfo() failed", 2)
    sg.check(mt.getreply(conn) == SMFIR_CONTINUE, "connect: not continue",
             2)
    return conn
end

-- step - run one mt call, then expect the reply WANT
function sg.step(conn, what, want, fn, ...)
    sg.check(fn(conn, ...) == nil, what .. ": call failed", 2)
    local got = mt.getreply(conn)
    sg.check(got == want, what .. ": reply " .. tostring(got) .. ", want "
             .. tostring(want), 2)
end

return sg
