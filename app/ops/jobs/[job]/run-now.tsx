import { z } from "zod";
import type { JobDefinition } from "@/lib/jobs/define";

/** The payload's shape, from the job's zod schema, as a hint beside the field; none when zod cannot say. */
function shapeOf(schema: z.ZodType): string | undefined {
  try {
    const { $schema: _, ...shape } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
    return JSON.stringify(shape, null, 2);
  } catch {
    return undefined;
  }
}

/**
 * Run now, after a confirmation, with a payload checked by the job's schema (lib/ops/actions.ts).
 * An empty field is the empty payload, what the schedule sends. A refused payload comes back in
 * the URL with the schema's complaint, so the text is not lost.
 */
export function RunNow({ def, job, csrf, confirm, payload, error }: { def: JobDefinition; job: string; csrf: string; confirm: boolean; payload?: string; error?: string }) {
  if (!confirm) return <a href={`/ops/jobs/${job}?confirm=run#run-now`}><button type="button">Run now…</button></a>;
  const empty = def.payload.safeParse({}).success;
  const shape = shapeOf(def.payload);
  return (
    <form method="post" action="/ops/actions/run" id="run-now" className="flash bad">
      <input type="hidden" name="csrf" value={csrf} />
      <input type="hidden" name="job" value={job} />
      <p>Run {job} now? It runs here as a manual run, under its overlap policy.</p>
      <label htmlFor="payload">payload (JSON{empty ? "; empty runs it as the schedule does" : ", required"})</label>
      <br />
      <textarea id="payload" name="payload" rows={4} cols={60} style={{ maxWidth: "100%" }} defaultValue={payload ?? ""} placeholder={empty ? "{}" : undefined} aria-invalid={error ? true : undefined} aria-describedby={error ? "payload-error" : undefined} />
      {error && <p id="payload-error" role="alert" className="warn">{error}</p>}
      {shape && (
        <details>
          <summary>payload schema</summary>
          <pre>{shape}</pre>
        </details>
      )}
      <button type="submit">Yes, run now</button> <a href={`/ops/jobs/${job}`}>Cancel</a>
    </form>
  );
}
