// The browsers the page-level tests and the browser benchmarks run in, each behind the same small
// driver shape (freshProfile, removeProfile, launch(profile) → context { newPage, close }, and
// echoErrors(page, label)): Chromium through playwright-core, Firefox through selenium-webdriver
// and geckodriver (WebDriver BiDi). AKIDB_BROWSERS=chromium (or firefox) narrows a local run;
// the test command runs both.
import * as chromium from './chromium.mjs';
import * as firefox from './firefox.mjs';

export const DRIVERS = { chromium, firefox };

/** The browsers to run in: $AKIDB_BROWSERS (comma-separated), else all of them. */
export const BROWSERS = (process.env.AKIDB_BROWSERS ?? Object.keys(DRIVERS).join(','))
  .split(',')
  .map((b) => b.trim())
  .filter(Boolean);

for (const b of BROWSERS) if (!DRIVERS[b]) throw new Error(`AKIDB_BROWSERS: unknown browser ${b}`);

/** The driver module of `name` ('chromium' or 'firefox'). */
export function driver(name) {
  return DRIVERS[name];
}
