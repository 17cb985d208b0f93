-- POST one fixed JSON body, read from the file named by the first script argument
-- (wrk ... -s post.lua URL -- BODY_FILE [TOKEN_FILE]). Used for GraphQL queries and mutations
-- and for pytest-monitor's one-metric POST. With a second argument, the first line of that
-- file is sent as the `Authorization` header (XPRESSO's GraphQL needs a token), so the secret
-- stays off the command line.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[2] then
    local t = assert(io.open(args[2], "rb"))
    local token = t:read("*l")
    t:close()
    assert(token and #token > 0, "no token in " .. args[2])
    wrk.headers["Authorization"] = token
  end
end
