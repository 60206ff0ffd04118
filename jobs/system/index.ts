import type { Registry } from "@/lib/jobs/registry";
import heartbeat from "./heartbeat";
import { createKeepAlive } from "./keep-alive";
import retention from "./retention";
import { createWatchdog } from "./watchdog";

/** The layer's own jobs; keep-alive reads the registry they end up in (its schedules, products' upkeep, zoned entries). */
export function systemJobs(registry: () => Registry) {
  return [createKeepAlive({ schedules: () => registry().schedules, registry: async () => registry() }), heartbeat, retention, createWatchdog({ registry: async () => registry() })];
}
