-- GET the URL given to wrk with an Authorization header, its value read from the first line of
-- the file named by the first script argument (wrk ... -s get_auth.lua URL -- TOKEN_FILE), so
-- the secret stays off the command line. Used for the KernelCI and XPRESSO routes, which need a
-- token on every request (`Authorization: <token>`, `Authorization: Jwt <token>`).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

function init(args)
  local f = assert(io.open(args[1], "rb"))
  local token = f:read("*l")
  f:close()
  assert(token and #token > 0, "no token in " .. args[1])
  wrk.headers["Authorization"] = token
end
