import { appDeps, productHandlers } from "@/config/app";
import { formsRoutes } from "@/products/forms/http/routes";

export const { create: POST } = productHandlers("forms", formsRoutes(appDeps));
export const maxDuration = 30; // seconds: two database calls and one QStash publish
