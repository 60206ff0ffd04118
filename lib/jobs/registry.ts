import type { ProductParts } from "./parts";
import type { JobDefinition, Overlap } from "./define";
import { bufferCheck, parseSchedules, type Schedule, type ScheduleEntry } from "./schedules";

export interface Registry {
  jobs: ReadonlyMap<string, JobDefinition>;
  schedules: readonly Schedule[];
  /** The enabled products' parts beyond their jobs: keep-alive steps, diagnostics sections, vendors. */
  products: readonly ProductParts[];
  get(name: string): JobDefinition | undefined;
  scheduleOf(name: string): Schedule | undefined;
  /** Timeout and overlap for a run: the schedule's override, else the job's own. */
  settingsOf(name: string): { timeoutMs: number; overlap: Overlap };
}

export function createRegistry(definitions: readonly JobDefinition[], entries: readonly ScheduleEntry[], products: readonly ProductParts[] = []): Registry {
  const jobs = new Map<string, JobDefinition>();
  for (const d of definitions) {
    if (jobs.has(d.name)) throw new Error(`Two jobs are named "${d.name}" (the layer's and the enabled products'): job names must be unique.`);
    jobs.set(d.name, d);
  }
  const schedules = parseSchedules(entries, [...jobs.keys()]);
  const byJob = new Map(schedules.map((s) => [s.job, s]));
  // A job's own buffer-one applies to its schedule when the entry does not override it.
  schedules.forEach((s, i) => s.overlap === undefined && bufferCheck(jobs.get(s.job)!.overlap, s.via, s.retries, `config/qstash.ts entry ${i + 1} (job "${s.job}")`));
  return {
    jobs,
    schedules,
    products,
    get: (name) => jobs.get(name),
    scheduleOf: (name) => byJob.get(name),
    settingsOf(name) {
      const job = jobs.get(name);
      if (!job) throw new Error(`unknown job "${name}"`);
      const s = byJob.get(name);
      return { timeoutMs: s?.timeoutMs ?? job.timeoutMs, overlap: s?.overlap ?? job.overlap };
    },
  };
}
