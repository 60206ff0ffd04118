import { campaigns } from "../../../routes";

export const GET = campaigns.story;
