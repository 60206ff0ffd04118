import { appDeps, productHandlers } from "@/config/app";
import { formsRoutes } from "@/products/forms/http/routes";

export const { submit: POST } = productHandlers("forms", formsRoutes(appDeps));
export const maxDuration = 30; // seconds: one database call and a QStash cancel
