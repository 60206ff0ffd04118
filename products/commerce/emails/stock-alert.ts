import { escapeHtml, htmlFrame, type Email } from "@/lib/emails/layout";

export interface LowStockProduct {
  sku: string;
  name: string;
  stock: number;
  threshold: number;
}

/** One alert listing the products that newly fell to or below their threshold. */
export function stockAlertEmail(products: LowStockProduct[]): Email {
  const n = products.length;
  const subject = `Low stock: ${n} product${n === 1 ? "" : "s"} at or below threshold`;
  const lines = products.map((p) => `${p.name} (${p.sku}): ${p.stock} left, threshold ${p.threshold}`);
  const note = "You will not be alerted about these again until they have been restocked above their threshold.";
  return {
    subject,
    text: [...lines, "", note].join("\n"),
    html: htmlFrame(subject, [lines.map(escapeHtml).join("<br>"), escapeHtml(note)]),
  };
}
