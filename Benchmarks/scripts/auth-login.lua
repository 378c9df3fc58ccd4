-- wrk script for auth-bench.sh: POST /api/login/ for the users the bench registered, in turn.
-- Environment: BENCH_TAG (the run's account prefix), BENCH_USERS (how many), BENCH_PASSWORD.
local tag = assert(os.getenv("BENCH_TAG"), "BENCH_TAG is not set")
local users = tonumber(os.getenv("BENCH_USERS") or "16")
local password = assert(os.getenv("BENCH_PASSWORD"), "BENCH_PASSWORD is not set")
local headers = { ["Content-Type"] = "application/json" }
local counter = 0

request = function()
  counter = counter + 1
  local body = string.format('{"email":"bench-%s-%d@example.com","password":"%s"}', tag, counter % users, password)
  return wrk.format("POST", "/api/login/", headers, body)
end
