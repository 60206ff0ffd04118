import { appDeps } from "@/config/app";
import { jobRoute } from "@/lib/http/job-route";

export const { GET, POST, HEAD } = jobRoute("cron", appDeps);
export const maxDuration = 300; // seconds: the longest job timeout plus a margin, within Vercel Hobby's limit (tests/unit/max-duration.test.ts)
