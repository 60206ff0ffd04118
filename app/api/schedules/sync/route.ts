import { appDeps } from "@/config/app";
import { schedulesSyncRoute } from "@/lib/http/schedules-sync-route";

export const { POST } = schedulesSyncRoute(appDeps);
export const maxDuration = 60; // seconds: two listings and one request per changed schedule
