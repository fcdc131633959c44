DROP FUNCTION check_in_online(uuid, integer, uuid[], timestamptz);
DROP FUNCTION check_in_site(uuid, uuid, integer, uuid[], timestamptz);
