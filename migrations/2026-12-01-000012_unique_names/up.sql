-- SPEC §2 Text: names that must be unique are unique case-insensitively after NFC — a
-- region among its siblings, a venue in its region, a unit in its election (per body and
-- region, as before), a candidate's email in a unit. The service stores names trimmed and
-- in NFC already; the indexes normalize again so that rows written by any other path are
-- held to the same rule. lower() folds by the database's LC_CTYPE (C.UTF-8 and the usual
-- UTF-8 locales fold Vietnamese letters).

-- Provinces have no parent: their names are unique nationwide, like their codes
-- (regions_province_code_unique), the other rule that cannot include province_id.
CREATE UNIQUE INDEX regions_province_name_unique
    ON regions (lower(normalize(name, NFC))) WHERE level = 'province';
CREATE UNIQUE INDEX regions_name_unique
    ON regions (province_id, parent_id, lower(normalize(name, NFC))) WHERE parent_id IS NOT NULL;
CREATE UNIQUE INDEX electoral_units_folded_name_unique
    ON electoral_units (province_id, election_id, body, region_id, lower(normalize(name, NFC)));
CREATE UNIQUE INDEX candidates_folded_email_unique
    ON candidates (province_id, electoral_unit_id, lower(email));
CREATE UNIQUE INDEX venues_folded_name_unique
    ON venues (province_id, region_id, lower(normalize(name, NFC)));
