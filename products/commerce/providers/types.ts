/** Razorpay as the shop's jobs see it: payments are read, never changed. */

/** A payment as Razorpay reports it (GET /v1/payments/:id); amounts in the smallest unit. */
export interface ProviderPayment {
  id: string;
  status: "created" | "authorized" | "captured" | "refunded" | "failed";
  orderId: string | null;
  /** Razorpay always answers one; the local stand-in only when one was recorded (then it is not checked). */
  amount?: number;
  currency: string;
}

export interface PaymentsProvider {
  /** Reads only: asking twice changes nothing at Razorpay. */
  fetchPayment(id: string, signal?: AbortSignal): Promise<ProviderPayment>;
}
