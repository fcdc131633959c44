-- POST /api/v1/meetings: valid, non-conflicting in-person meetings. Thread t of N books the
-- unit+venue pairs p with p % N == t, cycling through them; each full cycle moves to the
-- next 2-hour slot (1-hour meetings: the 30-minute travel buffer never overlaps), so no two
-- requests share a candidate or a venue at the same time.
-- wrk -t2 -c16 -d15s -s bench/wrk/create_meeting.lua http://127.0.0.1:18080 -- \
--     TOKEN PAIRS_FILE ELECTION_ID BASE_EPOCH FIRST_SLOT NTHREADS
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
require "common"

local pairs_, election, base, first_slot, nthreads, mine, c

function init(args)
  common_init(args[1])
  local all = read_pairs(args[2])
  election = args[3]
  base = tonumber(args[4])
  first_slot = tonumber(args[5])
  nthreads = tonumber(args[6])
  mine = {}
  for p = 1, #all do
    if (p - 1) % nthreads == tid then table.insert(mine, all[p]) end
  end
  c = 0
end

local function iso(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end

function request()
  local pair = mine[(c % #mine) + 1]
  local slot = first_slot + math.floor(c / #mine)
  c = c + 1
  local starts = base + slot * 7200
  local body = '{"election_id":"' .. election .. '","electoral_unit_ids":["' .. pair[1] ..
    '"],"format":"in_person","title":"Hội nghị tiếp xúc cử tri (bench)","starts_at":"' .. iso(starts) ..
    '","ends_at":"' .. iso(starts + 3600) .. '","sites":[{"venue_id":"' .. pair[2] ..
    '","expected_attendees":50}]}'
  return wrk.format("POST", "/api/v1/meetings", nil, body)
end
