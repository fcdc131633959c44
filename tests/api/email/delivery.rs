//! Delivery under faults (rule 12, SPEC §7): an SMTP outage loses nothing and sends nothing
//! twice; workers share the outbox; one bad email never blocks the others; a dead worker's
//! emails are taken over by a live one within seconds; a failed email can be sent again.
use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};
use uuid::Uuid;

use super::{morning, outbox, outbox_until, parse_mail, queue_schedule, scene, sent, sql, uuid_of};
use crate::helpers::app::{claim_due, DeliveryWorker};
use crate::helpers::database::{base_template, TestDatabase};
use crate::helpers::mail::{Latch, Mail, Outage, SmtpSink};
use crate::helpers::{eventually, Role, TestApp};
use voter_meetings::db::outbox::{self as db_outbox, Outcome};

async fn fan_out(app: &TestApp, election: Uuid) -> usize {
    let answer = app
        .post(
            &format!("/elections/{election}/schedule-emails"),
            &app.admin,
            json!(null),
        )
        .await;
    answer.ok(202)["queued"].as_u64().expect("queued") as usize
}

/// `(status, attempts, last_error)` of every email, by recipient.
async fn states(app: &TestApp) -> HashMap<String, (String, i64, Option<String>)> {
    outbox(app, "")
        .await
        .into_iter()
        .map(|r| {
            (
                r["recipient"].as_str().expect("recipient").to_owned(),
                (
                    r["status"].as_str().expect("status").to_owned(),
                    r["attempts"].as_i64().expect("attempts"),
                    r["last_error"].as_str().map(str::to_owned),
                ),
            )
        })
        .collect()
}

fn message_ids(messages: &[Vec<u8>]) -> Vec<String> {
    messages
        .iter()
        .map(|raw| parse_mail(raw).message_id)
        .collect()
}

#[actix_web::test]
async fn one_bad_email_never_blocks_the_others() {
    let sink = SmtpSink::builder().refuses("refused@example.vn").start();
    // The app queues; a worker started once everything is queued takes it all in one batch.
    let s = scene(|settings| settings.outbox.enabled = false).await;
    for (day, (name, email)) in [
        ("Phạm Minh Tuấn", "tuan@example.vn"),
        ("Võ Thị Sáu", "sau@example.vn"),
        ("Người Bị Từ Chối", "refused@example.vn"),
        ("Đặng Văn Ngữ", "ngu@example.vn"),
    ]
    .into_iter()
    .enumerate()
    {
        let c = s.candidate(name, email, "vi").await;
        s.meeting(
            &format!("Tiếp xúc cử tri cùng {name}"),
            morning(3 + day as i64),
            &[c],
        );
    }
    assert_eq!(fan_out(&s.app, s.election).await, 4);
    // Written before the text rules: a name with a line break (that once panicked the
    // worker with "a Display implementation returned an error unexpectedly"), due first.
    let poison = Uuid::now_v7();
    sql(
        &s.app,
        &format!(
            "INSERT INTO outbox (id, province_id, kind, recipient, recipient_name, subject,
                                 body_text, body_html, next_attempt_at)
             SELECT '{poison}', province_id, 'schedule', 'evil@example.vn',
                    E'Evil\\r\\nBcc: x@y.vn', subject, body_text, body_html,
                    now() - interval '1 minute'
               FROM outbox LIMIT 1"
        ),
    );

    let mut settings = s.app.settings.clone();
    settings.smtp_url = Some(sink.url().into());
    let worker = DeliveryWorker::start(&settings);
    s.app.outbox_drained().await;
    let states = states(&s.app).await;
    for good in ["tuan@example.vn", "sau@example.vn", "ngu@example.vn"] {
        assert_eq!(states[good].0, "sent", "{good}: {:?}", states[good]);
    }
    let (status, attempts, error) = &states["refused@example.vn"];
    assert_eq!((status.as_str(), *attempts), ("failed", 1));
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("refused permanently") && e.contains("550")),
        "{error:?}"
    );
    let (status, attempts, error) = &states["evil@example.vn"];
    assert_eq!((status.as_str(), *attempts), ("failed", 1));
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("recipient name")),
        "{error:?}"
    );
    assert_eq!(
        sink.messages().len(),
        3,
        "the refused and the poison never left"
    );
    assert!(worker.is_running(), "the worker is still delivering");

    // An admin sends the refused email again: back to pending, attempts kept, audited; the
    // server still refuses it, so it fails again on its second attempt.
    let refused = uuid_of(&outbox(&s.app, "recipient=refused@example.vn").await[0]["id"]);
    let organizer = s.app.token(Role::Organizer, Some(s.tree.commune));
    let retry = format!("/outbox/{refused}/retry");
    s.app
        .post(&retry, &organizer, json!(null))
        .await
        .problem(403, "forbidden");
    let again = s.app.post(&retry, &s.app.admin, json!(null)).await;
    assert_eq!(again.ok(200)["status"], "pending");
    assert_eq!(again.body["attempts"], 1);
    let state = outbox_until(&s.app, refused, |v| v["attempts"] == 2).await;
    assert_eq!(state["status"], "failed");
    let outcomes: Vec<&Value> = state["delivery_attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| &a["outcome"])
        .collect();
    assert_eq!(outcomes, vec![&json!("failed"), &json!("failed")]);
    let audit = s
        .app
        .get(&format!("/audit?entity_id={refused}"), &s.app.admin)
        .await;
    assert_eq!(audit.ok(200)["items"][0]["action"], "retry_email");
    assert_eq!(
        audit.body["items"][0]["before"],
        json!({"status": "failed", "attempts": 1})
    );
    let delivered = uuid_of(&outbox(&s.app, "recipient=tuan@example.vn").await[0]["id"]);
    s.app
        .post(
            &format!("/outbox/{delivered}/retry"),
            &s.app.admin,
            json!(null),
        )
        .await
        .problem(409, "email_not_failed");
    s.app
        .post(
            &format!("/outbox/{}/retry", Uuid::now_v7()),
            &s.app.admin,
            json!(null),
        )
        .await
        .problem(404, "not_found");
    worker.stop().await;
}

