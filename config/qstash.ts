import type { ScheduleEntry } from "@/lib/jobs/schedules";
import type { Product } from "@/lib/products";

/**
 * The layer's own recurring jobs. A product's entries live in its folder (products/<name>/schedules.ts);
 * `pnpm qstash:schedule` syncs these plus the enabled products' to schedule ids `<SCHEDULE_PREFIX>-<job>`.
 * The `vercel` entry must match vercel.json (a test holds them together). Cron is UTC unless
 * prefixed with `CRON_TZ=<IANA zone> `.
 */
export const systemSchedules: ScheduleEntry[] = [
  {
    job: "keep-alive",
    via: "vercel",
    cron: "0 6 * * *",
    priority: "critical",
    description: "Heartbeat: database, Redis, tokens, caches, watchdog over the QStash jobs",
  },
  {
    // Every 10 minutes: a missed slot is found within 13 minutes (3 of grace), at 144 messages a day
    // (14% of the free plan's 1,000); every 5 would find it 5 minutes sooner at twice the messages.
    // Its :20 tick also runs retention, so the layer holds one of the free plan's 10 schedules.
    job: "watchdog",
    cron: "*/10 * * * *",
    retries: 2,
    priority: "high",
    catchUp: false,
    description: "Slots no delivery reached: caught up within their window, or reported missed; hourly, retention",
  },
  {
    // Retried (12 s, then 2.5 min later): a tick that lands while `pnpm dev` restarts Next (a
    // config change, "Add a product") would otherwise go to the dead letters for nothing.
    job: "heartbeat",
    cron: "* * * * *",
    only: "local",
    retries: 2,
    priority: "low",
    description: "Local only: proves the local stack fires schedules",
  },
];

/** Every schedule of a deployment: the layer's and its enabled products'. */
export const schedulesOf = (products: readonly Pick<Product, "schedules">[]): ScheduleEntry[] => [...systemSchedules, ...products.flatMap((p) => p.schedules)];
