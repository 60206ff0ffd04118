import { appDeps } from "@/jobs/runtime";
import { razorpayWebhookRoute } from "@/products/commerce/http/razorpay-webhook";

export const { POST } = razorpayWebhookRoute(appDeps);
