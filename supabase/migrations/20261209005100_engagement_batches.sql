-- Engagement emails go out in batches: a send job's message carries a page of up to 100
-- recipients (plan-practice-reminders, plan-founder-emails), and these read the page at delivery.

-- The page's learners whose reminder for their date is still wanted (as engagement_practice_target).
-- p_items: [{learnerId, localDate}]. In the page's order.
create or replace function public.engagement_practice_targets(p_items jsonb, p_now timestamptz)
returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('learner_id', l.id, 'email', l.email, 'name', l.name, 'language', l.language,
           'time_zone', l.time_zone, 'local_date', i.local_date) order by i.ord), '[]'::jsonb)
    from (select (x->>'learnerId')::uuid as learner_id, (x->>'localDate')::date as local_date, ord
            from jsonb_array_elements(p_items) with ordinality t (x, ord)) i
    join public.learners l on l.id = i.learner_id
   where l.reminders_opted_in and l.unsubscribed_at is null
     and (p_now at time zone l.time_zone)::date = i.local_date
     and (l.last_practised_at is null or (l.last_practised_at at time zone l.time_zone)::date < i.local_date)
     and not exists (select 1 from public.engagement_sends s where s.key = 'practice:' || l.id || ':' || i.local_date)
$$;

-- The page's learners whose founder email is still wanted (as engagement_founder_target).
-- p_items: [{learnerId, step}]. In the page's order.
create or replace function public.engagement_founder_targets(p_items jsonb)
returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('learner_id', l.id, 'email', l.email, 'name', l.name, 'language', l.language,
           'time_zone', l.time_zone, 'signed_up_at', l.signed_up_at, 'step', i.step) order by i.ord), '[]'::jsonb)
    from (select (x->>'learnerId')::uuid as learner_id, (x->>'step')::integer as step, ord
            from jsonb_array_elements(p_items) with ordinality t (x, ord)) i
    join public.learners l on l.id = i.learner_id
   where l.unsubscribed_at is null
     and not exists (select 1 from public.engagement_sends s where s.key = 'founder:' || l.id || ':' || i.step)
$$;

-- The recipients of a batch sent earlier, by effect key (`practice:<learner>:<date>`,
-- `founder:<learner>:<step>`), whatever they want now: a batch whose answer was lost is sent again
-- as it was, to learn what it did. A learner who no longer exists is left out.
create or replace function public.engagement_recipients(p_keys text[])
returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('key', k.key, 'learner_id', l.id, 'email', l.email, 'name', l.name, 'language', l.language,
           'time_zone', l.time_zone, 'signed_up_at', l.signed_up_at,
           'local_date', case when k.kind = 'practice' then k.part end,
           'step', case when k.kind = 'founder' then k.part::integer end) order by k.ord), '[]'::jsonb)
    from (select key, split_part(key, ':', 1) as kind, split_part(key, ':', 2) as learner, split_part(key, ':', 3) as part, ord
            from unnest(p_keys) with ordinality u (key, ord)) k
    join public.learners l on l.id::text = k.learner
$$;

-- Engagement emails were sent one per request, keyed by their effect, until now: one still in
-- question is recorded as such (since its first attempt: Resend's 24 h count from there), so its
-- retry asks Resend the way it was sent.
insert into public.effect_batches (key, job, keys, attempt_numbers, single, created_at)
select e.key, e.job, array[e.key], array[e.attempts], true, e.created_at
  from public.effects e
 where e.job in ('send-practice-reminder', 'send-founder-email') and e.status in ('unknown', 'claimed')
on conflict (key) do nothing;
