import campaignNodeExecute from "./campaign-node-execute";
import campaignNodeTimeout from "./campaign-node-timeout";

/** The campaign product's jobs: both are event jobs (one-time messages, no schedule). */
export const campaignJobs = [campaignNodeExecute, campaignNodeTimeout];
