import { describeError } from "@/lib/errors";
import type { JobContext } from "@/lib/jobs/define";
import type { Registry } from "@/lib/jobs/registry";
import { operatorClient } from "@/lib/qstash/client";
import { publishParked } from "@/lib/qstash/messages";

/** One-time messages parked past QStash's maximum delay that are now within range (lib/qstash/parked.ts). */
export async function parkedMessages(ctx: JobContext<unknown>, registry: Registry, other: string[]): Promise<unknown> {
  try {
    const r = await publishParked({ env: ctx.env, registry, db: ctx.db, client: operatorClient(ctx.env), log: ctx.log }, ctx.now);
    other.push(...r.errors.map((e) => `parked message not published, tried again at the next sweep: ${e}`));
    return r;
  } catch (err) {
    const why = describeError(err).message;
    other.push(`parked messages not swept, so those coming within QStash's maximum delay wait for the next sweep: ${why}`);
    return `not swept: ${why}`;
  }
}

