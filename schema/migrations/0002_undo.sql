-- Undo. An undo batch reverses every change of the batch it names
-- (undo_of): its audit rows are that batch's rows with old and new value
-- swapped, so an undo can itself be audited and undone. In changes,
-- old_value NULL means the batch created the user and new_value NULL means
-- the batch deleted it (an undo deletes the users the undone batch created).

ALTER TABLE batches
    ADD COLUMN deleted   integer NOT NULL DEFAULT 0, -- users an undo deleted
    ADD COLUMN withdrawn integer NOT NULL DEFAULT 0, -- unsent activation requests an undo withdrew
    ADD CONSTRAINT batches_undo_of FOREIGN KEY (tenant_id, undo_of) REFERENCES batches (tenant_id, id),
    ADD CONSTRAINT batches_undo_kind CHECK ((kind = 'undo') = (undo_of IS NOT NULL));

-- A batch is undone at most once.
CREATE UNIQUE INDEX batches_one_undo ON batches (tenant_id, undo_of) WHERE status = 'applied';
