import { appDeps } from "@/config/app";
import { metricsRoute } from "@/lib/ops/metrics-route";

export const { GET } = metricsRoute(appDeps);
export const dynamic = "force-dynamic";
export const maxDuration = 30; // seconds: one database call
