-- When this deployment first ran anything: a Vercel cron tick before it was never going to run
-- (`pnpm qstash:stats` on a new stack must not count it as missed). QStash schedules carry their
-- own creation time; Vercel crons have none, so the ledger's first run stands in for it.
create index if not exists job_runs_started_idx on public.job_runs (started_at);

create or replace function public.ledger_first_run() returns jsonb
language sql stable as $$
  select to_jsonb(min(started_at)) from public.job_runs
$$;
