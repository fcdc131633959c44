//! Change notices to candidates (rule 9) and notices to organizing committees (rules 8, 13),
//! each driven through the API and read as a candidate's or a committee's mail client would.
use chrono::{DateTime, Duration as Span, Utc};
use icalendar::{Component, EventStatus};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    calendar_property, event_property, events, insert_meeting, mails_to, morning, outbox,
    parse_mail, scene, scene_mailing, sql, utc, uuid_of, MeetingRow, Received, Scene,
};
use crate::helpers::app::enqueue_new_meetings;
use crate::helpers::mail::Mail;
use crate::helpers::{MemoryMail, Role, TestApp};

const HCM: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

/// The line of a body that starts (after its indent) with `label: `, its value.
fn row<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix(&format!("{label}: ")))
        .unwrap_or_else(|| panic!("no {label:?} in {text}"))
}

fn vi_day(at: DateTime<Utc>) -> String {
    at.with_timezone(&HCM).format("%d/%m/%Y").to_string()
}

/// What the tests check of a notice's calendar: METHOD, and per event UID, SEQUENCE, STATUS,
/// DTSTART, ORGANIZER and ATTENDEE with its CN.
#[derive(Debug, PartialEq)]
struct Itip {
    method: String,
    uid: String,
    sequence: u32,
    status: EventStatus,
    start: Option<icalendar::DatePerhapsTime>,
    organizer: String,
    attendee: String,
    attendee_name: Option<String>,
}

fn itip(mail: &Received) -> Itip {
    let calendar = mail.calendar();
    let method = calendar_property(&calendar, "METHOD").expect("METHOD");
    assert_eq!(
        mail.attachments[0].1,
        format!("text/calendar; charset=utf-8; method={method}"),
        "the attachment names the calendar's method"
    );
    let events: Vec<_> = calendar.events().collect();
    assert_eq!(events.len(), 1);
    let event = events[0];
    let attendees = event.get_attendees();
    assert_eq!(attendees.len(), 1, "the candidate is the one attendee");
    Itip {
        method,
        uid: event.get_uid().expect("UID").to_owned(),
        sequence: event.get_sequence().expect("SEQUENCE"),
        status: event.get_status().expect("STATUS"),
        start: event.get_start(),
        organizer: event_property(event, "ORGANIZER").expect("ORGANIZER").0,
        attendee: attendees[0].cal_address.clone(),
        attendee_name: attendees[0].cn.clone(),
    }
}

async fn reschedule(app: &TestApp, id: Uuid, patch: Value) -> Value {
    let current = app.get(&format!("/meetings/{id}"), &app.admin).await;
    let etag = current.headers["etag"].to_str().expect("etag").to_owned();
    app.request(
        reqwest::Method::PATCH,
        &format!("/meetings/{id}"),
        Some(&app.admin),
        Some(patch),
        &[("If-Match", &etag)],
    )
    .await
    .ok(200)
    .clone()
}

