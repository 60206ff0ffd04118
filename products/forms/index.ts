import { defineProduct } from "@/lib/products";
import { FORMS_API, formsEnv } from "./env";
import callForm from "./jobs/call-form";
import checkForms from "./jobs/check-forms";
import { formsProviders } from "./providers";
import { schedules } from "./schedules";
import { seed } from "./seed";

/** A clinic's forms: a deadline per form, and a voice call to the patient when it passes unsubmitted. */
export default defineProduct({
  name: "forms",
  title: "Forms",
  summary: "A clinic's forms with deadlines: a voice call (Vapi) to each patient whose form is overdue, exactly once",
  jobs: [checkForms, callForm],
  schedules,
  env: formsEnv,
  api: { path: "/api/forms", key: FORMS_API },
  providers: formsProviders,
  vendors: ["Vapi"],
  seed,
});
