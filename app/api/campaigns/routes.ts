import { appDeps, productHandlers } from "@/config/app";
import { campaignRoutes } from "@/products/campaigns/http/routes";

/** One set of handlers for the campaign routes below this folder. */
export const campaigns = productHandlers("campaigns", campaignRoutes(appDeps));
