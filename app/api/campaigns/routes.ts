import { appDeps } from "@/jobs/runtime";
import { campaignRoutes } from "@/products/campaigns/http/routes";

/** One set of handlers for the campaign routes below this folder. */
export const campaigns = campaignRoutes(appDeps);