#[actix_web::test]
async fn a_meeting_created_rescheduled_and_cancelled_updates_one_calendar_event() {
    let inbox = MemoryMail::new();
    let s = scene_mailing(&inbox, |_| {}).await;
    let minh = s.candidate("Đỗ Văn Minh", "minh@example.vn", "vi").await;
    let hoa = s.candidate("Ngô Thị Hoa", "hoa@example.vn", "en").await;
    let hall = s
        .app
        .venue(s.tree.commune, "Nhà văn hóa thôn 4", 150, None, "indoor")
        .await;
    let first_day = morning(9);
    let meeting = s
        .post_meeting("Hội nghị thôn 4", first_day, &[minh, hoa])
        .await;
    let id = uuid_of(&meeting["id"]);
    let uid = format!("{id}@voter-meetings");
    inbox.wait_for(2).await;

    let created = &mails_to(&inbox, "minh@example.vn")[0];
    assert_eq!(
        created.subject,
        format!(
            "Hội nghị tiếp xúc cử tri mới: Hội nghị thôn 4, {}",
            vi_day(first_day)
        )
    );
    assert_eq!(
        created.text.lines().next(),
        Some("Ông/bà có một hội nghị tiếp xúc cử tri mới: “Hội nghị thôn 4”.")
    );
    let new = itip(created);
    assert_eq!(
        new,
        Itip {
            method: "REQUEST".to_owned(),
            uid: uid.clone(),
            sequence: 1,
            status: EventStatus::Confirmed,
            start: utc(first_day),
            organizer: "mailto:no-reply@voter-meetings.local".to_owned(),
            attendee: "mailto:minh@example.vn".to_owned(),
            attendee_name: Some("Đỗ Văn Minh".to_owned()),
        }
    );
    let created_en = &mails_to(&inbox, "hoa@example.vn")[0];
    assert!(created_en
        .subject
        .starts_with("New voter-contact meeting: Hội nghị thôn 4, "));
    assert_eq!(itip(created_en).attendee, "mailto:hoa@example.vn");

    // Two days later, in the afternoon, at another hall.
    let moved_to = morning(11) + Span::hours(6);
    reschedule(
        &s.app,
        id,
        json!({
            "starts_at": moved_to.to_rfc3339(),
            "ends_at": (moved_to + Span::hours(2)).to_rfc3339(),
            "sites": [{"venue_id": hall, "expected_attendees": 80}],
        }),
    )
    .await;
    inbox.wait_for(4).await;
    let moved = &mails_to(&inbox, "minh@example.vn")[1];
    assert_eq!(
        moved.subject,
        format!(
            "Đổi lịch hội nghị tiếp xúc cử tri: Hội nghị thôn 4, {}",
            vi_day(moved_to)
        )
    );
    assert_eq!(
        moved.text.lines().next(),
        Some("Hội nghị tiếp xúc cử tri “Hội nghị thôn 4” của ông/bà đã được đổi lịch.")
    );
    let old_time = row(&moved.text, "Thời gian cũ");
    assert!(old_time.starts_with("08:00–11:00, "), "{old_time}");
    assert!(old_time.ends_with(&format!("{} (GMT+7)", vi_day(first_day))));
    let new_time = row(&moved.text, "Thời gian mới");
    assert!(new_time.starts_with("14:00–16:00, "), "{new_time}");
    assert!(new_time.ends_with(&format!("{} (GMT+7)", vi_day(moved_to))));
    assert_eq!(
        row(&moved.text, "Địa điểm cũ"),
        "Hội trường UBND xã Kỳ Đồng, Hội trường UBND xã Kỳ Đồng, Kỳ Anh, Hà Tĩnh"
    );
    assert_eq!(
        row(&moved.text, "Địa điểm mới"),
        "Nhà văn hóa thôn 4, Nhà văn hóa thôn 4, Kỳ Anh, Hà Tĩnh"
    );
    let rescheduled = itip(moved);
    assert_eq!(rescheduled.method, "REQUEST");
    assert_eq!(rescheduled.uid, uid);
    assert!(rescheduled.sequence > new.sequence);
    assert_eq!(rescheduled.start, utc(moved_to));
    let moved_en = &mails_to(&inbox, "hoa@example.vn")[1];
    assert!(moved_en
        .subject
        .starts_with("Voter-contact meeting rescheduled: Hội nghị thôn 4, "));
    assert!(row(&moved_en.text, "Previous time").contains("08:00–11:00"));
    assert!(row(&moved_en.text, "New time").contains("14:00–16:00"));

    s.app
        .post(
            &format!("/meetings/{id}/cancel"),
            &s.app.admin,
            json!({"reason": "Mưa bão, đường ngập"}),
        )
        .await
        .ok(200);
    inbox.wait_for(6).await;
    let cancelled = &mails_to(&inbox, "minh@example.vn")[2];
    assert_eq!(
        cancelled.subject,
        format!(
            "Hủy hội nghị tiếp xúc cử tri: Hội nghị thôn 4, {}",
            vi_day(moved_to)
        )
    );
    assert_eq!(
        cancelled.text.lines().next(),
        Some("Hội nghị tiếp xúc cử tri “Hội nghị thôn 4” của ông/bà đã bị hủy.")
    );
    assert_eq!(row(&cancelled.text, "Lý do hủy"), "Mưa bão, đường ngập");
    assert!(cancelled.html.contains("Mưa bão, đường ngập"));
    let cancel = itip(cancelled);
    assert_eq!(cancel.method, "CANCEL");
    assert_eq!(cancel.uid, uid);
    assert_eq!(cancel.status, EventStatus::Cancelled);
    assert!(cancel.sequence > rescheduled.sequence);
    assert_eq!(cancel.attendee, "mailto:minh@example.vn");
    let cancelled_en = &mails_to(&inbox, "hoa@example.vn")[2];
    assert!(cancelled_en
        .subject
        .starts_with("Voter-contact meeting cancelled: "));
    assert_eq!(row(&cancelled_en.text, "Reason"), "Mưa bão, đường ngập");

    let feed = s
        .app
        .get(&format!("/candidates/{minh}/schedule.ics"), &s.app.admin)
        .await;
    let events = events(&feed.text);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].get_status(), Some(EventStatus::Cancelled));
    assert_eq!(events[0].get_sequence(), Some(cancel.sequence));
    assert_eq!(
        inbox.settled(&s.app).await.len(),
        6,
        "one notice per candidate and change, none late"
    );
}

