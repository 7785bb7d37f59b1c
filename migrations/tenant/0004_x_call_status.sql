-- Every X call is metered, failures too: the status X answered (0 = no answer). Charged calls are 2xx.
ALTER TABLE x_spend ADD COLUMN status INTEGER NOT NULL DEFAULT 200;
