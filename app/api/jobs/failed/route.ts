import { appDeps } from "@/config/app";
import { failureRoute } from "@/lib/http/failure-route";

export const { POST } = failureRoute(appDeps);
export const maxDuration = 60; // seconds: one signature check and one database call (tests/unit/max-duration.test.ts)
