// Runs an extension's tests inside code-server's real extension host, with the workbench open in
// headless chromium (playwright-core). The test result comes back through the workbench's
// smoke-test driver hook `codeAutomationExit`; this process exits with it.
//   node runCodeServer.js EXTENSION_DIR TESTS_ENTRY WORKSPACE
// Env: LABBOOK_CS_ENTRY, LABBOOK_CS_NODE (from installHost.js), CHROMIUM (default /usr/bin/chromium),
//      LABBOOK_TEST_TIMEOUT_MS, LABBOOK_VERBOSE, LABBOOK_SCREENSHOT (a PNG path for the final workbench),
//      LABBOOK_TRUST_PROMPT (keep workspace trust on).
'use strict';
const fs = require('fs');
const path = require('path');
const util = require('util');
const { chromium } = require('playwright-core');
const { CHROMIUM_ARGS, startCodeServer } = require('./codeServer');

const [extDir, testsEntry, workspace] = process.argv.slice(2).map((p) => path.resolve(p));
const chrome = process.env.CHROMIUM || '/usr/bin/chromium';
const timeoutMs = Number(process.env.LABBOOK_TEST_TIMEOUT_MS || 300_000);
const verbose = !!process.env.LABBOOK_VERBOSE;

async function main() {
  const csEntry = process.env.LABBOOK_CS_ENTRY;
  const csNode = process.env.LABBOOK_CS_NODE;
  if (!csEntry || !csNode) throw new Error('LABBOOK_CS_ENTRY and LABBOOK_CS_NODE must be set (see test/harness/installHost.js)');
  if (!fs.existsSync(chrome)) throw new Error(`no chromium at ${chrome}: apt-get install chromium`);
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  const cs = await startCodeServer({
    node: csNode,
    csEntry,
    trustPrompt: !!process.env.LABBOOK_TRUST_PROMPT,
    onOutput: verbose ? (d) => process.stderr.write(`[code-server] ${d}`) : undefined,
  });
  console.log(`[host] code-server up on ${cs.authority} after ${elapsed()}`);

  let browser;
  let finished = false;
  const finish = async (code, why) => {
    if (finished) return;
    finished = true;
    if (why) console.error(`[host] ${why}`);
    try {
      await browser?.close();
    } catch {
      // already gone
    }
    cs.stop();
    console.log(`[host] exit ${code} after ${elapsed()}`);
    process.exit(code);
  };
  const timer = setTimeout(() => finish(124, `timed out after ${timeoutMs} ms\n${cs.output().slice(-4000)}`), timeoutMs);
  cs.proc.on('exit', (code) => finish(3, `code-server exited early (${code})\n${cs.output().slice(-4000)}`));

  browser = await chromium.launch({ executablePath: chrome, headless: true, env: cs.env, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const result = new Promise((resolve) => {
    void page.exposeFunction('codeAutomationLog', (_type, logArgs) => {
      const line = util.format(...(logArgs || []));
      // The workbench chatters ([AgentHost] …, its own stack traces); the tests' output is the rest.
      if (verbose || !(/^\[[A-Za-z]+\]/.test(line) || line.includes('/static/out/vs/'))) console.log(line);
    });
    void page.exposeFunction('codeAutomationExit', (code) => resolve(code));
  });
  page.on('pageerror', (e) => console.error(`[workbench error] ${e.message}`));
  if (verbose) page.on('console', (m) => console.error(`[workbench ${m.type()}] ${m.text()}`));
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${cs.authority}${extDir}`],
    ['extensionTestsPath', `vscode-remote://${cs.authority}${testsEntry}`],
    ['skipWelcome', 'true'],
  ];
  await page.goto(`http://${cs.authority}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  const code = await result;
  clearTimeout(timer);
  if (process.env.LABBOOK_SCREENSHOT) {
    await page.screenshot({ path: process.env.LABBOOK_SCREENSHOT }).catch((e) => console.error(`[host] screenshot failed: ${e.message}`));
  }
  await finish(code);
}

main().catch((e) => {
  console.error(`[host] ${e.stack || e}`);
  process.exit(1);
});
