import { appDeps, productHandlers } from "@/config/app";
import { formsRoutes } from "@/products/forms/http/routes";

export const { get: GET, move: PATCH } = productHandlers("forms", formsRoutes(appDeps));
export const maxDuration = 30; // seconds: two database calls and a QStash cancel and publish