#[actix_web::test]
async fn an_edit_tells_the_candidates_it_adds_or_removes_and_a_title_change_tells_nobody() {
    let inbox = MemoryMail::new();
    let s = scene_mailing(&inbox, |_| {}).await;
    let minh = s.candidate("Đỗ Văn Minh", "minh@example.vn", "vi").await;
    let hoa = s.candidate("Ngô Thị Hoa", "hoa@example.vn", "vi").await;
    let meeting = s.post_meeting("Hội nghị thôn 5", morning(6), &[minh]).await;
    let id = uuid_of(&meeting["id"]);
    inbox.wait_for(1).await;

    reschedule(&s.app, id, json!({"candidate_ids": [hoa]})).await;
    inbox.wait_for(3).await;
    let dropped = &mails_to(&inbox, "minh@example.vn")[1];
    assert!(dropped
        .subject
        .starts_with("Hủy hội nghị tiếp xúc cử tri: "));
    assert_eq!(
        dropped.text.lines().next(),
        Some("Ông/bà không còn tham dự hội nghị tiếp xúc cử tri “Hội nghị thôn 5”.")
    );
    assert_eq!(itip(dropped).method, "CANCEL");
    let added = &mails_to(&inbox, "hoa@example.vn")[0];
    assert!(added.subject.starts_with("Hội nghị tiếp xúc cử tri mới: "));
    assert_eq!(itip(added).method, "REQUEST");

    reschedule(&s.app, id, json!({"title": "Hội nghị thôn 5 (mở rộng)"})).await;
    assert_eq!(
        outbox(&s.app, "").await.len(),
        3,
        "a new title moves nobody's calendar"
    );
}

#[actix_web::test]
async fn changes_to_several_meetings_in_one_request_make_one_notice_per_candidate() {
    let inbox = MemoryMail::new();
    let s = scene_mailing(&inbox, |_| {}).await;
    let minh = s.candidate("Đỗ Văn Minh", "minh@example.vn", "vi").await;
    let hoa = s.candidate("Ngô Thị Hoa", "hoa@example.vn", "en").await;
    let gone = s.candidate("Mai Văn Đi", "di@example.vn", "vi").await;
    let first = s.meeting("Hội nghị thứ nhất", morning(3), &[minh, hoa, gone]);
    let second = s.meeting("Hội nghị thứ hai", morning(4), &[minh]);
    sql(
        &s.app,
        &format!("UPDATE candidates SET status = 'withdrawn' WHERE id = '{gone}'"),
    );

    let queued =
        enqueue_new_meetings(&mut s.app.conn(), &s.app.settings, &[first, second]).expect("queued");
    assert_eq!(
        queued, 2,
        "one each for Minh and Hoa; none for the withdrawn"
    );

    inbox.wait_for(2).await;
    let minh_mail = &mails_to(&inbox, "minh@example.vn")[0];
    assert_eq!(
        minh_mail.subject,
        "Thay đổi lịch tiếp xúc cử tri: 2 hội nghị"
    );
    assert_eq!(
        minh_mail.text.lines().next(),
        Some("Lịch tiếp xúc cử tri của ông/bà có 2 thay đổi.")
    );
    assert!(minh_mail.text.contains("1. [MỚI] Hội nghị thứ nhất"));
    assert!(minh_mail.text.contains("2. [MỚI] Hội nghị thứ hai"));
    let calendar = minh_mail.calendar();
    assert_eq!(
        calendar_property(&calendar, "METHOD").as_deref(),
        Some("REQUEST")
    );
    let uids: Vec<String> = calendar
        .events()
        .map(|e| e.get_uid().expect("uid").to_owned())
        .collect();
    assert_eq!(
        uids,
        vec![
            format!("{first}@voter-meetings"),
            format!("{second}@voter-meetings")
        ]
    );
    let hoa_mail = &mails_to(&inbox, "hoa@example.vn")[0];
    assert!(hoa_mail
        .subject
        .starts_with("New voter-contact meeting: Hội nghị thứ nhất, "));
    assert!(mails_to(&inbox, "di@example.vn").is_empty());
}

