-- fusionmap OGC API - Features items for the peer's 1000 random 0.12 x 0.12 degree boxes
-- (its lua/features.lua: the same seed 4321 and order, limit 100), cycled, each thread
-- from its own offset; a good answer is 200 with a JSON content type. Prints one line:
-- RESULT rps p50_ms p90_ms p99_ms max_ms mean_ms n bad avg_body (as the peer's scripts).
-- usage: wrk ... -s fm_items.lua URL -- <collection>     (env FM_TOKEN)
--   zones against the peer's polygons, incidents against its points
wrk.headers["Authorization"] = "Bearer " .. os.getenv("FM_TOKEN")
local threads, nth = {}, 0
function setup(thread)
  nth = nth + 1
  thread:set("tid", nth)
  table.insert(threads, thread)
end

local paths, n, i = {}, 0, 0
function init(args)
  local coll = args[1] or "zones"
  math.randomseed(4321)
  local s = 0.12
  for _ = 1, 1000 do
    local x0 = 35.5 + math.random() * (1 - s)
    local y0 = 32.5 + math.random() * (1 - s)
    table.insert(paths, string.format("/collections/%s/items?f=json&limit=100&bbox=%.5f,%.5f,%.5f,%.5f",
      coll, x0, y0, x0 + s, y0 + s))
  end
  n = #paths
  i = ((tid or 1) - 1) * math.floor(n / 2)
end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i % n) + 1])
end

bad, nbytes, nresp = 0, 0, 0
function response(status, headers, body)
  nresp = nresp + 1
  nbytes = nbytes + #body
  local ct = headers["Content-Type"] or headers["content-type"] or ""
  if status ~= 200 or not string.find(ct, "json", 1, true) then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("BAD status=" .. status .. " " .. string.sub(body, 1, 200) .. "\n") end
  end
end

function done(summary, latency, requests)
  local b, nb, nr = 0, 0, 0
  for _, t in ipairs(threads) do
    b = b + (t:get("bad") or 0)
    nb = nb + (t:get("nbytes") or 0)
    nr = nr + (t:get("nresp") or 0)
  end
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f mean_ms=%.2f n=%d bad=%d avg_body=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000, summary.requests,
    b + summary.errors.status + summary.errors.timeout, (nr > 0) and math.floor(nb / nr) or -1))
end
