-- The desktop app's origin a "Connect X" attempt ends on (TRUSTED_ORIGINS, checked again at the end); NULL: the
-- server's own pages. Kept with the state row so a restart during the consent does not lose it.
ALTER TABLE x_oauth_states ADD COLUMN return_origin TEXT;
