import { appDeps } from "@/config/app";
import { diagnosticsRoute } from "@/lib/http/diagnostics-route";

export const { GET } = diagnosticsRoute(appDeps);