/// The one committee notice to `address`, once it arrived.
async fn committee_mail(inbox: &impl Mail, address: &str, total: usize) -> Received {
    inbox.wait_for(total).await;
    let mut mails = mails_to(inbox, address);
    assert_eq!(mails.len(), 1, "one notice to {address}");
    mails.remove(0)
}

/// Neither the ids of the rule nor of the venues appear; a meeting's id only in its link.
fn assert_no_ids(mail: &Received, ids: &[Uuid], link_ids: &[Uuid]) {
    for body in [&mail.text, &mail.html] {
        for id in ids {
            assert!(!body.contains(&id.to_string()), "{id} in {body}");
        }
        for id in link_ids {
            let bare = body.replace(&format!("https://vm.example.vn/meetings/{id}"), "");
            assert!(
                !bare.contains(&id.to_string()),
                "{id} outside its link in {body}"
            );
        }
        assert!(!body.contains("venue "), "English problem text in {body}");
        assert!(
            !body.contains("health rule"),
            "English problem text in {body}"
        );
    }
}

async fn planned(s: &Scene, venue: Uuid, title: &str, day: i64, expected: i32) -> Uuid {
    let starts_at = morning(day);
    let answer = s
        .app
        .post(
            "/meetings",
            &s.app.admin,
            json!({
                "election_id": s.election,
                "electoral_unit_ids": [s.unit],
                "format": "in_person",
                "title": title,
                "starts_at": starts_at.to_rfc3339(),
                "ends_at": (starts_at + Span::hours(3)).to_rfc3339(),
                "sites": [{"venue_id": venue, "expected_attendees": expected}],
            }),
        )
        .await;
    answer.id()
}

