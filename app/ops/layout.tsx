import type { Viewport } from "next";

export const metadata = { title: "cronlayer ops", robots: { index: false, follow: false } };
export const viewport: Viewport = { width: "device-width", initialScale: 1 };

// Plain CSS in the page, no client code. Tables fit their page: cells wrap, low-priority columns
// (.lo) go below 1,100 px, and a table with class "cards" shows each row as a card on a phone.
const css = `
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa;line-height:1.4}
header{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;padding:.6rem 1rem;background:#1f2937;color:#fff}
header a{color:#fff;text-decoration:none;font-weight:600}
header .count{display:inline-block;min-width:1.2em;padding:0 .35em;border-radius:1em;background:#c33;color:#fff;text-align:center;font-size:.85em}
header form{margin-left:auto}
main{padding:1rem;max-width:1600px;margin:0 auto}
h1{margin:.2rem 0 .6rem}h2{margin:1rem 0 .5rem;font-size:1.2rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid #ddd;background:#fff}
table{border-collapse:collapse;width:100%;font-size:.9rem;background:#fff}
th,td{padding:.4rem .55rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{overflow-wrap:normal}th a{color:inherit}
#jobs td[data-label=product]{overflow-wrap:normal}
td.wrap{min-width:10rem}
.when time{white-space:nowrap}
.tz{display:inline-block;margin-left:.4em;color:#555;font-size:.85em;white-space:nowrap}
.badges{display:inline-flex;flex-wrap:wrap;gap:.2rem;vertical-align:middle}
.badge{padding:0 .4rem;border-radius:3px;font-size:.8rem;font-weight:600;background:#eee;white-space:nowrap}
.badge.failing,.badge.incident{background:#f8d7d7;color:#8a1f1f}.badge.paused{background:#e5e7eb;color:#374151}
.badge.drifted,.badge.missed{background:#fff3c4;color:#7a4a00}.badge.active{background:#d8f0de;color:#1d5b2c;font-weight:400}
tr.row-failing td:first-child{box-shadow:inset 3px 0 #c33}
.overview{padding:.6rem 1rem;border-radius:6px;margin:.5rem 0 1rem;border:1px solid}
.overview.clear{background:#e6f4ea;border-color:#9cd3ab}.overview.attention{background:#fdf1f1;border-color:#e4a5a5}
.overview h2{margin:.2rem 0 .4rem}.overview ul{margin:.3rem 0;padding-left:1.2rem}.overview li{margin:.15rem 0}
.filters{display:flex;flex-wrap:wrap;gap:.3rem .8rem;align-items:center;margin:.4rem 0}
button{font:inherit;padding:.35rem .8rem;border:1px solid #888;border-radius:4px;background:#fff;cursor:pointer;min-height:2.2rem}
button.danger{border-color:#b33;color:#b33}
form.inline{display:inline}div.actions{margin:1em 0}
.flash{padding:.5rem .75rem;border-radius:4px}.ok{background:#e6f4ea}.bad{background:#fde8e8}
.st{padding:0 .35rem;border-radius:3px;background:#eee}.st-succeeded{background:#d8f0de}.st-failed,.st-abandoned{background:#f8d7d7}.st-running,.st-unknown{background:#fff3c4}
.warn{color:#a15c00;font-weight:600}.missed{background:#fff3c4}
pre{white-space:pre-wrap;word-break:break-word;background:#fff;border:1px solid #ddd;padding:.5rem;max-height:20rem;overflow:auto}
input,select{font:inherit;padding:.3rem;min-height:2.2rem;max-width:100%}
label{display:inline-block;margin:.2rem .5rem .2rem 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem}dt{font-weight:600}dd{margin:0;word-break:break-word}
@media (max-width:1100px){.lo{display:none}}
@media (max-width:720px){
  table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:auto}
  table.cards thead{display:none}
  table.cards tr{border:1px solid #ddd;border-radius:6px;margin:0 0 .6rem;padding:.3rem .5rem;background:#fff}
  table.cards td{border:0;padding:.15rem 0;display:grid;grid-template-columns:7.5rem 1fr;gap:.5rem}
  table.cards td::before{content:attr(data-label);color:#666;font-size:.85em}
  table.cards td.lo{display:none}
  table.cards td:first-child{font-weight:600}
}
`;

export default function OpsLayout({ children }: { children: React.ReactNode }) {
  return (
    <>
      <style>{css}</style>
      {children}
    </>
  );
}
