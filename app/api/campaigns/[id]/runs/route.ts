import { campaigns } from "../../routes";

export const POST = campaigns.schedule;
export const PATCH = campaigns.reschedule;
export const DELETE = campaigns.cancel;
