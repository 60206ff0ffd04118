import { describeQStashError } from "../../qstash/client";
import { isOurs, isUnder } from "../../qstash/expected";
import type { CliContext } from "../context";
import { EXIT } from "../errors";
import { progress } from "../progress";
import { renderTable } from "../table";

/**
 * `pnpm qstash:cleanup [--yes] [--dry-run] [--json]`: deletes every schedule that is ours (our
 * prefix and a destination under APP_URL, the rule qstash:schedule deletes by) and nothing else,
 * after showing them and asking. For tearing an environment down; day to day, qstash:schedule
 * already deletes what left the registry.
 */
export async function cleanupCommand(ctx: CliContext, opts: { yes?: boolean; dryRun?: boolean; json?: boolean } = {}): Promise<number> {
  const { env, io } = ctx;
  const client = ctx.qstash();
  let prefixed;
  try {
    prefixed = (await client.schedules.list()).filter((s) => isOurs(env.schedulePrefix, s.scheduleId)).sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
  } catch (err) {
    io.err(`error: could not list schedules: ${describeQStashError(err, env.qstash.url)}`);
    return EXIT.failed;
  }
  // Our prefix but another destination: an environment whose prefix extends ours, or one sharing it.
  const ours = prefixed.filter((s) => isUnder(s.destination, env.appUrl));
  const kept = prefixed.filter((s) => !isUnder(s.destination, env.appUrl)).map((s) => ({ scheduleId: s.scheduleId, destination: s.destination }));
  for (const k of kept) {
    io.err(`note: ${k.scheduleId} left alone: it delivers to ${k.destination}, outside APP_URL ${env.appUrl}. To remove it, run qstash:cleanup with that environment's APP_URL and SCHEDULE_PREFIX.`);
  }
  const ids = ours.map((s) => s.scheduleId);
  if (ids.length === 0) {
    if (opts.json) io.out(JSON.stringify({ status: "nothing", deleted: [], kept }));
    else io.out(`No schedules with prefix "${env.schedulePrefix}" delivering under APP_URL ${env.appUrl} at ${env.qstash.url}: nothing to delete.`);
    return EXIT.ok;
  }
  if (!opts.json) {
    io.out(`Schedules with prefix "${env.schedulePrefix}" at ${env.qstash.url}:`);
    io.out(renderTable(["schedule", "cron", "destination"], ours.map((s) => [s.scheduleId, s.cron, s.destination]), io.columns));
  }
  if (opts.dryRun) {
    if (opts.json) io.out(JSON.stringify({ status: "dry-run", wouldDelete: ids, kept }, null, 2));
    else io.out(`Dry run: would delete ${ids.length} schedule(s); nothing else in the account is touched.`);
    return EXIT.ok;
  }
  if (!opts.yes) {
    if (!io.isTTY) {
      io.err("error: refusing to delete without confirmation: there is no terminal to ask. Pass --yes.");
      return EXIT.failed;
    }
    if (!(await io.confirm(`Delete these ${ids.length} schedule(s)?`))) {
      io.err("Nothing deleted.");
      return EXIT.failed;
    }
  }
  const bar = progress(io, ids.length, "deleting");
  const failed: string[] = [];
  const deleted: string[] = [];
  for (const id of ids) {
    try {
      await client.schedules.delete(id);
      deleted.push(id);
      if (!opts.json) io.out(`deleted ${id}`);
    } catch (err) {
      failed.push(id);
      io.err(`error: could not delete ${id}: ${describeQStashError(err, env.qstash.url)}`);
    }
    bar.tick(id);
  }
  bar.stop();
  if (opts.json) io.out(JSON.stringify({ status: failed.length ? "failed" : "deleted", deleted, failed, kept }, null, 2));
  else if (!failed.length) io.out(`Deleted ${deleted.length} schedule(s) with prefix "${env.schedulePrefix}".`);
  return failed.length ? EXIT.failed : EXIT.ok;
}
