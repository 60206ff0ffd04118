import { appDeps } from "@/jobs/runtime";
import { jobRoute } from "@/lib/http/job-route";

export const { GET, POST } = jobRoute("cron", appDeps);
