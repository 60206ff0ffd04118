import postgres from "postgres";

/** The bench's jobs: one event job that fans out (most runs), and scheduled jobs every 5 minutes. */
export const FANOUT = "bench-fanout";
export const SCHEDULED = Array.from({ length: 10 }, (_, i) => `bench-every-5-${i}`);
export const EFFECTS_JOB = FANOUT;

/** A seed's shape for `runs` runs (and as many effects): 90 % of the runs fan out over 100 days. */
export function shapeOf(runs: number) {
  const fanout = Math.round(runs * 0.9);
  return { runs, fanout, perScheduled: Math.floor((runs - fanout) / SCHEDULED.length), effects: runs, spanDays: 100 };
}

/**
 * Seeds `runs` runs and as many effects, set-based (generate_series), with the tables' indexes and
 * triggers set aside meanwhile and rebuilt after: a row-at-a-time load of 10 million would take
 * hours. The counters and rollups are then rebuilt from the rows, as the migration does.
 */
export async function seedLedger(url: string, runs: number, now: Date, log: (s: string) => void): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const s = shapeOf(runs);
  const spanMs = s.spanDays * 86_400_000;
  try {
    await sql`set maintenance_work_mem = '512MB'`;
    await sql`set synchronous_commit = off`;
    await sql`truncate job_runs, effects`;
    const indexes = await sql<{ table: string; name: string; def: string; pkey: boolean }[]>`
      select i.tablename as table, i.indexname as name, i.indexdef as def, c.contype is not null as pkey
        from pg_indexes i left join pg_constraint c on c.conname = i.indexname and c.contype = 'p'
       where i.schemaname = 'public' and i.tablename in ('job_runs', 'effects')`;
    for (const i of indexes) await sql.unsafe(i.pkey ? `alter table public.${i.table} drop constraint ${i.name}` : `drop index public.${i.name}`);
    // Triggers off: the rollups are rebuilt from the rows below, in one pass.
    await sql`set session_replication_role = replica`;
    let t = Date.now();
    await sql`
      insert into job_runs (job, trigger, status, message_id, started_at, finished_at, duration_ms, lag_ms)
      select ${FANOUT}, 'qstash',
             case when i % 100 < 97 then 'succeeded' when i % 100 < 99 then 'failed' else 'duplicate' end,
             'msg_seed_' || i, ts, ts + make_interval(secs => d / 1000.0), d, i % 5000
        from (select i, ${now}::timestamptz - make_interval(secs => (i::float8 * ${spanMs} / ${s.fanout}) / 1000) ts,
                     20 + (i::bigint * 7919) % 3000 d
                from generate_series(1, ${s.fanout}) i) x`;
    await sql`
      insert into job_runs (job, trigger, status, schedule_id, slot_at, started_at, finished_at, duration_ms, lag_ms)
      select j, 'qstash', case when k % 50 = 0 then 'failed' else 'succeeded' end, 'bench-' || j,
             slot, slot + interval '300 ms', slot + interval '300 ms' + make_interval(secs => d / 1000.0), d, 300
        from unnest(${SCHEDULED}::text[]) j,
             lateral (select k, date_trunc('minute', ${now}::timestamptz) - make_interval(mins => 5 * k) slot, 100 + (k::bigint * 131) % 2000 d
                        from generate_series(1, ${s.perScheduled}) k) x`;
    log(`  runs inserted: ${((Date.now() - t) / 1000).toFixed(0)} s`);
    t = Date.now();
    await sql`
      insert into effects (key, job, subject, status, attempts, created_at, updated_at, finished_at)
      select 'bench:' || i, ${EFFECTS_JOB}, 'subject-' || (i % 100000),
             case when i % 1000 = 0 then 'unknown' when i % 1000 = 1 then 'abandoned' else 'succeeded' end, 1, ts, ts,
             case when i % 1000 > 1 then ts end
        from (select i, ${now}::timestamptz - make_interval(secs => (i::float8 * ${spanMs} / ${s.effects}) / 1000) ts
                from generate_series(1, ${s.effects}) i) x`;
    log(`  effects inserted: ${((Date.now() - t) / 1000).toFixed(0)} s`);
    await sql`set session_replication_role = origin`;
    t = Date.now();
    for (const i of indexes) {
      await sql.unsafe(i.def);
      if (i.pkey) await sql.unsafe(`alter table public.${i.table} add constraint ${i.name} primary key using index ${i.name}`);
    }
    log(`  indexes rebuilt: ${((Date.now() - t) / 1000).toFixed(0)} s`);
    t = Date.now();
    await sql`select ledger_rollups_rebuild()`;
    await sql`vacuum analyze job_runs`;
    await sql`vacuum analyze effects`;
    await sql`vacuum analyze job_run_hours`;
    log(`  rollups rebuilt, vacuumed: ${((Date.now() - t) / 1000).toFixed(0)} s`);
  } finally {
    await sql.end();
  }
}
