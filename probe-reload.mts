import { chromium } from "playwright-core";
const url = process.argv[2]!;
const secs = Number(process.argv[3] ?? 10);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu"] });
const page = await browser.newPage();
let navs = 0;
page.on("framenavigated", (f) => { if (f === page.mainFrame()) navs++; });
page.on("console", (m) => console.log(`${new Date().toISOString().slice(11,19)} console.${m.type()}: ${m.text().slice(0, 200)}`));
page.on("pageerror", (e) => console.log(`pageerror: ${e.message.slice(0, 300)}`));
await page.goto(url);
for (let i = 0; i < secs / 5; i++) { await page.waitForTimeout(5_000); console.log(`${new Date().toISOString().slice(11,19)} navigations so far: ${navs}`); }
await browser.close();
