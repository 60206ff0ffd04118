import { appDeps } from "@/jobs/runtime";
import { diagnosticsRoute } from "@/lib/http/diagnostics-route";

export const { GET } = diagnosticsRoute(appDeps);
