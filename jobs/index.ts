import { schedules } from "@/config/qstash";
import { createRegistry } from "@/lib/jobs/registry";
import cleanupExpiredReservations from "./marketplace/cleanup-expired-reservations";
import heartbeat from "./system/heartbeat";
import keepAlive from "./system/keep-alive";

/** The one list of jobs. Add a job: one file under jobs/<domain>/, one line here. */
export const jobs = [keepAlive, heartbeat, cleanupExpiredReservations];

export const registry = createRegistry(jobs, schedules);
