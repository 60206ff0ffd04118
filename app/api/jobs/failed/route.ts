import { appDeps } from "@/jobs/runtime";
import { failureRoute } from "@/lib/http/failure-route";

export const { POST } = failureRoute(appDeps);
