import { appDeps, productHandlers } from "@/config/app";
import { razorpayWebhookRoute } from "@/products/commerce/http/razorpay-webhook";

export const { POST } = productHandlers("commerce", razorpayWebhookRoute(appDeps));
