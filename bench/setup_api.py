#!/usr/bin/env python3
"""Creates the benchmark data set of bench/run.sh through the HTTP API.

    python3 bench/setup_api.py --api http://127.0.0.1:18080/api/v1 --token TOKEN --out DIR

Makes, in one province:
  * an election whose campaign is in progress (started 10 days ago, polling in 20 days);
  * CHECKIN_MEETINGS (100) in-person meetings happening now (started 10 minutes ago, end in
    3 hours), each with its own commune-council unit, candidate and venue (capacity 100000);
  * one small meeting happening now at a venue of capacity 50 (the exact-capacity test);
  * CREATE_PAIRS (400) more units, each with one candidate and its own venue, for the
    meeting-creation benchmark (each POST books one unit+venue in a slot of its own);
  * a unit with a candidate and venue for the "same slot, many clients" conflict test;
  * one online meeting happening now with CHECKIN_MEETINGS (100) connection-point sites
    (capacity 100000 each): constant-rate check-ins with oha, whose URL is fixed but whose
    bodies (-Z, one per line) spread the check-ins over 100 site rows.

With --only-online, only the province, its election and the online meeting (for check-ins
next to another data set, e.g. the national one: writes cp_meeting.txt, cp_bodies.txt and
ids.env).

Writes into DIR:
  checkin_targets.txt   "<meeting_id> <site_id>" per line (the 100 meetings)
  small_target.txt      "<meeting_id> <site_id>" of the capacity-50 meeting
  cp_meeting.txt        the online meeting with 100 connection points
  cp_bodies.txt         one check-in body per line, one per connection point
  create_pairs.txt      "<unit_id> <venue_id>" per line (400)
  conflict_pair.txt     "<unit_id> <venue_id>" for the conflict test
  ids.env               shell variables: ELECTION_ID, PROVINCE_ID, CAMPAIGN_BASE_EPOCH, ...
"""
import argparse
import concurrent.futures as cf
import datetime as dt
import json
import os
import sys
import urllib.error
import urllib.request

