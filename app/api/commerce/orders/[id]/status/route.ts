import { appDeps, productHandlers } from "@/config/app";
import { orderStatusRoute } from "@/products/commerce/http/order-status";

export const { POST } = productHandlers("commerce", orderStatusRoute(appDeps));