#[actix_web::test]
async fn a_new_health_rule_tells_each_nearest_committee_in_words_what_to_do() {
    let inbox = MemoryMail::new();
    let s = scene_mailing(&inbox, |settings| {
        settings.public_url = Some("https://vm.example.vn".to_owned());
    })
    .await;
    s.candidate("Đỗ Văn Minh", "minh@example.vn", "vi").await;
    // The second commune has no address of its own: its district's committee is told.
    let quiet = s
        .app
        .region("Xã Kỳ Trinh", "commune", Some(s.tree.district))
        .await;
    sql(
        &s.app,
        &format!("UPDATE regions SET contact_email = NULL WHERE id = '{quiet}'"),
    );
    let far_hall = s
        .app
        .venue(quiet, "Nhà văn hóa thôn 5", 100, None, "indoor")
        .await;
    let here = planned(&s, s.venue, "Hội nghị xã Kỳ Đồng", 5, 80).await;
    let there = planned(&s, far_hall, "Hội nghị xã Kỳ Trinh", 6, 60).await;
    let small = planned(&s, s.venue, "Hội nghị nhỏ", 8, 20).await;
    let notices_to_candidates = outbox(&s.app, "").await.len();

    let rule = s
        .app
        .post(
            "/health-rules",
            &s.app.admin,
            json!({"region_id": s.tree.district,
                   "effective_from": (Utc::now() - Span::days(1)).to_rfc3339(),
                   "max_attendees": 30, "reference": "Công điện 01/CĐ-UBND"}),
        )
        .await;
    let rule_id = uuid_of(&rule.ok(201)["rule"]["id"]);
    assert_eq!(
        rule.body["affected_meetings"].as_array().map(Vec::len),
        Some(2)
    );

    let total = notices_to_candidates + 2;
    let commune = committee_mail(&inbox, "commune@mttq.example.vn", total).await;
    let district = committee_mail(&inbox, "district@mttq.example.vn", total).await;
    assert_eq!(
        commune.subject,
        "Cần xem lại 1 hội nghị tiếp xúc cử tri – Bầu cử đại biểu Quốc hội khóa XVI và HĐND các cấp"
    );
    let text = &commune.text;
    assert!(text.starts_with("Kính gửi Ban tổ chức,"), "{text}");
    assert!(text.contains(
        "Sau khi quy định phòng, chống dịch “Công điện 01/CĐ-UBND” được ban hành hoặc sửa đổi"
    ));
    assert!(text.contains("1. Hội nghị xã Kỳ Đồng"));
    let when = row(text, "Thời gian");
    assert!(when.starts_with("08:00–11:00, "), "{when}");
    assert!(when.ends_with(&format!("{} (GMT+7)", vi_day(morning(5)))));
    assert_eq!(row(text, "Địa điểm"), "Hội trường UBND xã Kỳ Đồng");
    assert_eq!(
        row(text, "Vấn đề"),
        "Hội trường UBND xã Kỳ Đồng dự kiến đón 80 người, nhưng theo “Công điện 01/CĐ-UBND” chỉ được tối đa 30 người."
    );
    assert_eq!(
        row(text, "Đề nghị"),
        "Giảm số người dự kiến xuống không quá 30, chọn địa điểm khác, hoặc chuyển sang hình thức trực tuyến."
    );
    assert_eq!(
        row(text, "Xem và điều chỉnh hội nghị"),
        format!("https://vm.example.vn/meetings/{here}")
    );
    assert!(commune.html.contains(&format!(
        "<a href=\"https://vm.example.vn/meetings/{here}\">"
    )));
    assert!(!text.contains("Hội nghị xã Kỳ Trinh") && !text.contains("Hội nghị nhỏ"));
    assert!(commune.attachments.is_empty());
    assert_no_ids(&commune, &[rule_id, s.venue], &[here]);

    assert!(district.text.contains("1. Hội nghị xã Kỳ Trinh"));
    assert_eq!(row(&district.text, "Địa điểm"), "Nhà văn hóa thôn 5");
    assert!(row(&district.text, "Vấn đề").contains("dự kiến đón 60 người"));
    assert_no_ids(&district, &[rule_id, far_hall], &[there]);

    // A ban with no reference is named by who issued it and when; the meetings already
    // flagged are not told twice.
    let ban_from = Utc::now() - Span::days(1);
    s.app
        .post(
            "/health-rules",
            &s.app.admin,
            json!({"region_id": s.tree.commune, "effective_from": ban_from.to_rfc3339(),
                   "in_person_allowed": false}),
        )
        .await
        .ok(201);
    inbox.wait_for(total + 1).await;
    let banned = mails_to(&inbox, "commune@mttq.example.vn").remove(1);
    assert!(banned.text.contains(
        "Các hội nghị tiếp xúc cử tri đã lên kế hoạch dưới đây không còn tổ chức được như dự kiến."
    ));
    assert!(banned.text.contains("1. Hội nghị nhỏ"));
    assert!(!banned.text.contains("Hội nghị xã Kỳ Đồng"));
    assert_eq!(
        row(&banned.text, "Vấn đề"),
        format!(
            "Quy định phòng, chống dịch của Xã Kỳ Đồng áp dụng từ ngày {} không cho phép tụ tập trực tiếp tại Hội trường UBND xã Kỳ Đồng trong thời gian hội nghị.",
            vi_day(ban_from)
        )
    );
    assert_eq!(
        row(&banned.text, "Đề nghị"),
        "Chuyển hội nghị sang hình thức trực tuyến hoặc dời sang thời gian khác."
    );
    assert_no_ids(&banned, &[s.venue], &[small]);
}

