import { appDeps } from "@/jobs/runtime";
import { razorpayWebhookRoute } from "@/lib/commerce/razorpay-webhook";

export const { POST } = razorpayWebhookRoute(appDeps);
