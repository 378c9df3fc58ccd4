-- wrk script for auth-bench.sh: POST /api/token/verify/ with one access token (BENCH_TOKEN),
-- a static request, so wrk spends nothing on Lua per request.
local token = assert(os.getenv("BENCH_TOKEN"), "BENCH_TOKEN is not set")
wrk.method = "POST"
wrk.path = "/api/token/verify/"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"token":"%s"}', token)
