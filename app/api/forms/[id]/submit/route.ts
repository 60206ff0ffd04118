import { appDeps } from "@/jobs/runtime";
import { formsRoutes } from "@/products/forms/http/routes";

export const { submit: POST } = formsRoutes(appDeps);
export const maxDuration = 30; // seconds: one database call and a QStash cancel