CHECKIN_MEETINGS = 100
CREATE_PAIRS = 400
COMMUNES = 20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--api", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tag", default="bench")
    ap.add_argument("--only-online", action="store_true")
    args = ap.parse_args()
    api, tag = args.api.rstrip("/"), args.tag
    headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"}

    def post(path, body):
        req = urllib.request.Request(api + path, json.dumps(body).encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            sys.exit(f"POST {path} -> {e.code}: {e.read().decode()[:500]}\nbody: {body}")

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    iso = lambda t: t.isoformat().replace("+00:00", "Z")

    province = post("/regions", {"name": f"Tỉnh {tag}", "level": "province", "code": f"B{os.getpid() % 100000}",
                                 "contact_email": "mttq@bench.example.vn"})
    district = post("/regions", {"name": "Huyện Bench", "level": "district", "parent_id": province["id"]})
    communes = [post("/regions", {"name": f"Xã {i}", "level": "commune", "parent_id": district["id"]})
                for i in range(COMMUNES)]
    election = post("/elections", {
        "name": f"Bầu cử {tag}",
        "campaign_starts_at": iso(now - dt.timedelta(days=10)),
        "polling_starts_at": iso(now + dt.timedelta(days=20)),
        "timezone": "Asia/Ho_Chi_Minh",
    })
    eid = election["id"]

    def unit_candidate_venue(i, kind, capacity=100000):
        commune = communes[i % COMMUNES]["id"]
        unit = post(f"/elections/{eid}/electoral-units",
                    {"name": f"Đơn vị {kind} {i}", "body": "commune_council", "region_id": commune, "seats": 3})
        cand = post(f"/electoral-units/{unit['id']}/candidates",
                    {"full_name": f"Ứng cử viên {kind} {i}", "email": f"{kind}{i}@bench.example.vn"})
        venue = post("/venues", {"name": f"Nhà văn hóa {kind} {i}", "region_id": commune,
                                 "address": f"Thôn {i}, xã {i % COMMUNES}", "capacity": capacity,
                                 "setting": "indoor"})
        return unit["id"], cand["id"], venue["id"]

    def connection_points():
        """One online meeting happening now with CHECKIN_MEETINGS connection-point sites."""
        unit = post(f"/elections/{eid}/electoral-units",
                    {"name": "Đơn vị trực tuyến", "body": "province_council", "region_id": district["id"], "seats": 3})
        post(f"/electoral-units/{unit['id']}/candidates",
             {"full_name": "Ứng cử viên trực tuyến", "email": "online@bench.example.vn"})
        venues = [post("/venues", {"name": f"Điểm cầu {i}", "region_id": communes[i % COMMUNES]["id"],
                                   "address": f"Điểm cầu {i}", "capacity": 100000, "setting": "indoor"})["id"]
                  for i in range(CHECKIN_MEETINGS)]
        m = post("/meetings", {
            "election_id": eid, "electoral_unit_ids": [unit["id"]], "format": "online",
            "starts_at": iso(now - dt.timedelta(minutes=10)), "ends_at": iso(now + dt.timedelta(hours=3)),
            "online": {"platform": "Zoom", "join_url": "https://meet.example.vn/bench",
                       "max_participants": 1000000, "expected_attendees": 100},
            "sites": [{"venue_id": v, "expected_attendees": 100} for v in venues],
        })
        return m["id"], [s["id"] for s in m["sites"]]

    def meeting_now(unit_id, venue_id, expected=100):
        m = post("/meetings", {
            "election_id": eid, "electoral_unit_ids": [unit_id], "format": "in_person",
            "starts_at": iso(now - dt.timedelta(minutes=10)), "ends_at": iso(now + dt.timedelta(hours=3)),
            "sites": [{"venue_id": venue_id, "expected_attendees": expected}],
        })
        return m["id"], m["sites"][0]["id"]

    os.makedirs(args.out, exist_ok=True)
    if args.only_online:
        cp_meeting, cp_sites = connection_points()
        write_online(args.out, cp_meeting, cp_sites)
        with open(os.path.join(args.out, "ids.env"), "w") as f:
            f.write(f"ELECTION_ID={eid}\nPROVINCE_ID={province['id']}\n")
        print(f"created the online meeting {cp_meeting} with {len(cp_sites)} connection points")
        return

    with cf.ThreadPoolExecutor(4) as pool:
        checkin = list(pool.map(lambda i: unit_candidate_venue(i, "ci"), range(CHECKIN_MEETINGS)))
        targets = list(pool.map(lambda x: meeting_now(x[0], x[2]), checkin))
        small_unit, _, small_venue = unit_candidate_venue(0, "small", capacity=50)
        small = meeting_now(small_unit, small_venue, expected=50)
        pairs = list(pool.map(lambda i: unit_candidate_venue(i, "cr"), range(CREATE_PAIRS)))
        conflict = unit_candidate_venue(0, "cf")
        cp_meeting, cp_sites = connection_points()

    with open(os.path.join(args.out, "checkin_targets.txt"), "w") as f:
        f.writelines(f"{m} {s}\n" for m, s in targets)
    write_online(args.out, cp_meeting, cp_sites)
    with open(os.path.join(args.out, "small_target.txt"), "w") as f:
        f.write(f"{small[0]} {small[1]}\n")
    with open(os.path.join(args.out, "create_pairs.txt"), "w") as f:
        f.writelines(f"{u} {v}\n" for u, _, v in pairs)
    with open(os.path.join(args.out, "conflict_pair.txt"), "w") as f:
        f.write(f"{conflict[0]} {conflict[2]}\n")
    # Meeting-creation slots start at the next full hour + 1 h (inside the campaign window,
    # which ends 19 days from now: 24 h before polling).
    base = (now + dt.timedelta(hours=2)).replace(minute=0, second=0)
    with open(os.path.join(args.out, "ids.env"), "w") as f:
        f.write(f"ELECTION_ID={eid}\nPROVINCE_ID={province['id']}\n")
        f.write(f"CREATE_BASE_EPOCH={int(base.timestamp())}\n")
        f.write(f"CAMPAIGN_END_EPOCH={int((now + dt.timedelta(days=19)).timestamp())}\n")
        f.write(f"GET_MEETING_ID={targets[0][0]}\n")
    print(f"created {len(targets)} live meetings, {len(pairs)} creation pairs in election {eid}")


def write_online(out, meeting, sites):
    with open(os.path.join(out, "cp_meeting.txt"), "w") as f:
        f.write(f"{meeting}\n")
    with open(os.path.join(out, "cp_bodies.txt"), "w") as f:
        f.writelines(f'{{"site_id":"{s}","count":1}}\n' for s in sites)


if __name__ == "__main__":
    main()