#[actix_web::test]
async fn a_dead_workers_emails_are_taken_over_by_a_live_one_with_the_same_message_id() {
    // Takes each message and never confirms it: the first worker dies with sends unrecorded.
    let hanging = SmtpSink::builder().never_answers().start();
    let sink = SmtpSink::start();
    let s = scene(|settings| settings.outbox.enabled = false).await;
    for n in 0..20 {
        s.candidate(
            &format!("Ứng cử viên số {n}"),
            &format!("ucv{n}@example.vn"),
            "vi",
        )
        .await;
    }
    assert_eq!(fan_out(&s.app, s.election).await, 20);

    let mut first_settings = s.app.settings.clone();
    first_settings.smtp_url = Some(hanging.url().into());
    first_settings.outbox.batch_size = 10;
    let first = DeliveryWorker::start(&first_settings);
    // Eight sends in flight (the worker's concurrency) of the ten rows it claimed.
    let in_flight: HashSet<String> = eventually("eight sends in flight", || async {
        let ids = message_ids(&hanging.messages());
        if ids.len() >= 8 {
            Ok(ids.into_iter().collect())
        } else {
            Err(ids.len())
        }
    })
    .await;
    assert_eq!(in_flight.len(), 8);
    assert_eq!(
        s.app.count(
            "SELECT count(*) AS n FROM outbox WHERE status = 'pending' AND claimed_by IS NOT NULL"
        ),
        10
    );

    // A second instance is delivering when the first one is killed (no clean stop, no
    // outcome recorded, its heartbeat ends); its leases would last five minutes.
    let mut second_settings = s.app.settings.clone();
    second_settings.smtp_url = Some(sink.url().into());
    let second = DeliveryWorker::start(&second_settings);
    first.kill();
    s.app.outbox_drained().await;

    let rows = outbox(&s.app, "").await;
    assert_eq!(rows.len(), 20);
    for row in &rows {
        assert_eq!(row["status"], "sent", "{row}");
        assert_eq!(
            row["attempts"], 1,
            "the dead worker recorded nothing: {row}"
        );
    }
    let ids: HashSet<String> = rows
        .iter()
        .map(|r| format!("{}@voter-meetings", r["id"].as_str().expect("id")))
        .collect();
    second.stop().await;
    let delivered = message_ids(&sink.messages());
    let distinct: HashSet<String> = delivered.iter().cloned().collect();
    assert_eq!(delivered.len(), 20, "each email once by the live worker");
    assert_eq!(distinct, ids, "nothing lost");
    assert!(
        in_flight.is_subset(&ids),
        "the unrecorded sends were repeated with the same Message-ID"
    );
}

