-- One fusionmap tile repeatedly, wrk's cheapest path (like the peer's lua/static.lua).
-- usage: wrk ... -s fm_fixed.lua URL/tiles/all/12/2453/1651.png   (env PEER_LUA, FM_TOKEN)
dofile(os.getenv("PEER_LUA") .. "/common.lua")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("FM_TOKEN")
request = nil
