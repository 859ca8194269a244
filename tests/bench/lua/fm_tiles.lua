-- fusionmap XYZ tiles for every tile at zoom Z covering lon 35.5..36.5 / lat 32.5..33.5:
-- the same tiles, order (shuffle seed 1234) and checks as the peer's lua/tiles.lua.
-- usage: wrk ... -s fm_tiles.lua URL -- <zoom> <layer>     (env PEER_LUA, FM_TOKEN)
dofile(os.getenv("PEER_LUA") .. "/common.lua")
expect_ct = "image/png"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("FM_TOKEN")
local function tx(lon, z) return math.floor((lon + 180) / 360 * 2 ^ z) end
local function ty(lat, z)
  local r = math.rad(lat)
  return math.floor((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * 2 ^ z)
end
function init(args)
  local z = tonumber(args[1] or "12")
  local layer = args[2] or "all"
  local paths = {}
  for x = tx(35.5, z), tx(36.5, z) do
    for y = ty(33.5, z), ty(32.5, z) do
      table.insert(paths, string.format("/tiles/%s/%d/%d/%d.png", layer, z, x, y))
    end
  end
  shuffle(paths, 1234)
  set_paths(paths)
end
response = check_response