#[actix_web::test]
async fn a_meeting_whose_last_candidate_withdrew_is_flagged_and_its_committee_told() {
    let inbox = MemoryMail::new();
    let s = scene_mailing(&inbox, |_| {}).await;
    let minh = s.candidate("Đỗ Văn Minh", "minh@example.vn", "vi").await;
    let hoa = s.candidate("Ngô Thị Hoa", "hoa@example.vn", "vi").await;
    let alone = s.post_meeting("Hội nghị thôn 6", morning(7), &[minh]).await;
    let shared = s
        .post_meeting("Hội nghị thôn 7", morning(9), &[minh, hoa])
        .await;
    // A province where nobody has an address: its meeting is flagged, nobody can be told.
    let orphan_province = s.app.region("Tỉnh Quảng Bình", "province", None).await;
    sql(
        &s.app,
        &format!("UPDATE regions SET contact_email = NULL WHERE id = '{orphan_province}'"),
    );
    let orphan_unit = s
        .app
        .unit(
            s.election,
            orphan_province,
            "province_council",
            "Đơn vị bầu cử số 9",
        )
        .await;
    let lonely = s
        .candidate_in(orphan_unit, "Phan Văn Lẻ", "le@example.vn", "vi")
        .await;
    let orphan = insert_meeting(
        &s.app,
        &MeetingRow {
            election: s.election,
            unit: orphan_unit,
            venue: None,
            title: "Hội nghị trực tuyến",
            starts_at: morning(8),
            ends_at: morning(8) + Span::hours(2),
            candidates: &[lonely],
        },
    );
    inbox.wait_for(3).await;

    for candidate in [minh, lonely] {
        s.app
            .patch(
                &format!("/candidates/{candidate}"),
                &s.app.admin,
                json!({"status": "withdrawn"}),
            )
            .await
            .ok(200);
    }
    let alone_id = uuid_of(&alone["id"]);
    let flagged = s
        .app
        .get(&format!("/meetings/{alone_id}"), &s.app.admin)
        .await;
    assert_eq!(flagged.ok(200)["needs_attention"], true);
    assert_eq!(flagged.body["attention"][0]["code"], "no_active_candidate");
    let still_fine = s
        .app
        .get(
            &format!("/meetings/{}", shared["id"].as_str().expect("id")),
            &s.app.admin,
        )
        .await;
    assert_eq!(still_fine.ok(200)["needs_attention"], false);
    let orphaned = s
        .app
        .get(&format!("/meetings/{orphan}"), &s.app.admin)
        .await;
    assert_eq!(orphaned.ok(200)["needs_attention"], true);

    let mail = committee_mail(&inbox, "commune@mttq.example.vn", 4).await;
    assert_eq!(
        mail.subject,
        "Cần xem lại 1 hội nghị tiếp xúc cử tri – Bầu cử đại biểu Quốc hội khóa XVI và HĐND các cấp"
    );
    assert!(mail.text.contains("1. Hội nghị thôn 6"));
    assert_eq!(
        row(&mail.text, "Vấn đề"),
        "Hội nghị không còn ứng cử viên nào tham dự (ứng cử viên cuối cùng đã rút)."
    );
    assert_eq!(
        row(&mail.text, "Đề nghị"),
        "Bổ sung ứng cử viên cho hội nghị hoặc hủy hội nghị."
    );
    assert!(!mail.text.contains("Hội nghị thôn 7") && !mail.text.contains("Hội nghị trực tuyến"));
    // Without `public_url` there is no link, and so no id at all.
    assert_no_ids(&mail, &[alone_id, s.venue], &[]);
    let committee_notices = outbox(&s.app, "")
        .await
        .into_iter()
        .filter(|r| r["kind"] == "rule_attention")
        .count();
    assert_eq!(committee_notices, 1);
}

