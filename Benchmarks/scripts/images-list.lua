-- wrk script for images-bench.sh: GET /api/images/images/?page_size=10 as one user.
-- Environment: BENCH_TOKEN (access token).
local token = assert(os.getenv("BENCH_TOKEN"), "BENCH_TOKEN is not set")
local prepared = wrk.format("GET", "/api/images/images/?page_size=10", { ["Authorization"] = "Bearer " .. token })

request = function()
  return prepared
end
