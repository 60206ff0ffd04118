/**
 * The effect keys of engagement emails: what makes each one unique, the QStash deduplication id
 * of its message, Resend's idempotency key, and the key of its row in engagement_sends.
 */
export const practiceKey = (learnerId: string, localDate: string) => `practice:${learnerId}:${localDate}`;
export const founderKey = (learnerId: string, step: number) => `founder:${learnerId}:${step}`;

/**
 * QStash flow control shared by every message that ends in one email: at most `rate` deliveries a
 * second, however many planners publish (a free Resend plan allows 2 requests a second).
 */
export const emailFlowControl = (rate: number) => ({ key: "resend", rate, period: 1 });
