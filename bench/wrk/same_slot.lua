-- Every request asks for the SAME unit (candidate), venue and time: exactly one may
-- succeed (201); all others must be 409 candidate_conflict / venue_conflict, never 500.
-- wrk -t2 -c16 -d3s -s bench/wrk/same_slot.lua http://127.0.0.1:18080 -- TOKEN PAIR_FILE ELECTION_ID START_EPOCH
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
require "common"

local body

function init(args)
  common_init(args[1])
  local p = read_pairs(args[2])[1]
  local s = tonumber(args[4])
  body = '{"election_id":"' .. args[3] .. '","electoral_unit_ids":["' .. p[1] ..
    '"],"format":"in_person","starts_at":"' .. os.date("!%Y-%m-%dT%H:%M:%SZ", s) ..
    '","ends_at":"' .. os.date("!%Y-%m-%dT%H:%M:%SZ", s + 3600) ..
    '","sites":[{"venue_id":"' .. p[2] .. '","expected_attendees":10}]}'
end

function request()
  return wrk.format("POST", "/api/v1/meetings", nil, body)
end
