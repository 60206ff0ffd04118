import { appDeps, productHandlers } from "@/config/app";
import { unsubscribeRoute } from "@/products/engagement/http/unsubscribe";

export const { GET } = productHandlers("engagement", unsubscribeRoute(appDeps));
