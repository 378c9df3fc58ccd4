-- wrk script for images-bench.sh: POST /api/images/images/ (multipart: image, prompt), every
-- request the same file. Environment: BENCH_TOKEN (access token), BENCH_IMAGE (path of the
-- image file), BENCH_PROMPT (default "grayscale").
local token = assert(os.getenv("BENCH_TOKEN"), "BENCH_TOKEN is not set")
local path = assert(os.getenv("BENCH_IMAGE"), "BENCH_IMAGE is not set")
local prompt = os.getenv("BENCH_PROMPT") or "grayscale"
local file = assert(io.open(path, "rb"), "cannot open " .. path)
local image = file:read("*a")
file:close()

local boundary = "----imagesbench7d3f9a2c41e8"
local body = table.concat({
  "--", boundary, "\r\n",
  'Content-Disposition: form-data; name="prompt"\r\n\r\n', prompt, "\r\n",
  "--", boundary, "\r\n",
  'Content-Disposition: form-data; name="image"; filename="bench.png"\r\n',
  "Content-Type: image/png\r\n\r\n", image, "\r\n",
  "--", boundary, "--\r\n",
})
local headers = {
  ["Authorization"] = "Bearer " .. token,
  ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
}
local prepared = wrk.format("POST", "/api/images/images/", headers, body)

request = function()
  return prepared
end
