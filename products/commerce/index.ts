import { defineProduct } from "@/lib/products";
import { COMMERCE_API, commerceEnv } from "./env";
import alertOrderAttention from "./jobs/alert-order-attention";
import checkStockLevels from "./jobs/check-stock-levels";
import cleanupInventoryLocks from "./jobs/cleanup-inventory-locks";
import cleanupNotifications from "./jobs/cleanup-notifications";
import cleanupPasswordResets from "./jobs/cleanup-password-resets";
import cleanupUnverifiedUsers from "./jobs/cleanup-unverified-users";
import dailySalesSummary from "./jobs/daily-sales-summary";
import reconcileStalePayments from "./jobs/reconcile-stale-payments";
import sendOrderEmail from "./jobs/send-order-email";
import { commerceProviders } from "./providers";
import { schedules } from "./schedules";
import { seed } from "./seed";

/** A jewellery shop on Razorpay: inventory holds, stale payments, order emails, stock alerts, a daily summary, oversold orders. */
export default defineProduct({
  name: "commerce",
  title: "Shop",
  summary: "A jewellery shop on Razorpay: inventory holds released, stale payments reconciled, order emails, stock alerts, a daily sales summary",
  jobs: [cleanupInventoryLocks, checkStockLevels, reconcileStalePayments, sendOrderEmail, alertOrderAttention, cleanupNotifications, cleanupPasswordResets, cleanupUnverifiedUsers, dailySalesSummary],
  schedules,
  env: commerceEnv,
  api: { path: "/api/commerce/orders/<id>/status", key: COMMERCE_API },
  providers: commerceProviders,
  vendors: ["Razorpay"],
  seed,
});
