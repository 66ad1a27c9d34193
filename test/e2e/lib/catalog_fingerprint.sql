-- The number_wallet extension as the catalog sees it, one sorted line per fact:
-- member objects, functions (signature, body or C symbol, security, volatility,
-- pinned settings, privileges, comment), relations (kind, options, RLS,
-- privileges, comment, view text), columns, indexes, constraints, triggers,
-- policies, event triggers, the comment on every object of the schema (also
-- triggers, policies, constraints), the schema's privileges and the pg_dump
-- configuration. Two
-- databases whose outputs are equal have the same extension; `diff` shows
-- where they are not. Data (rows, sequence positions) is left out.
\pset format unaligned
\pset tuples_only on
SELECT line FROM (
  SELECT 'version ' || e.extversion || ' config ' ||
         coalesce((SELECT string_agg(c::regclass::text, ',' ORDER BY c::regclass::text) FROM unnest(e.extconfig) c), '')
    FROM pg_catalog.pg_extension e WHERE e.extname = 'number_wallet'
  UNION ALL
  SELECT 'member ' || pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
    FROM pg_catalog.pg_depend d
   WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
     AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'number_wallet')
  UNION ALL
  SELECT 'schema ' || n.nspname || ' acl ' || coalesce(n.nspacl::text, '-') || ' comment ' ||
         coalesce(pg_catalog.obj_description(n.oid, 'pg_namespace'), '-')
    FROM pg_catalog.pg_namespace n WHERE n.nspname = 'number_wallet'
  UNION ALL
  SELECT 'function ' || p.oid::regprocedure::text || ' args ' || pg_catalog.pg_get_function_arguments(p.oid) ||
         ' returns ' || pg_catalog.pg_get_function_result(p.oid) || ' lang ' || l.lanname ||
         ' volatile ' || p.provolatile::text || ' strict ' || p.proisstrict || ' secdef ' || p.prosecdef ||
         ' parallel ' || p.proparallel::text || ' config ' || coalesce(p.proconfig::text, '-') ||
         ' owner ' || p.proowner::regrole::text || ' acl ' || coalesce(p.proacl::text, '-') ||
         ' bin ' || coalesce(p.probin, '-') || ' src ' || md5(p.prosrc) ||
         ' comment ' || coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), '-')
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
   WHERE p.pronamespace = 'number_wallet'::regnamespace
  UNION ALL
  SELECT 'relation ' || c.relname || ' kind ' || c.relkind::text || ' options ' || coalesce(c.reloptions::text, '-') ||
         ' rls ' || c.relrowsecurity || '/' || c.relforcerowsecurity ||
         ' owner ' || c.relowner::regrole::text || ' acl ' || coalesce(c.relacl::text, '-') ||
         ' comment ' || coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), '-') ||
         CASE WHEN c.relkind = 'v' THEN ' view ' || md5(pg_catalog.pg_get_viewdef(c.oid)) ELSE '' END
    FROM pg_catalog.pg_class c WHERE c.relnamespace = 'number_wallet'::regnamespace
  UNION ALL
  SELECT 'column ' || c.relname || '.' || a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod) ||
         ' notnull ' || a.attnotnull || ' identity ' || coalesce(nullif(a.attidentity::text, ''), '-') ||
         ' generated ' || coalesce(nullif(a.attgenerated::text, ''), '-') ||
         ' default ' || coalesce(pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '-') ||
         ' comment ' || coalesce(pg_catalog.col_description(c.oid, a.attnum), '-')
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
   WHERE c.relnamespace = 'number_wallet'::regnamespace AND c.relkind IN ('r', 'v', 'p')
  UNION ALL
  SELECT 'index ' || pg_catalog.pg_get_indexdef(i.indexrelid)
    FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
   WHERE c.relnamespace = 'number_wallet'::regnamespace
  UNION ALL
  SELECT 'constraint ' || c.relname || '.' || k.conname || ' ' || pg_catalog.pg_get_constraintdef(k.oid)
    FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
   WHERE c.relnamespace = 'number_wallet'::regnamespace
  UNION ALL
  SELECT 'trigger ' || pg_catalog.pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
    FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
   WHERE c.relnamespace = 'number_wallet'::regnamespace AND NOT t.tgisinternal
  UNION ALL
  SELECT 'policy ' || p.tablename || '.' || p.policyname || ' ' || p.permissive || ' ' || p.cmd || ' ' ||
         p.roles::text || ' using ' || coalesce(p.qual, '-') || ' check ' || coalesce(p.with_check, '-')
    FROM pg_catalog.pg_policies p WHERE p.schemaname = 'number_wallet'
  UNION ALL
  SELECT 'event trigger ' || e.evtname || ' on ' || e.evtevent || ' tags ' || coalesce(e.evttags::text, '-') ||
         ' function ' || e.evtfoid::regprocedure::text || ' enabled ' || e.evtenabled::text ||
         ' comment ' || coalesce(pg_catalog.obj_description(e.oid, 'pg_event_trigger'), '-')
    FROM pg_catalog.pg_event_trigger e JOIN pg_catalog.pg_proc p ON p.oid = e.evtfoid
   WHERE p.pronamespace = 'number_wallet'::regnamespace
  UNION ALL
  SELECT 'comment ' || pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid) || ': ' || d.description
    FROM pg_catalog.pg_description d
   CROSS JOIN LATERAL pg_catalog.pg_identify_object(d.classoid, d.objoid, d.objsubid) i
   WHERE i.schema = 'number_wallet' OR (d.classoid = 'pg_catalog.pg_namespace'::regclass AND i.identity = 'number_wallet')
) facts(line)
ORDER BY line COLLATE "C";