#[actix_web::test]
async fn a_new_address_for_a_candidate_is_announced_to_the_old_one() {
    let inbox = MemoryMail::new();
    let s = scene_mailing(&inbox, |_| {}).await;
    let lan = s.candidate("Trần Thị Lan", "lan@example.vn", "vi").await;
    s.app
        .patch(
            &format!("/candidates/{lan}"),
            &s.app.admin,
            json!({"email": "LAN@example.vn"}),
        )
        .await
        .ok(200);
    s.app
        .patch(
            &format!("/candidates/{lan}"),
            &s.app.admin,
            json!({"email": "lan.tran@example.vn"}),
        )
        .await
        .ok(200);
    let mail = parse_mail(&inbox.wait_for(1).await[0]);
    assert_eq!(mail.to_address, "LAN@example.vn");
    assert_eq!(
        mail.subject,
        "Địa chỉ email nhận lịch tiếp xúc cử tri đã thay đổi"
    );
    assert!(
        mail.text.contains("sang lan.tran@example.vn"),
        "{}",
        mail.text
    );
    assert!(mail
        .text
        .contains("Nếu ông/bà không yêu cầu thay đổi này, xin liên hệ ngay với Ban tổ chức."));
    let rows = outbox(&s.app, "").await;
    assert_eq!(rows.len(), 1, "a change of letter case is no new address");
    assert_eq!(rows[0]["kind"], "email_changed");
    assert_eq!(rows[0]["candidate_id"], lan.to_string());
    let organizer = s.app.token(Role::Organizer, Some(s.tree.commune));
    s.app
        .patch(
            &format!("/candidates/{lan}"),
            &organizer,
            json!({"email": "x@evil.example"}),
        )
        .await
        .problem(403, "forbidden");
}

#[actix_web::test]
async fn a_notice_that_cannot_be_written_is_kept_as_failed_and_the_change_goes_on() {
    let s = scene(|settings| settings.outbox.enabled = false).await;
    let minh = s.candidate("Đỗ Văn Minh", "minh@example.vn", "vi").await;
    let meeting = s.meeting("Hội nghị thứ nhất", morning(3), &[minh]);
    let mut settings = s.app.settings.clone();
    settings.mail_from = "not a mailbox".to_owned();
    let queued = enqueue_new_meetings(&mut s.app.conn(), &settings, &[meeting])
        .expect("the change is not stopped by its mail");
    assert_eq!(queued, 1);
    let rows = outbox(&s.app, "").await;
    assert_eq!(rows[0]["status"], "failed");
    assert_eq!(rows[0]["recipient"], "minh@example.vn");
    assert!(
        rows[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("cannot write: MAIL_FROM")),
        "{}",
        rows[0]
    );
}

#[actix_web::test]
async fn a_shorter_campaign_tells_the_committee_of_the_meetings_it_leaves_out() {
    let inbox = MemoryMail::new();
    let s = scene_mailing(&inbox, |_| {}).await;
    s.candidate("Đỗ Văn Minh", "minh@example.vn", "vi").await;
    let early = planned(&s, s.venue, "Hội nghị đầu đợt", 5, 50).await;
    let late = planned(&s, s.venue, "Hội nghị cuối đợt", 20, 50).await;
    inbox.wait_for(2).await;

    // Polling moves forward: the campaign now ends 24 hours before, in about 9 days.
    let polling = Utc::now() + Span::days(10);
    s.app
        .patch(
            &format!("/elections/{}", s.election),
            &s.app.admin,
            json!({"polling_starts_at": polling.to_rfc3339()}),
        )
        .await
        .ok(200);
    let mail = committee_mail(&inbox, "commune@mttq.example.vn", 3).await;
    assert!(mail.text.contains("1. Hội nghị cuối đợt"));
    assert!(!mail.text.contains("Hội nghị đầu đợt"));
    let problem = row(&mail.text, "Vấn đề");
    assert!(
        problem.starts_with(
            "Lịch bầu cử vừa được điều chỉnh: hội nghị không còn nằm trong thời gian tiếp xúc cử tri, từ "
        ),
        "{problem}"
    );
    let ends = (polling - Span::hours(24)).with_timezone(&HCM);
    assert!(
        problem.ends_with(&format!("đến {}.", ends.format("%H:%M ngày %d/%m/%Y"))),
        "{problem}"
    );
    assert_eq!(
        row(&mail.text, "Đề nghị"),
        "Dời hội nghị vào trong thời gian tiếp xúc cử tri hoặc hủy hội nghị."
    );
    assert_no_ids(&mail, &[s.venue, early, late, s.election], &[]);
}
