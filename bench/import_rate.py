#!/usr/bin/env python3
"""Import rate (issue 13): a province's lists as a committee publishes them — 600 candidates and
2,000 meetings (plus the regions and venues they name) — through POST /api/v1/imports/{kind},
timed per file. Prints one line per kind: `kind rows seconds rows_per_second`.

Usage: import_rate.py --api http://127.0.0.1:18080/api/v1 --token ADMIN
"""
import argparse
import csv
import io
import json
import time
import urllib.request
from datetime import datetime, timedelta, timezone

UNITS = 120
CANDIDATES = 600
VENUES = 200
MEETINGS = 2000


def call(api, token, method, path, body=None, content_type="application/json"):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(api + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Content-Type", content_type)
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read() or b"null")


def sheet(header, rows):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def timed_import(api, token, kind, body, query=""):
    started = time.monotonic()
    answer = call(api, token, "POST", f"/imports/{kind}{query}", body, "text/csv")
    took = time.monotonic() - started
    print(f"{kind} {answer['created']} {took:.2f} {answer['created'] / took:.0f}", flush=True)
    return answer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--api", required=True)
    p.add_argument("--token", required=True)
    a = p.parse_args()
    stamp = datetime.now(timezone.utc).strftime("%H%M%S")
    province = f"Tỉnh Nhập Liệu {stamp}"
    districts = [f"Huyện {i:02d} ({stamp})" for i in range(10)]
    communes = [(d, f"Xã {d[6:8]}-{j:02d}") for d in districts for j in range(20)]
    timed_import(a.api, a.token, "regions", sheet(
        ["Tên", "Cấp", "Đơn vị cấp trên"],
        [[province, "Tỉnh", ""]]
        + [[d, "Huyện", province] for d in districts]
        + [[c, "Xã", d] for d, c in communes]))
    timed_import(a.api, a.token, "venues", sheet(
        ["Tên địa điểm", "Địa chỉ", "Sức chứa", "Loại", "Xã/Phường", "Huyện"],
        [[f"Nhà văn hóa {c}", f"Trung tâm {c}, {d}", 300, "Trong nhà", c, d] for d, c in communes[:VENUES]]))
    regions = call(a.api, a.token, "GET", "/regions?level=province&limit=500")["items"]
    province_id = next(r["id"] for r in regions if r["name"] == province)
    now = datetime.now(timezone.utc)
    election = call(a.api, a.token, "POST", "/elections", {
        "name": f"Bầu cử (nhập liệu {stamp})",
        "campaign_starts_at": (now - timedelta(days=2)).isoformat(),
        "polling_starts_at": (now + timedelta(days=60)).isoformat()})["id"]
    for u in range(UNITS):
        call(a.api, a.token, "POST", f"/elections/{election}/electoral-units", {
            "name": f"Đơn vị bầu cử số {u + 1}", "body": "province_council",
            "region_id": province_id, "seats": 5})
    timed_import(a.api, a.token, "candidates", sheet(
        ["Họ và tên", "Email", "Đơn vị bầu cử"],
        [[f"Ứng cử viên {i:03d}", f"ucv{i:03d}.{stamp}@example.vn", f"Đơn vị bầu cử số {i % UNITS + 1}"]
         for i in range(CANDIDATES)]), f"?election_id={election}")
    # Each unit meets in its own 3-hour slot per day, at a venue of its own: no clashes.
    rows = []
    for m in range(MEETINGS):
        unit = m % UNITS
        day = m // UNITS
        start = (now + timedelta(days=day + 1)).replace(hour=0, minute=0, second=0, microsecond=0) \
            + timedelta(hours=1 + (unit % 6) * 3)
        venue = communes[unit % VENUES][1]
        rows.append([f"Tiếp xúc cử tri {m}", f"Đơn vị bầu cử số {unit + 1}", "Trực tiếp",
                     start.isoformat(), (start + timedelta(hours=2)).isoformat(),
                     f"Nhà văn hóa {venue}", 100])
    timed_import(a.api, a.token, "meetings", sheet(
        ["Tên hội nghị", "Đơn vị bầu cử", "Hình thức", "Bắt đầu", "Kết thúc", "Địa điểm", "Số người dự kiến"],
        rows), f"?election_id={election}")


if __name__ == "__main__":
    main()
