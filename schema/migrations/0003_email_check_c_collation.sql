-- ccbulk lower-cases every email before it stores it (rules.ParseEmail,
-- with Go's Unicode tables) and compares emails only as stored. 0001 checked
-- email = lower(email) with the server's lower(), whose case tables depend on
-- the database's collation provider and its Unicode version: a server with
-- newer tables than Go's could lower a letter Go leaves as it is, and refuse
-- the whole batch at the insert. The check now folds ASCII letters only
-- (the "C" collation), which every server does the same way.
ALTER TABLE users DROP CONSTRAINT users_email_check;
ALTER TABLE users ADD CONSTRAINT users_email_check
    CHECK (email <> '' AND email = lower(email COLLATE "C") AND email = btrim(email));
