-- A slot whose tick waits behind a running run (overlap buffer-one) has no run of its own yet:
-- it is on its way, recorded on the run it waits for (buffered_slot_at), not missed.
create or replace function public.schedule_slots_unseen(p_items jsonb)
returns jsonb
language sql stable as $$
  with wanted as (
    select i->>'job' as job, s::timestamptz as slot_at
      from jsonb_array_elements(p_items) i, jsonb_array_elements_text(i->'slots') s
     where not coalesce((i->>'after_last_run')::boolean, false)
        or s::timestamptz > coalesce((select max(r.slot_at) from public.job_runs r where r.job = i->>'job'), '-infinity')
  )
  select coalesce(jsonb_object_agg(job, slots), '{}'::jsonb) from (
    select w.job, jsonb_agg(w.slot_at order by w.slot_at) as slots
      from wanted w
     where not exists (select 1 from public.job_runs r where r.job = w.job and r.slot_at = w.slot_at)
       and not exists (select 1 from public.job_runs r where r.job = w.job and r.buffered_slot_at = w.slot_at)
       and not exists (select 1 from public.schedule_slots d where d.job = w.job and d.slot_at = w.slot_at)
     group by w.job
  ) x
$$;
