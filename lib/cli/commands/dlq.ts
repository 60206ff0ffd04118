import { describeQStashError } from "../../qstash/client";
import { findDeadLetter, isFailureCallback, isOurDeadLetter, jobOfUrl, listDeadLetters, type DeadLetter } from "../../qstash/dlq";
import type { CliContext } from "../context";
import { EXIT } from "../errors";
import { when } from "../format";
import { progress } from "../progress";
import { renderTable } from "../table";

const short = (s: string | undefined, n = 80) => (!s ? "" : s.length > n ? `${s.slice(0, n - 1)}…` : s);
const jobText = (m: DeadLetter) => jobOfUrl(m.url) ?? (isFailureCallback(m.url) ? "(failure callback)" : m.url);
/** The last response, or why there was none (the local server says; the cloud has a status). */
const lastResponse = (m: DeadLetter) => m.responseBody ?? (m as DeadLetter & { error?: string }).error?.replace(`${m.method ?? "POST"} ${m.url}: `, "");

/** `pnpm qstash:dlq list [--all] [--job <job>] [--json]`: this deployment's dead letters (all with --all). */
export async function dlqListCommand(ctx: CliContext, opts: { all?: boolean; job?: string; json?: boolean } = {}): Promise<number> {
  let messages: DeadLetter[];
  try {
    messages = await listDeadLetters(ctx.qstash());
  } catch (err) {
    ctx.io.err(`error: could not list the DLQ: ${describeQStashError(err, ctx.env.qstash.url)}`);
    return EXIT.failed;
  }
  const shown = messages
    .filter((m) => opts.all || isOurDeadLetter(m, ctx.env.appUrl))
    .filter((m) => !opts.job || jobOfUrl(m.url) === opts.job)
    .sort((a, b) => b.createdAt - a.createdAt);
  if (opts.json) {
    ctx.io.out(JSON.stringify(shown, null, 2));
    return EXIT.ok;
  }
  if (shown.length === 0) {
    ctx.io.out(`The DLQ holds no dead letters${opts.all ? "" : ` for ${ctx.env.appUrl}`}${opts.job ? ` of job ${opts.job}` : ""}.`);
    return EXIT.ok;
  }
  const rows = shown.map((m) => [m.dlqId, jobText(m), m.responseStatus ?? "-", when(m.createdAt), m.scheduleId ?? "-", short(lastResponse(m), 60)]);
  ctx.io.out(renderTable(["dlq id", "job", "status", "created", "schedule", "last response"], rows, ctx.io.columns));
  ctx.io.out(`${shown.length} dead letter(s). pnpm qstash:dlq show <id> for one; retry <id...> delivers again; delete <id...> drops them.`);
  return EXIT.ok;
}

/** `pnpm qstash:dlq show <id> [--json]`. */
export async function dlqShowCommand(ctx: CliContext, dlqId: string, opts: { json?: boolean } = {}): Promise<number> {
  let m: DeadLetter | undefined;
  try {
    m = await findDeadLetter(ctx.qstash(), dlqId);
  } catch (err) {
    ctx.io.err(`error: could not read the DLQ: ${describeQStashError(err, ctx.env.qstash.url)}`);
    return EXIT.failed;
  }
  if (!m) {
    ctx.io.err(`error: no dead letter ${dlqId}: it was retried, deleted, or expired (the free plan keeps them 3 days). pnpm qstash:dlq list shows what is there.`);
    return EXIT.failed;
  }
  if (opts.json) {
    ctx.io.out(JSON.stringify(m, null, 2));
    return EXIT.ok;
  }
  const fields: [string, unknown][] = [
    ["dlq id", m.dlqId],
    ["message id", m.messageId],
    ["job", jobText(m)],
    ["url", `${m.method ?? "POST"} ${m.url}`],
    ["schedule", m.scheduleId ?? "-"],
    ["created", when(m.createdAt)],
    ["retries", m.maxRetries ?? "-"],
    ["last status", m.responseStatus ?? "-"],
    ["last response", lastResponse(m) ?? (m.responseBodyBase64 ? `(base64) ${m.responseBodyBase64}` : "-")],
    ["body", m.body ?? (m.bodyBase64 ? `(base64) ${m.bodyBase64}` : "-")],
  ];
  ctx.io.out(renderTable(["field", "value"], fields.map(([k, v]) => [k, String(v)]), ctx.io.columns));
  return EXIT.ok;
}

/** `retry <id...>` / `delete <id...>`: one request per id, so each id gets its own answer. */
export async function dlqActCommand(ctx: CliContext, action: "retry" | "delete", ids: string[], opts: { json?: boolean } = {}): Promise<number> {
  const client = ctx.qstash();
  const bar = progress(ctx.io, ids.length, action === "retry" ? "retrying" : "deleting");
  const results: { dlqId: string; ok: boolean; messageId?: string; error?: string }[] = [];
  for (const id of ids) {
    try {
      if (action === "retry") {
        const res = await client.dlq.retry(id);
        const messageId = res.responses[0]?.messageId;
        if (!messageId) throw new Error(`no such dead letter (QStash retried nothing)`);
        results.push({ dlqId: id, ok: true, messageId });
      } else {
        await client.dlq.delete(id);
        results.push({ dlqId: id, ok: true });
      }
    } catch (err) {
      results.push({ dlqId: id, ok: false, error: describeQStashError(err, ctx.env.qstash.url) });
    }
    bar.tick(id);
  }
  bar.stop();
  const failed = results.filter((r) => !r.ok);
  if (opts.json) ctx.io.out(JSON.stringify(results, null, 2));
  else {
    for (const r of results) {
      if (r.ok) ctx.io.out(action === "retry" ? `retried ${r.dlqId}: new message ${r.messageId}` : `deleted ${r.dlqId}`);
      else ctx.io.err(`error: could not ${action} ${r.dlqId}: ${r.error}`);
    }
    ctx.io.out(`${results.length - failed.length} of ${results.length} ${action === "retry" ? "retried" : "deleted"}.`);
  }
  return failed.length ? EXIT.failed : EXIT.ok;
}
