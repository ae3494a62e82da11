-- Appends audit events that belong to no state change (refusals, key registrations, config loads).
-- KEYS[1] stream, KEYS[2] head; ARGV: count, then (body, digest midstate, index keys) triples
-- @include "append-audit.lua"
return append_audit(KEYS[1], KEYS[2], ARGV, 2, tonumber(ARGV[1]))
