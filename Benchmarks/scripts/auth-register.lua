-- wrk script for auth-bench.sh: POST /api/register/, a new account every request (each thread
-- numbers its own, so names never collide). Environment: BENCH_TAG, BENCH_PASSWORD.
local tag = assert(os.getenv("BENCH_TAG"), "BENCH_TAG is not set")
local password = assert(os.getenv("BENCH_PASSWORD"), "BENCH_PASSWORD is not set")
local headers = { ["Content-Type"] = "application/json" }
local threads = 0
local counter = 0

-- Runs in the main Lua state once per thread: hands each thread its number as the global `tid`.
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

request = function()
  counter = counter + 1
  local body = string.format('{"username":"r%s_%d_%d","email":"r-%s-%d-%d@example.com","password":"%s"}',
    tag, tid, counter, tag, tid, counter, password)
  return wrk.format("POST", "/api/register/", headers, body)
end
