-- POST one fixed JSON body, read from the file named by the first script argument
-- (wrk ... -s post.lua URL -- BODY_FILE). Used for GraphQL queries and mutations and for
-- pytest-monitor's one-metric POST.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
