-- wrk script for images-bench.sh: DELETE /api/images/images/{id}/ for the ids in a file (one a
-- line), each at most once, for wrk's -d. Thread k of n takes lines k, k+n, k+2n... The file
-- must hold more ids than the run can delete (images-bench.sh checks that some are left): a
-- connection that finds no id left waits instead of sending anything, which would skew the
-- rate (wrk divides by its whole -d).
-- Environment: BENCH_TOKEN (the images' owner's access token), BENCH_IDS (path of the file),
-- WRK_THREADS (wrk's -t).
local token = assert(os.getenv("BENCH_TOKEN"), "BENCH_TOKEN is not set")
local path = assert(os.getenv("BENCH_IDS"), "BENCH_IDS is not set")
local threads = assert(tonumber(os.getenv("WRK_THREADS") or ""), "WRK_THREADS is not set")
local headers = { ["Authorization"] = "Bearer " .. token }

local counter = 0
setup = function(thread)
  thread:set("index", counter)
  counter = counter + 1
end

local ids = {}
local next_id = 1
init = function(args)
  -- `index` is the global setup() gave this thread's own Lua state with thread:set().
  local line_number = 0
  for line in io.lines(path) do
    if line ~= "" then
      if line_number % threads == index then table.insert(ids, line) end
      line_number = line_number + 1
    end
  end
end

-- Called before every request but a connection's first: a connection with no id left to
-- delete waits (longer than any run) instead of sending something else.
delay = function()
  if next_id > #ids then return 3600000 end
  return 0
end

request = function()
  local id = ids[next_id] or ids[#ids]  -- only when ids ran out (then the run is refused)
  next_id = next_id + 1
  return wrk.format("DELETE", "/api/images/images/" .. id .. "/", headers)
end
