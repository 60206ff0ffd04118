import { defineProduct } from "@/lib/products";
import { engagementEnv } from "./env";
import planFounderEmails from "./jobs/plan-founder-emails";
import planPracticeReminders from "./jobs/plan-practice-reminders";
import sendFounderEmail from "./jobs/send-founder-email";
import sendPracticeReminder from "./jobs/send-practice-reminder";
import { schedules } from "./schedules";
import { seed } from "./seed";

/** A language app's learners: founder emails on days 1-3, a practice reminder at 09:00 in each learner's zone. */
export default defineProduct({
  name: "engagement",
  title: "Engagement emails",
  summary: "A language app's learners: founder emails on their first three days, a practice reminder at 09:00 in their own zone, one-click unsubscribe",
  jobs: [planPracticeReminders, sendPracticeReminder, planFounderEmails, sendFounderEmail],
  schedules,
  env: engagementEnv,
  seed,
});
