import type { Viewport } from "next";

export const metadata = { title: "cronlayer ops", robots: { index: false, follow: false } };
export const viewport: Viewport = { width: "device-width", initialScale: 1 };

// Plain CSS in the page: no client code, readable on a phone (tables scroll sideways in their box).
const css = `
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa;line-height:1.4}
header{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;padding:.6rem 1rem;background:#1f2937;color:#fff}
header a{color:#fff;text-decoration:none;font-weight:600}
header form{margin-left:auto}
main{padding:1rem;max-width:1600px;margin:0 auto}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid #ddd;background:#fff}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:.4rem .55rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top;white-space:nowrap}th{white-space:normal}
td.wrap{white-space:normal;min-width:14rem}
#jobs td:first-child,#jobs th:first-child{position:sticky;left:0;background:#fff}
button{font:inherit;padding:.35rem .8rem;border:1px solid #888;border-radius:4px;background:#fff;cursor:pointer;min-height:2.2rem}
button.danger{border-color:#b33;color:#b33}
form.inline{display:inline}div.actions{margin:1em 0}
.flash{padding:.5rem .75rem;border-radius:4px}.ok{background:#e6f4ea}.bad{background:#fde8e8}
.st{padding:0 .35rem;border-radius:3px;background:#eee}.st-succeeded{background:#d8f0de}.st-failed{background:#f8d7d7}.st-running{background:#fff3c4}
.warn{color:#a15c00;font-weight:600}.missed{background:#fff3c4}
pre{white-space:pre-wrap;word-break:break-word;background:#fff;border:1px solid #ddd;padding:.5rem;max-height:20rem;overflow:auto}
input,select{font:inherit;padding:.3rem;min-height:2.2rem}
label{display:inline-block;margin:.2rem .5rem .2rem 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem}dt{font-weight:600}dd{margin:0;word-break:break-word}
`;

export default function OpsLayout({ children }: { children: React.ReactNode }) {
  return (
    <>
      <style>{css}</style>
      {children}
    </>
  );
}
