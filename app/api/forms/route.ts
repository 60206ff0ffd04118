import { appDeps } from "@/jobs/runtime";
import { formsRoutes } from "@/products/forms/http/routes";

export const { create: POST } = formsRoutes(appDeps);
export const maxDuration = 30; // seconds: two database calls and one QStash publish
