-- Emails and usernames are compared byte for byte (the "C" collation).
-- ccbulk stores emails lower-cased (rules.ParseEmail) and compares
-- usernames by their lower-case key, so a linguistic collation gave them
-- nothing: only equality and a stable order matter, and the "C" order (code
-- point order, for UTF-8) is the same on every server whatever its locale.
-- It is also cheaper: under any other collation every B-tree insert and
-- probe on these keys compares them with strcoll() (a million keys inserted
-- in order into a primary key: 7.3 s, 5.1 s in "C", on a C.UTF-8 server).
ALTER TABLE users
    ALTER COLUMN email TYPE text COLLATE "C",
    ALTER COLUMN username_key TYPE text COLLATE "C";
ALTER TABLE activation_outbox ALTER COLUMN email TYPE text COLLATE "C";
