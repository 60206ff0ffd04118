import { campaigns } from "../routes";

export const GET = campaigns.get;