#[actix_web::test]
async fn an_outcome_is_recorded_once_and_never_under_a_lease_the_worker_lost() {
    let s = scene(|settings| settings.outbox.enabled = false).await;
    s.candidate("Lý Thị Lan", "lan@example.vn", "vi").await;
    s.candidate("Hồ Văn Nam", "nam@example.vn", "vi").await;
    assert_eq!(fan_out(&s.app, s.election).await, 2);
    let mut conn = s.app.conn();
    let worker = Uuid::now_v7();
    db_outbox::heartbeat(&mut conn, worker).expect("a heartbeat");
    let claimed = db_outbox::claim_due(&mut conn, worker, 2, 300.0).expect("a claim");
    let [sent, retried] = claimed.as_slice() else {
        panic!("two claimed: {claimed:?}");
    };
    let attempts = |id: Uuid| {
        s.app.count(&format!(
            "SELECT count(*) AS n FROM outbox_attempts WHERE outbox_id = '{id}'"
        ))
    };

    // Another worker took the row over: its lease is not this one.
    let mut lost = sent.lease();
    lost.until += chrono::Duration::microseconds(1);
    let recorded = db_outbox::record(&mut conn, lost, &Outcome::Sent).expect("recorded");
    assert!(!recorded, "a lost lease records nothing");
    assert_eq!(attempts(sent.id), 0);

    assert!(db_outbox::record(&mut conn, sent.lease(), &Outcome::Sent).expect("recorded"));
    assert!(
        !db_outbox::record(&mut conn, sent.lease(), &Outcome::Sent).expect("recorded"),
        "a second outcome for the same attempt is refused"
    );
    let retry = Outcome::Retry {
        error: "421 try later".into(),
        after_seconds: 60.0,
    };
    assert!(db_outbox::record(&mut conn, retried.lease(), &retry).expect("recorded"));
    s.app.expect_pending_mail();
    // Each kind of outcome is one statement kept prepared on the connection, however often it
    // runs (db::cached): the worker's record is not parsed and planned again per email.
    #[derive(diesel::QueryableByName)]
    struct Kept {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let kept: Kept = diesel::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT count(*) AS n FROM pg_prepared_statements \
             WHERE statement LIKE 'WITH recorded AS (%UPDATE outbox SET%'",
        ),
        &mut conn,
    )
    .expect("the connection's prepared statements");
    assert_eq!(kept.n, 2, "one prepared record for sent, one for a retry");

    let rows = states(&s.app).await;
    assert_eq!(rows[&sent.recipient], ("sent".to_owned(), 1, None));
    assert_eq!(
        rows[&retried.recipient],
        ("pending".to_owned(), 1, Some("421 try later".to_owned()))
    );
    assert_eq!((attempts(sent.id), attempts(retried.id)), (1, 1));
    assert_eq!(
        s.app.count(&format!(
            "SELECT count(*) AS n FROM outbox WHERE id = '{}' AND claimed_by IS NULL \
             AND next_attempt_at > now() + interval '50 seconds' AND sent_at IS NULL",
            retried.id
        )),
        1,
        "a retry is released and falls due later"
    );
    assert_eq!(
        s.app.count(&format!(
            "SELECT count(*) AS n FROM outbox WHERE id = '{}' AND sent_at IS NOT NULL",
            sent.id
        )),
        1
    );
}

