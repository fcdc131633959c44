-- GET /api/v1/meetings/{id}, round-robin over the meetings of a "<meeting_id> <site_id>" file.
-- wrk -t2 -c16 -d10s -s bench/wrk/get_meeting.lua http://127.0.0.1:18080 -- TOKEN TARGETS_FILE
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
  return wrk.format("GET", "/api/v1/meetings/" .. targets[(i % #targets) + 1][1])
end
