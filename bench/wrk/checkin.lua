-- POST /api/v1/meetings/{id}/checkins {"site_id": …, "count": 1}, round-robin over the
-- "<meeting_id> <site_id>" lines of a file (each thread starts at its own offset).
-- wrk -t2 -c16 -d15s -s bench/wrk/checkin.lua http://127.0.0.1:18080 -- TOKEN TARGETS_FILE
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
require "common"

local targets, i

function init(args)
  common_init(args[1])
  targets = read_pairs(args[2])
  i = tid * 37
end

function request()
  i = i + 1
  local t = targets[(i % #targets) + 1]
  return wrk.format("POST", "/api/v1/meetings/" .. t[1] .. "/checkins", nil,
    '{"site_id":"' .. t[2] .. '","count":1}')
end
