-- POST a different JSON body per request, cycling through the lines of the file named by the
-- first script argument (one body per line). Used for point lookups over many ids. Each wrk
-- thread starts at a different offset so threads do not ask for the same row at once.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local bodies = {}
local i = 0
local thread_no = 0

function setup(thread)
  thread:set("offset", thread_no * 37)
  thread_no = thread_no + 1
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  assert(#bodies > 0, "no bodies in " .. args[1])
  i = (offset or 0) % #bodies
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
