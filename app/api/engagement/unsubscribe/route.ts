import { appDeps } from "@/jobs/runtime";
import { unsubscribeRoute } from "@/products/engagement/http/unsubscribe";

export const { GET } = unsubscribeRoute(appDeps);