#[actix_web::test]
async fn an_smtp_outage_loses_nothing_and_sends_nothing_twice() {
    let outage = Outage::start();
    let url = outage.url();
    let s = scene(|settings| settings.smtp_url = Some(url.into())).await;
    let mut queued = Vec::new();
    for (name, email) in [
        ("Phạm Minh Tuấn", "tuan@example.vn"),
        ("Võ Thị Sáu", "sau@example.vn"),
        ("Đặng Văn Ngữ", "ngu@example.vn"),
    ] {
        let candidate = s.candidate(name, email, "vi").await;
        s.meeting(
            &format!("Tiếp xúc cử tri cùng {name}"),
            morning(3 + queued.len() as i64),
            &[candidate],
        );
        queued.push(queue_schedule(&s.app, candidate).await);
    }

    // The server is down: each email stays pending, with the failed attempt on record.
    for id in &queued {
        let state = outbox_until(&s.app, *id, |v| v["attempts"].as_i64() >= Some(1)).await;
        assert_eq!(state["status"], "pending");
        assert!(
            state["last_error"].as_str().is_some_and(|e| !e.is_empty()),
            "{state}"
        );
        assert_eq!(state["delivery_attempts"][0]["outcome"], "retry");
        assert!(state["sent_at"].is_null());
    }

    // The server comes back on the same port: every email arrives, once.
    let sink = outage.end();
    for id in &queued {
        let state = sent(&s.app, *id).await;
        let attempts = state["delivery_attempts"].as_array().expect("attempts");
        assert_eq!(attempts.last().map(|a| &a["outcome"]), Some(&json!("sent")));
        assert!(attempts[..attempts.len() - 1]
            .iter()
            .all(|a| a["outcome"] == "retry"));
        assert_eq!(state["attempts"].as_u64(), Some(attempts.len() as u64));
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for id in message_ids(&sink.settled(&s.app).await) {
        *seen.entry(id).or_default() += 1;
    }
    let expected: HashMap<String, usize> = queued
        .iter()
        .map(|id| (format!("{id}@voter-meetings"), 1))
        .collect();
    assert_eq!(seen, expected);
}

#[actix_web::test]
async fn two_workers_on_one_database_share_the_emails_and_never_send_one_twice() {
    // Each instance sends to its own sink, so the sinks say which worker sent what; the
    // first instance's sink holds its deliveries until the second's has received one, so
    // that neither worker can take every email before the other starts.
    let latch = Latch::default();
    let second_sink = SmtpSink::builder().opens(&latch).start();
    let first_sink = SmtpSink::builder().waits_for(&latch).start();
    let first_url = first_sink.url();
    // Small batches make the two workers contend for the same rows.
    let s = scene(|settings| {
        settings.smtp_url = Some(first_url.into());
        settings.outbox.batch_size = 3;
    })
    .await;
    let second_url = second_sink.url();
    s.app.start_instance(|settings| {
        settings.smtp_url = Some(second_url.into());
        settings.database_pool_size = 4;
    });

    for n in 0..24 {
        s.candidate(
            &format!("Ứng cử viên số {n}"),
            &format!("ucv{n}@example.vn"),
            "vi",
        )
        .await;
    }
    assert_eq!(fan_out(&s.app, s.election).await, 24);

    let sent_rows = eventually("24 emails sent", || async {
        let rows = outbox(&s.app, "status=sent").await;
        if rows.len() == 24 {
            Ok(rows)
        } else {
            Err(rows.len())
        }
    })
    .await;
    assert!(
        sent_rows.iter().all(|r| r["attempts"] == 1),
        "each email was sent on its first attempt"
    );
    let by_first = message_ids(&first_sink.settled(&s.app).await);
    let by_second = message_ids(&second_sink.settled(&s.app).await);
    assert!(
        !by_first.is_empty() && !by_second.is_empty(),
        "both workers sent: {} and {}",
        by_first.len(),
        by_second.len()
    );
    let all: Vec<&String> = by_first.iter().chain(&by_second).collect();
    let distinct: HashSet<&String> = all.iter().copied().collect();
    assert_eq!((all.len(), distinct.len()), (24, 24));
}

/// Emails due now, written straight into an outbox no worker reads.
fn due_emails(db: &TestDatabase, n: usize) {
    use diesel::connection::SimpleConnection;
    use diesel::RunQueryDsl;
    let province = Uuid::now_v7();
    let mut conn = db.conn();
    conn.batch_execute(&format!(
        "INSERT INTO provinces (id, name) VALUES ('{province}', 'Tỉnh Hà Tĩnh');
         INSERT INTO regions (id, province_id, level, name, path)
         VALUES ('{province}', '{province}', 'province', 'Tỉnh Hà Tĩnh', ARRAY['{province}'::uuid])"
    ))
    .expect("a province");
    for i in 0..n {
        diesel::sql_query(format!(
            "INSERT INTO outbox (id, province_id, kind, recipient, subject, body_text, body_html)
             VALUES ('{}', '{province}', 'schedule', 'ucv{i}@example.vn', 'Lịch', 'x', '<p>x</p>')",
            Uuid::now_v7()
        ))
        .execute(&mut conn)
        .expect("an email");
    }
}

#[actix_web::test]
async fn two_workers_claiming_at_once_take_different_emails_without_waiting() {
    use diesel::{Connection, RunQueryDsl};
    let db = TestDatabase::clone_of(base_template());
    due_emails(&db, 8);
    let (mut first, mut second) = (db.conn(), db.conn());
    let (one, other) = (Uuid::now_v7(), Uuid::now_v7());
    // A claim that waited on the other's row locks would give up here instead of hanging.
    diesel::sql_query("SET statement_timeout = '5s'")
        .execute(&mut second)
        .expect("timeout");
    let (held, taken) = first
        .transaction(|first| {
            let held = claim_due(first, one, 3, 300.0)?;
            let taken = claim_due(&mut second, other, 3, 300.0)?;
            Ok::<_, crate::helpers::app::DbError>((held, taken))
        })
        .expect("both claims");
    assert_eq!((held.len(), taken.len()), (3, 3));
    let both: HashSet<&Uuid> = held.iter().chain(&taken).collect();
    assert_eq!(both.len(), 6, "{held:?} {taken:?}");
    // Claimed rows are leased: what is left is the rest, once.
    let rest = claim_due(&mut db.conn(), one, 10, 300.0).expect("the rest");
    assert_eq!(rest.len(), 2);
    assert!(rest.iter().all(|id| !both.contains(id)));
    assert!(claim_due(&mut db.conn(), other, 10, 300.0)
        .expect("nothing")
        .is_empty());
}
