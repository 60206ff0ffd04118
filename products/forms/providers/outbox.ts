import { idOf, type OutboxRecorder } from "@/lib/providers";
import type { VoiceProvider } from "./types";

/** A call is recorded, not placed: `pnpm dev` shows who would have been called, and when. */
export function outboxVoice(record: OutboxRecorder): VoiceProvider {
  return {
    async call({ customer, key }, signal) {
      await record("vapi", key, { to: customer.number, name: customer.name }, signal);
      return { id: idOf("call", key), status: "queued" };
    },
    async findCall(q, signal) {
      const found = (await record.find?.("vapi", { to: q.number }, { since: q.since, signal })) ?? [];
      return found.some((e) => e.key === q.key) ? { id: idOf("call", q.key), status: "queued" } : undefined;
    },
  };
}

