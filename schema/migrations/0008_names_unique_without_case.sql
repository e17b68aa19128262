-- Identifiers are unique without regard to letter case (docs/REFERENCE.md §1, The model): tenant
-- ids, external organization ids, PBX names and CC role names (the last two
-- per tenant, so their indexes start with tenant_id, as every key of tenant
-- data does). A sheet may name them in any letter case, and two spellings of
-- one name would make that ambiguous: an external organization 'Northwind'
-- of kind other beside a partner 'northwind', or a role 'system default'
-- beside 'System Default' with other permissions. Names may not begin or
-- end with spaces and are at most 200 characters.
--
-- A database that already holds such names is refused, with the list of
-- them, before anything is changed: which of two spellings is the right one
-- is for the administrator to decide.
DO $$
DECLARE
    problems text[] := '{}';
    found    text;
BEGIN
    SELECT string_agg(ids, '; ' ORDER BY ids) INTO found
    FROM (SELECT string_agg(id, '/' ORDER BY id) AS ids FROM tenants GROUP BY lower(id) HAVING count(*) > 1) AS d;
    IF found IS NOT NULL THEN
        problems := problems || ('tenant ids that differ only in letter case: ' || found);
    END IF;

    SELECT string_agg(ids, '; ' ORDER BY ids) INTO found
    FROM (SELECT string_agg(id, '/' ORDER BY id) AS ids FROM external_orgs GROUP BY lower(id) HAVING count(*) > 1) AS d;
    IF found IS NOT NULL THEN
        problems := problems || ('external organization ids that differ only in letter case: ' || found);
    END IF;

    SELECT string_agg(names, '; ' ORDER BY names) INTO found
    FROM (SELECT string_agg(name, '/' ORDER BY name) || ' in ' || tenant_id AS names
          FROM pbxes GROUP BY tenant_id, lower(name) HAVING count(*) > 1) AS d;
    IF found IS NOT NULL THEN
        problems := problems || ('PBX names that differ only in letter case: ' || found);
    END IF;

    SELECT string_agg(names, '; ' ORDER BY names) INTO found
    FROM (SELECT string_agg(name, '/' ORDER BY name) || ' in ' || tenant_id AS names
          FROM cc_roles GROUP BY tenant_id, lower(name) HAVING count(*) > 1) AS d;
    IF found IS NOT NULL THEN
        problems := problems || ('CC role names that differ only in letter case: ' || found);
    END IF;

    SELECT string_agg(what, '; ' ORDER BY what) INTO found
    FROM (SELECT 'tenant ' || quote_literal(id) AS what FROM tenants WHERE id <> btrim(id) OR length(id) > 200
          UNION ALL
          SELECT 'external organization ' || quote_literal(id) FROM external_orgs WHERE id <> btrim(id) OR length(id) > 200
          UNION ALL
          SELECT 'PBX ' || quote_literal(name) || ' in ' || tenant_id FROM pbxes WHERE name <> btrim(name) OR length(name) > 200
          UNION ALL
          SELECT 'CC role ' || quote_literal(name) || ' in ' || tenant_id FROM cc_roles WHERE name <> btrim(name) OR length(name) > 200) AS d;
    IF found IS NOT NULL THEN
        problems := problems || ('names that begin or end with spaces or are longer than 200 characters: ' || found);
    END IF;

    IF cardinality(problems) > 0 THEN
        RAISE EXCEPTION USING
            MESSAGE = array_to_string(problems, '; ') || '; rename one of each pair (and each name listed), then run ccbulk migrate again';
    END IF;
END $$;

CREATE UNIQUE INDEX tenants_id_without_case ON tenants (lower(id));
CREATE UNIQUE INDEX external_orgs_id_without_case ON external_orgs (lower(id));
CREATE UNIQUE INDEX pbxes_name_without_case ON pbxes (tenant_id, lower(name));
CREATE UNIQUE INDEX cc_roles_name_without_case ON cc_roles (tenant_id, lower(name));

ALTER TABLE tenants ADD CONSTRAINT tenants_id_trimmed CHECK (id = btrim(id) AND length(id) <= 200);
ALTER TABLE external_orgs ADD CONSTRAINT external_orgs_id_trimmed CHECK (id = btrim(id) AND length(id) <= 200);
ALTER TABLE pbxes ADD CONSTRAINT pbxes_name_trimmed CHECK (name = btrim(name) AND length(name) <= 200);
ALTER TABLE cc_roles ADD CONSTRAINT cc_roles_name_trimmed CHECK (name = btrim(name) AND length(name) <= 200);
