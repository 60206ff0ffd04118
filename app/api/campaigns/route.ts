import { campaigns } from "./routes";

export const POST = campaigns.create;
