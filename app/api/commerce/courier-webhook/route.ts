import { appDeps, productHandlers } from "@/config/app";
import { courierWebhookRoute } from "@/products/commerce/http/courier-webhook";

export const { POST } = productHandlers("commerce", courierWebhookRoute(appDeps));
