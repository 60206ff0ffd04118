import { appDeps } from "@/jobs/runtime";
import { formsRoutes } from "@/lib/forms/http";

export const { create: POST } = formsRoutes(appDeps);
export const maxDuration = 30; // seconds: two database calls and one QStash publish
