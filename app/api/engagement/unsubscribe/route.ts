import { appDeps } from "@/jobs/runtime";
import { unsubscribeRoute } from "@/lib/engagement/unsubscribe-route";

export const { GET } = unsubscribeRoute(appDeps);
