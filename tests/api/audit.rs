//! `/audit`: every mutation is recorded; only admins read it.

use crate::helpers::{spawn_app, Role};

#[actix_web::test]
async fn every_creation_is_audited_with_its_actor() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let election = app.election().await;
    let unit = app
        .unit(election, tree.province, "national_assembly", "Đơn vị số 1")
        .await;
    let candidate = app.candidate(unit, "Phạm Văn D", "d@example.vn").await;
    for (id, entity) in [
        (tree.commune, "region"),
        (election, "election"),
        (unit, "electoral_unit"),
        (candidate, "candidate"),
    ] {
        let audit = app.get(&format!("/audit?entity_id={id}"), &app.admin).await;
        let items = audit.ok(200)["items"].as_array().expect("items").clone();
        assert_eq!(items.len(), 1, "{entity}");
        assert_eq!(items[0]["entity_type"], entity);
        assert_eq!(items[0]["action"], "create");
        assert_eq!(items[0]["after"]["id"], id.to_string());
        assert!(items[0]["before"].is_null());
    }
}

#[actix_web::test]
async fn only_admins_read_the_audit_log() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let observer = app.token(Role::Observer, None);
    let organizer = app.token(Role::Organizer, Some(tree.province));
    app.get("/audit", &observer).await.problem(403, "forbidden");
    app.get("/audit", &organizer)
        .await
        .problem(403, "forbidden");
}
