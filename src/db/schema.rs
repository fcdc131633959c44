// @generated automatically by Diesel CLI.

diesel::table! {
    api_tokens (id) {
        id -> Uuid,
        name -> Text,
        role -> Text,
        region_id -> Nullable<Uuid>,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    attendance_reports (id, province_id) {
        id -> Uuid,
        province_id -> Uuid,
        meeting_id -> Uuid,
        revision -> Int4,
        attendees -> Int4,
        online_attendees -> Nullable<Int4>,
        sites -> Jsonb,
        opinions_count -> Int4,
        opinions -> Jsonb,
        notes -> Nullable<Text>,
        correction_reason -> Nullable<Text>,
        late -> Bool,
        filed_at -> Timestamptz,
        filed_by -> Nullable<Uuid>,
        filed_after_deadline -> Bool,
    }
}

diesel::table! {
    audit_log (id, province_id) {
        id -> Int8,
        province_id -> Uuid,
        actor_id -> Nullable<Uuid>,
        actor_name -> Text,
        action -> Text,
        entity_type -> Text,
        entity_id -> Uuid,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
        at -> Timestamptz,
        entry_id -> Uuid,
    }
}

diesel::table! {
    calendar_links (province_id, candidate_id) {
        province_id -> Uuid,
        candidate_id -> Uuid,
        nonce -> Text,
        secret_hash -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    candidates (id, province_id) {
        id -> Uuid,
        province_id -> Uuid,
        electoral_unit_id -> Uuid,
        full_name -> Text,
        email -> Text,
        locale -> Text,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    console_sessions (id_hash) {
        id_hash -> Bytea,
        token_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    elections (id) {
        id -> Uuid,
        name -> Text,
        polling_starts_at -> Timestamptz,
        campaign_starts_at -> Timestamptz,
        timezone -> Text,
        report_deadline_hours -> Int4,
        min_meetings_per_candidate -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    electoral_units (id, province_id) {
        id -> Uuid,
        province_id -> Uuid,
        election_id -> Uuid,
        region_id -> Uuid,
        name -> Text,
        body -> Text,
        seats -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    health_rules (id, province_id) {
        id -> Uuid,
        province_id -> Uuid,
        region_id -> Uuid,
        effective_from -> Timestamptz,
        effective_until -> Nullable<Timestamptz>,
        applies_to -> Text,
        max_attendees -> Nullable<Int4>,
        max_occupancy_percent -> Nullable<Int4>,
        min_area_per_person_m2 -> Nullable<Float8>,
        combine -> Text,
        reference -> Nullable<Text>,
        in_person_allowed -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (token_id, key) {
        token_id -> Uuid,
        key -> Text,
        request_hash -> Bytea,
        status -> Int2,
        response -> Jsonb,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    meeting_candidates (meeting_id, candidate_id, province_id) {
        meeting_id -> Uuid,
        candidate_id -> Uuid,
        province_id -> Uuid,
        busy -> Tstzrange,
        active -> Bool,
    }
}

diesel::table! {
    meeting_sites (id, province_id) {
        id -> Uuid,
        meeting_id -> Uuid,
        province_id -> Uuid,
        venue_id -> Uuid,
        expected_attendees -> Int4,
        effective_capacity -> Int4,
        binding_rule_id -> Nullable<Uuid>,
        present -> Int4,
        admitted -> Int4,
        during -> Tstzrange,
        active -> Bool,
        reported_attendees -> Nullable<Int4>,
    }
}

diesel::table! {
    meeting_units (meeting_id, electoral_unit_id, province_id) {
        meeting_id -> Uuid,
        electoral_unit_id -> Uuid,
        province_id -> Uuid,
    }
}

diesel::table! {
    meetings (id, province_id) {
        id -> Uuid,
        province_id -> Uuid,
        election_id -> Uuid,
        region_path -> Array<Uuid>,
        format -> Text,
        title -> Text,
        chair_name -> Nullable<Text>,
        chair_role -> Nullable<Text>,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        status -> Text,
        cancel_reason -> Nullable<Text>,
        online_platform -> Nullable<Text>,
        online_join_url -> Nullable<Text>,
        online_max_participants -> Nullable<Int4>,
        online_expected_attendees -> Nullable<Int4>,
        online_present -> Int4,
        online_admitted -> Int4,
        needs_attention -> Bool,
        attention -> Jsonb,
        version -> Int4,
        reported_attendees -> Nullable<Int4>,
        report_revision -> Nullable<Int4>,
        report_filed_at -> Nullable<Timestamptz>,
        report_late -> Nullable<Bool>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        reported_online_attendees -> Nullable<Int4>,
        actors -> Array<Uuid>,
        reach -> Array<Uuid>,
        search_text -> Text,
    }
}

diesel::table! {
    outbox (id, province_id) {
        id -> Uuid,
        province_id -> Uuid,
        kind -> Text,
        recipient -> Text,
        recipient_name -> Nullable<Text>,
        candidate_id -> Nullable<Uuid>,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        ics -> Nullable<Text>,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
        ics_method -> Nullable<Text>,
        claimed_by -> Nullable<Uuid>,
        attempts_before_retry -> Int4,
        fan_out_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    outbox_attempts (outbox_id, attempt, province_id) {
        province_id -> Uuid,
        outbox_id -> Uuid,
        attempt -> Int4,
        at -> Timestamptz,
        outcome -> Text,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    outbox_workers (id) {
        id -> Uuid,
        started_at -> Timestamptz,
        heartbeat_at -> Timestamptz,
    }
}

diesel::table! {
    provinces (id) {
        id -> Uuid,
        code -> Nullable<Text>,
        name -> Text,
    }
}

diesel::table! {
    regions (id, province_id) {
        id -> Uuid,
        province_id -> Uuid,
        parent_id -> Nullable<Uuid>,
        level -> Text,
        name -> Text,
        code -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        path -> Array<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    schedule_fan_outs (id) {
        id -> Uuid,
        election_id -> Uuid,
        region_id -> Nullable<Uuid>,
        province_id -> Nullable<Uuid>,
        queued -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    venues (id, province_id) {
        id -> Uuid,
        province_id -> Uuid,
        region_id -> Uuid,
        name -> Text,
        address -> Text,
        capacity -> Int4,
        area_m2 -> Nullable<Float8>,
        setting -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(console_sessions -> api_tokens (token_id));
diesel::joinable!(electoral_units -> elections (election_id));
diesel::joinable!(idempotency_keys -> api_tokens (token_id));
diesel::joinable!(meetings -> elections (election_id));
diesel::joinable!(meetings -> provinces (province_id));
diesel::joinable!(outbox -> provinces (province_id));
diesel::joinable!(regions -> provinces (province_id));
diesel::joinable!(schedule_fan_outs -> elections (election_id));
diesel::joinable!(schedule_fan_outs -> provinces (province_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_tokens,
    attendance_reports,
    audit_log,
    calendar_links,
    candidates,
    console_sessions,
    elections,
    electoral_units,
    health_rules,
    idempotency_keys,
    meeting_candidates,
    meeting_sites,
    meeting_units,
    meetings,
    outbox,
    outbox_attempts,
    outbox_workers,
    provinces,
    regions,
    schedule_fan_outs,
    venues,
);
